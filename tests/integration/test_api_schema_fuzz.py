"""Schemathesis against the project's own OpenAPI schema: every API operation, generated
valid and invalid input, no 5xx and no answer the schema does not describe."""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mesproject.wsgi import application
from tests.api import token_client

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def token(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from integration.roles import ERP_INTEGRATION, OPERATOR, SUPERVISOR, roles_ensure

    roles_ensure()
    user = get_user_model().objects.create_user("fuzz")
    user.groups.add(*Group.objects.filter(name__in=[ERP_INTEGRATION, OPERATOR, SUPERVISOR]))
    client = token_client(user)
    return client._credentials["HTTP_AUTHORIZATION"]


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
)
def test_api(case, data, token):
    headers = {"Authorization": token}
    if case.method.upper() in WRITES:
        key = (case.headers or {}).get("Idempotency-Key")
        if key is None or not key.strip():
            headers["Idempotency-Key"] = str(uuid.uuid4())
    case.call_and_validate(headers=headers)
