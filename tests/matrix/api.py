"""The JSON API and the API-token page. API routes are called with the role's own token."""

from tests.matrix_roles import EVERYONE

ROUTES = {
    "api.openapi": EVERYONE,
    "api.me": EVERYONE,
    "api.unknown": EVERYONE,
    "api_tokens.list_tokens": EVERYONE,
    "api_tokens.revoke_token": EVERYONE,
}


def targets(session, world) -> dict:
    return {"anything": "khong-co", "api_token_id": 987654}
