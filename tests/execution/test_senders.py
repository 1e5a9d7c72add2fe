"""Who sent a registration: the PIN lockout counts atomically, a browser terminal posts only
for the worker signed in there, a terminal's own credential posts only for its resource's
jobs and its site's workers, and a registration's source comes from the credential."""

import threading
import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from execution.models import RawRegistration, Terminal, Worker
from execution.services.terminal import (
    PIN_MAX_FAILURES,
    pin_failures_reset,
    worker_check_pin,
    worker_set_pin,
)
from integration.scale_units import services as scale_units
from mesproject.errors import NotAllowed
from mesproject.roles import OPERATOR
from mesproject.workplace.roles import roles_ensure
from tests.api import token_client
from tests.execution.floor import make_floor
from tests.integration.helpers import role_user

PIN = "4711"
REGISTRATIONS = "/api/v1/registrations/"


# --- The PIN lockout ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_pins_are_checked_no_more_than_the_limit():
    floor = make_floor(stock=0, workers=1)
    worker = floor.workers[0]
    worker_set_pin(worker=worker, pin=PIN)
    pin_failures_reset(badge_id=worker.badge_id)
    start = threading.Barrier(24)
    outcomes: list[str] = []

    def guess(n: int):
        try:
            start.wait(10)
            try:
                found = worker_check_pin(badge_id=worker.badge_id, pin=f"{9000 + n}")
                outcomes.append("checked" if found is None else "signed in")
            except NotAllowed as refused:
                outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("checked") == PIN_MAX_FAILURES
    assert outcomes.count("pin_locked") == 24 - PIN_MAX_FAILURES
    # Locked: even the right PIN is not checked now.
    with pytest.raises(NotAllowed):
        worker_check_pin(badge_id=worker.badge_id, pin=PIN)
    pin_failures_reset(badge_id=worker.badge_id)


# --- Who sends: helpers -----------------------------------------------------------------------


def _body(kind: str, **fields) -> dict:
    body = {
        "registration_uuid": str(uuid.uuid4()),
        "kind": kind,
        "occurred_at": timezone.now().isoformat(),
    }
    for key, value in fields.items():
        if isinstance(value, Worker):
            value = value.badge_id
        elif isinstance(value, Terminal):
            value = value.code
        elif key == "job":
            value = value.pk
        elif key == "order":
            value = value.number
        body[key] = value
    return body


def _post(client, kind: str, **fields):
    return client.post(REGISTRATIONS, _body(kind, **fields), format="json")


def _code(response) -> str:
    return response.json()["code"]


def _token_of(terminal: Terminal) -> APIClient:
    out = StringIO()
    call_command("issue_terminal_token", terminal.code, stdout=out)
    code, key = out.getvalue().split()
    assert code == terminal.code
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def floor():
    floor = make_floor(stock=100)
    for worker in floor.workers:
        worker_set_pin(worker=worker, pin=PIN)
        pin_failures_reset(badge_id=worker.badge_id)
    return floor


@pytest.fixture
def other():
    """Another site, with its own workers and terminals."""
    return make_floor(stock=0, workers=1)


# --- A browser terminal over the API ------------------------------------------------------------


@pytest.fixture
def device(client, floor):
    """The terminal device's browser: the operator account, bound to the first terminal, the
    first worker signed in there with badge and PIN."""
    roles_ensure()
    user = get_user_model().objects.create_user(f"device-{uuid.uuid4().hex[:6]}", password="x")
    user.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(user)
    terminal = floor.terminals[0]
    response = client.post(
        reverse("terminal:sign_in", args=[terminal.code]),
        {"badge_id": floor.workers[0].badge_id, "pin": PIN},
    )
    assert response.status_code == 302
    return client


def _session_post(client, kind: str, **fields):
    return client.post(REGISTRATIONS, _body(kind, **fields), content_type="application/json")


