"""Trust anchor pages (filled by its helper)."""

from __future__ import annotations

from certsvc.registry.views import bp  # noqa: F401
