"""Untimed: the database migrated and seeded, the ERP user's token, and the SQL statements
one request of each kind runs (in-process).
"""

import sys
import uuid

from .load import BARE, BARE_KEYED, CREATE, create_body


def setup_database() -> str:
    """Migrate, seed, make the ERP user; returns its token."""
    import io

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from mesproject.roles import ERP_INTEGRATION

    call_command("migrate", verbosity=0)
    call_command("setup_roles", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    user = get_user_model().objects.create_user("erp-bench")
    user.groups.add(Group.objects.get(name=ERP_INTEGRATION))
    return Token.objects.create(user=user).key


def statements_per_request(token: str, samples: int = 5) -> dict[str, float]:
    """In-process, through the whole middleware stack: SQL statements per request of each
    kind (the Django test client; the same settings and URLconf as the gunicorn workers)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    counts: dict[str, list[int]] = {
        "bare insert": [],
        "bare insert + key": [],
        "create (new)": [],
        "create (replay)": [],
    }

    def post(path: str, body: bytes, key: str | None, expect: int, label: str) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, body, content_type="application/json", headers=headers)
        if response.status_code != expect:
            sys.exit(f"{label}: {response.status_code} {response.content[:300]!r}")
        counts[label].append(len(queries))

    for n in range(samples):
        post(BARE, b'{"title": "q"}', None, 201, "bare insert")
        post(BARE_KEYED, b'{"title": "q"}', str(uuid.uuid4()), 201, "bare insert + key")
        key, body = str(uuid.uuid4()), create_body(f"QPR-{n}")
        post(CREATE, body, key, 201, "create (new)")
        post(CREATE, body, key, 201, "create (replay)")
    return {label: sum(values) / len(values) for label, values in counts.items()}