@pytest.mark.django_db
def test_a_browser_terminal_posts_over_the_api_only_for_the_worker_signed_in_there(device, floor):
    signed_in, someone_else = floor.workers[0], floor.workers[1]
    refused = _session_post(device, "clock_in", badge_id=someone_else)
    assert refused.status_code == 403 and _code(refused) == "worker_not_signed_in"
    assert not RawRegistration.objects.filter(worker=someone_else).exists()
    # The worker signed in there: accepted, as that terminal.
    accepted = _session_post(device, "clock_in", badge_id=signed_in)
    assert accepted.status_code == 202, accepted.json()
    assert RawRegistration.objects.get(worker=signed_in).terminal == floor.terminals[0]
    # Another terminal named in the body is not this session's.
    refused = _session_post(device, "clock_out", badge_id=signed_in, terminal=floor.terminals[1])
    assert _code(refused) == "terminal_mismatch"
    # Signed out ("Done"): nobody's actions any more.
    device.post(reverse("terminal:sign_out", args=[floor.terminals[0].code]))
    refused = _session_post(device, "clock_out", badge_id=signed_in)
    assert refused.status_code == 403 and _code(refused) == "worker_not_signed_in"
    assert RawRegistration.objects.count() == 1


@pytest.mark.django_db
def test_a_browser_session_without_a_terminal_sign_in_posts_for_nobody(client, floor):
    roles_ensure()
    user = get_user_model().objects.create_user("bare-device", password="x")
    user.groups.add(Group.objects.get(name=OPERATOR))
    client.force_login(user)
    refused = _session_post(client, "clock_in", badge_id=floor.workers[0])
    assert refused.status_code == 403 and _code(refused) == "worker_not_signed_in"
    assert not RawRegistration.objects.exists()


@pytest.mark.django_db
def test_the_terminal_page_posts_only_for_its_resources_jobs(device, floor):
    order = floor.order(5)
    device.post(
        reverse("terminal:clock_in", args=[floor.terminals[0].code]),
        {"registration_uuid": str(uuid.uuid4())},
    )
    elsewhere = floor.job(order, 20)  # at the second resource
    response = device.post(
        reverse("terminal:progress", args=[floor.terminals[0].code, elsewhere.pk]),
        {"registration_uuid": str(uuid.uuid4()), "quantity_good": "1", "quantity_scrap": "0"},
        follow=True,
    )
    assert any("posts only for" in str(m) for m in response.context["messages"])
    assert not RawRegistration.objects.filter(job=elsewhere).exists()


# --- A terminal's own credential ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_terminal_token_posts_as_its_terminal_for_its_resource_and_site(floor, other):
    terminal = floor.terminals[0]
    client = _token_of(terminal)
    order = floor.order(5)
    worker = floor.workers[0]
    accepted = _post(client, "clock_in", badge_id=worker)
    assert accepted.status_code == 202, accepted.json()
    accepted = _post(client, "start_job", badge_id=worker, job=floor.job(order, 10))
    assert accepted.status_code == 202, accepted.json()
    stored = RawRegistration.objects.filter(worker=worker)
    assert {row.terminal for row in stored} == {terminal}
    assert {row.source for row in stored} == {"terminal"}
    before = RawRegistration.objects.count()
    cases = [
        (
            ("clock_in",),
            {"badge_id": floor.workers[1], "terminal": floor.terminals[1]},
            "terminal_mismatch",
        ),
        (
            ("start_job",),
            {"badge_id": floor.workers[1], "job": floor.job(order, 20)},
            "terminal_wrong_resource",
        ),
        (("clock_in",), {"badge_id": other.workers[0]}, "worker_wrong_site"),
        (
            ("report_as_finished",),
            {"badge_id": worker, "order": other.order(2), "quantity_good": "1"},
            "terminal_wrong_site",
        ),
        (
            ("clock_in",),
            {"badge_id": floor.workers[1], "resource": floor.resources[1].code},
            "terminal_wrong_resource",
        ),
    ]
    for (kind,), fields, code in cases:
        refused = _post(client, kind, **fields)
        assert refused.status_code == 403, (code, refused.json())
        assert _code(refused) == code
    assert RawRegistration.objects.count() == before


