"""JSON API of documents (filled by its helper)."""

from __future__ import annotations

from certsvc.api.views import bp  # noqa: F401
