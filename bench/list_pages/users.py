"""What every page's setup shares: the Page, its signed-in user, a light floor."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

D = Decimal
DAY = date(2026, 3, 2)  # tests.execution.floor's DAY
PIN = "4711"
_seq = itertools.count(1)

AddRows = Callable[[int], None]


@dataclass
class Page:
    name: str
    role: str
    setup: Callable  # (client) -> (url, add_rows)
    stream: bool = False


def sign_in(client, role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(f"{role}-{next(_seq)}", password="x")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def light_floor(workers: int = 3):
    """tests/pages/test_supervisor.light_floor: one manual BOM line, no stock."""
    from tests.execution.floor import make_floor

    return make_floor(workers=workers, lines=[("BELL", "manual", 30, "1")], stock=0)