@pytest.mark.django_db
def test_a_new_token_replaces_the_old_and_an_inactive_terminal_posts_nothing(floor):
    terminal = floor.terminals[0]
    first = _token_of(terminal)
    second = _token_of(terminal)
    assert _post(first, "clock_in", badge_id=floor.workers[0]).status_code == 401
    terminal.refresh_from_db()
    assert terminal.user is not None and not terminal.user.has_usable_password()
    assert get_user_model().objects.filter(terminal=terminal).count() == 1
    Terminal.objects.filter(pk=terminal.pk).update(is_active=False)
    refused = _post(second, "clock_in", badge_id=floor.workers[0])
    assert refused.status_code == 403 and _code(refused) == "terminal_inactive"


@pytest.mark.django_db
def test_the_admin_action_issues_a_terminal_token(admin_client, floor):
    terminal = floor.terminals[1]
    response = admin_client.post(
        reverse("admin:execution_terminal_changelist"),
        {"action": "issue_token", "_selected_action": [terminal.pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    key = Token.objects.get(user__terminal=terminal).key
    assert any(key in message for message in shown)


def test_issue_terminal_token_refuses_an_unknown_code(db):
    with pytest.raises(CommandError):
        call_command("issue_terminal_token", "NO-SUCH-TERMINAL", stdout=StringIO())


# --- Other tokens: one site per registration -----------------------------------------------------


@pytest.mark.django_db
def test_an_operator_token_cannot_post_for_another_sites_worker_or_terminal(floor, other):
    operator = token_client(role_user(OPERATOR))
    order = floor.order(3)
    # A worker and a terminal of two sites, either way round; a worker on another site's job.
    for kind, fields in [
        ("clock_in", {"badge_id": other.workers[0], "terminal": floor.terminals[0]}),
        ("clock_in", {"badge_id": floor.workers[0], "terminal": other.terminals[0]}),
        ("start_job", {"badge_id": other.workers[0], "job": floor.job(order, 10)}),
    ]:
        refused = _post(operator, kind, **fields)
        assert refused.status_code == 403 and _code(refused) == "worker_wrong_site", fields
    refused = _post(
        operator,
        "start_job",
        badge_id=floor.workers[0],
        job=floor.job(order, 10),
        terminal=other.terminals[0],
    )
    assert refused.status_code == 403 and _code(refused) == "terminal_wrong_resource"
    refused = _post(
        operator,
        "report_as_finished",
        badge_id=floor.workers[0],
        order=order,
        terminal=other.terminals[0],
        quantity_good="1",
    )
    assert refused.status_code == 403 and _code(refused) == "terminal_wrong_site"
    assert not RawRegistration.objects.exists()
    # A coherent registration is accepted.
    accepted = _post(operator, "clock_in", badge_id=floor.workers[0], terminal=floor.terminals[0])
    assert accepted.status_code == 202


# --- The source comes from the credential ---------------------------------------------------------


@pytest.mark.django_db
def test_the_source_is_the_credentials_never_a_header(floor):
    roles_ensure()
    registered = scale_units.scale_unit_register(code="PLANT2", sites=[floor.site])
    other = make_floor(stock=0, workers=1)
    operator = token_client(role_user(OPERATOR))
    forged = operator.post(
        REGISTRATIONS,
        _body("clock_in", badge_id=other.workers[0]),
        format="json",
        headers={"X-Registration-Source": "scale-unit:PLANT2"},
    )
    assert forged.status_code == 202, forged.json()
    assert RawRegistration.objects.get(worker=other.workers[0]).source == "terminal"
    scale_unit = token_client(registered.scale_unit.user)
    sent = scale_unit.post(
        REGISTRATIONS,
        _body("clock_in", badge_id=floor.workers[0]),
        format="json",
        headers={"X-Registration-Source": "terminal"},
    )
    assert sent.status_code == 202, sent.json()
    assert RawRegistration.objects.get(worker=floor.workers[0]).source == "scale-unit:PLANT2"
    # The hub's scale-unit page counts the scale unit's registration only.
    (row,) = scale_units.scale_units_status()
    assert row.registrations_waiting == 1
