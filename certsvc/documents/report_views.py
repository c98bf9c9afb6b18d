"""Pages of the documents capability (filled by its helper)."""

from __future__ import annotations

from certsvc.documents.views import bp  # noqa: F401
