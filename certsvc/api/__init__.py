"""The JSON API under /api/v1, authenticated by per-account API tokens."""
