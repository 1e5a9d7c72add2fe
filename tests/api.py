"""API clients that authenticate the way the ERP and terminals do: a DRF token."""

import uuid

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    """A client sending `Authorization: Token …` on every request."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def new_key() -> dict:
    """Headers with a fresh Idempotency-Key, for writes whose body carries no key."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def openapi_schema() -> dict:
    """The OpenAPI document the API serves at /api/schema/, as JSON."""
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def response_codes(schema: dict, path: str, method: str) -> set[str]:
    """The status codes the schema documents for one operation."""
    return set(schema["paths"][path][method]["responses"])
