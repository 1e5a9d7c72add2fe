"""The operator terminal: device permissions, worker sign-in by badge and PIN, each action
posting exactly the right registration through the service, double taps, the inactivity
sign-out, and constant query counts of the lists.

Workers, orders and jobs come from tests.execution.floor (orders released through the
services); the query-count tests add volume rows directly, since how a row was made does not
change what reading it costs.
"""

import itertools
import uuid
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import Resolver404, resolve, reverse

from execution.choices import JobKind, RegistrationKind, RegistrationStatus
from execution.models import Job, RawRegistration, Terminal, Worker
from execution.services.senders import WORKER_KEY
from execution.services.terminal import (
    PIN_MAX_FAILURES,
    pin_failures_reset,
    worker_check_pin,
    worker_set_pin,
)
from inventory.choices import Tracking
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.roles import OPERATOR, PLANNER
from mesproject.workplace.roles import roles_ensure
from orders.choices import ReasonKind
from orders.models import ReasonCode
from tests.execution.floor import make_floor
from tests.pages import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
K = RegistrationKind
PIN = "4711"
_seq = itertools.count(1)


# --- Fixtures and helpers ----------------------------------------------------------------


def user_in(role: str | None):
    roles_ensure()
    user = get_user_model().objects.create_user(f"{role or 'nobody'}-{next(_seq)}", password="x")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def _with_pins(floor):
    for worker in floor.workers:
        worker_set_pin(worker=worker, pin=PIN)
    return floor


@pytest.fixture
def floor():
    floor = _with_pins(make_floor(stock=0))
    # Operation 10 flushes FRAME at its start: the door refuses a start it is short of.
    floor.stock("FRAME", 1000, floor.resources[0].input_location)
    return floor


@pytest.fixture
def device(client):
    """The terminal device: a client signed in with an operator account."""
    client.force_login(user_in(OPERATOR))
    return client


def url(name: str, floor, *args) -> str:
    return reverse(f"terminal:{name}", args=[floor.terminals[0].code, *args])


def flashed(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in response.context["messages"]]


def sign_in(client, floor, worker: Worker | None = None, pin: str = PIN):
    worker = worker or floor.workers[0]
    return client.post(
        url("sign_in", floor), {"badge_id": worker.badge_id, "pin": pin}, follow=True
    )


def post(client, floor, name: str, *args, data=None, registration_uuid=None):
    """Post a terminal form with its registration UUID (a fresh one unless given)."""
    body = {"registration_uuid": str(registration_uuid or uuid.uuid4()), **(data or {})}
    return client.post(url(name, floor, *args), body, follow=True)


def only_registration(**filters) -> RawRegistration:
    rows = list(RawRegistration.objects.filter(**filters))
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def working(device, floor):
    """A worker signed in and clocked in at the first terminal; an order released."""
    sign_in(device, floor)
    post(device, floor, "clock_in")
    floor.extra["order"] = floor.order(10)
    return device


# --- The PIN check (service) -------------------------------------------------------------


def test_worker_check_pin_finds_the_worker_only_with_the_right_pin(floor):
    worker = floor.workers[0]
    pin_failures_reset(badge_id=worker.badge_id)
    assert worker_check_pin(badge_id=worker.badge_id, pin=PIN) == worker
    assert worker_check_pin(badge_id=worker.badge_id, pin="0000") is None
    assert worker_check_pin(badge_id="no-such-badge", pin=PIN) is None
    assert worker_check_pin(badge_id=worker.badge_id, pin="") is None
    Worker.objects.filter(pk=worker.pk).update(is_active=False)
    assert worker_check_pin(badge_id=worker.badge_id, pin=PIN) is None
    # The PIN is stored hashed, never as typed.
    assert PIN not in Worker.objects.get(pk=worker.pk).pin_hash
    # A worker without a PIN cannot sign in.
    other = floor.workers[1]
    Worker.objects.filter(pk=other.pk).update(pin_hash="")
    assert worker_check_pin(badge_id=other.badge_id, pin="") is None


def test_worker_set_pin_refuses_what_is_not_4_to_8_digits(floor):
    for pin in ["", "123", "12345678901", "12a4"]:
        with pytest.raises(ApplicationError) as refused:
            worker_set_pin(worker=floor.workers[0], pin=pin)
        assert refused.value.code == "pin_invalid"


def test_too_many_wrong_pins_lock_the_badge_until_reset(floor):
    worker = floor.workers[0]
    for _ in range(PIN_MAX_FAILURES):
        assert worker_check_pin(badge_id=worker.badge_id, pin="9999") is None
    with pytest.raises(NotAllowed) as locked:
        worker_check_pin(badge_id=worker.badge_id, pin=PIN)
    assert locked.value.code == "pin_locked"
    pin_failures_reset(badge_id=worker.badge_id)
    assert worker_check_pin(badge_id=worker.badge_id, pin=PIN) == worker


# --- Permissions --------------------------------------------------------------------------


def _all_urls(floor, job_id: int) -> list[str]:
    code = floor.terminals[0].code
    plain = ["sign_in", "sign_out", "recent", "clock_in", "clock_out", "break_start"]
    plain += ["break_stop", "absence", "indirect_start", "indirect_stop", "bundle_start"]
    on_job = ["job_start", "job_stop", "progress", "finish"]
    return [
        reverse("terminal:home"),
        reverse("terminal:terminal", args=[code]),
        *(reverse(f"terminal:{name}", args=[code]) for name in plain),
        *(reverse(f"terminal:{name}", args=[code, job_id]) for name in on_job),
    ]


@pytest.mark.parametrize("role", [PLANNER, None])
def test_a_user_without_add_rawregistration_gets_403_on_every_view_and_action(client, floor, role):
    order = floor.order(2)
    job = floor.job(order, 10)
    client.force_login(user_in(role))
    for address in _all_urls(floor, job.pk):
        assert client.get(address).status_code == 403, address
        assert client.post(address, {"registration_uuid": str(uuid.uuid4())}).status_code == 403
    assert not RawRegistration.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, floor):
    response = client.get(url("terminal", floor))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_operator_account_cannot_open_planner_pages(device):
    try:
        resolve("/planner/orders/")
    except Resolver404:
        pytest.skip("no planner order list installed")
    response = device.get("/planner/orders/")
    assert response.status_code in (403, 302)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]


# --- Terminal choice ----------------------------------------------------------------------


def test_the_device_picks_its_terminal_and_goes_back_to_it(device, floor):
    Terminal.objects.filter(pk=floor.terminals[2].pk).update(is_active=False)
    response = device.get(reverse("terminal:home"))
    assert response.status_code == 200
    listed = [t.code for t in response.context["page"]]
    assert floor.terminals[0].code in listed and floor.terminals[2].code not in listed
    device.get(url("terminal", floor))
    response = device.get(reverse("terminal:home"))
    assert response.status_code == 302 and response["Location"] == url("terminal", floor)
    assert device.get(reverse("terminal:home") + "?change=1").status_code == 200
    inactive = reverse("terminal:terminal", args=[floor.terminals[2].code])
    assert device.get(inactive).status_code == 404


def test_terminal_choice_list_runs_constant_queries(device, floor):
    resource = floor.resources[0]
    made = itertools.count(1)

    def add_rows(count):
        Terminal.objects.bulk_create(
            Terminal(code=f"V-{next(made):04d}", name="Volume", resource=resource)
            for _ in range(count)
        )

    queries = assert_constant_queries(device, reverse("terminal:home") + "?change=1", add_rows)
    print(f"terminal:home queries: {queries}")


# --- Worker sign-in -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "badge, pin",
    [("right", "0000"), ("nobody", PIN), ("", PIN), ("right", "")],
)
def test_a_wrong_badge_or_pin_is_refused_and_nothing_is_registered(device, floor, badge, pin):
    worker = floor.workers[0]
    pin_failures_reset(badge_id=worker.badge_id)
    badge_id = worker.badge_id if badge == "right" else badge
    response = device.post(url("sign_in", floor), {"badge_id": badge_id, "pin": pin}, follow=True)
    assert response.templates[0].name == "terminal/sign_in.html"
    assert any(level == messages.ERROR for level, _ in flashed(response))
    assert WORKER_KEY not in device.session
    # Without a signed-in worker, an action registers nothing.
    response = post(device, floor, "clock_in")
    assert (messages.WARNING, "Sign in with your badge first.") in flashed(response)
    assert not RawRegistration.objects.exists()


def test_an_inactive_worker_cannot_sign_in(device, floor):
    worker = floor.workers[0]
    Worker.objects.filter(pk=worker.pk).update(is_active=False)
    response = sign_in(device, floor, worker)
    assert (messages.ERROR, "Badge or PIN not recognized. Try again.") in flashed(response)


def test_sign_in_shows_the_worker_and_done_signs_out(device, floor):
    response = sign_in(device, floor)
    assert response.templates[0].name == "terminal/screen.html"
    assert (messages.SUCCESS, f"Hello, {floor.workers[0].name}.") in flashed(response)
    assert response.context["worker"] == floor.workers[0]
    response = device.post(url("sign_out", floor), follow=True)
    assert response.templates[0].name == "terminal/sign_in.html"
    assert WORKER_KEY not in device.session


def test_a_worker_is_signed_out_after_inactivity(device, floor):
    sign_in(device, floor)
    session = device.session
    session[WORKER_KEY] = {**session[WORKER_KEY], "seen": session[WORKER_KEY]["seen"] - 121}
    session.save()
    # The polling fragment sends the whole screen back to the sign-in.
    response = device.get(url("recent", floor), headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == url("terminal", floor)
    response = device.get(url("terminal", floor))
    assert response.templates[0].name == "terminal/sign_in.html"
    assert any("without activity" in text for _, text in flashed(response))
    post(device, floor, "clock_in")
    assert not RawRegistration.objects.exists()


def test_activity_keeps_the_worker_signed_in(device, floor):
    sign_in(device, floor)
    session = device.session
    session[WORKER_KEY] = {**session[WORKER_KEY], "seen": session[WORKER_KEY]["seen"] - 100}
    session.save()
    post(device, floor, "clock_in")  # a tap 100 s later: still signed in, clock resets
    assert only_registration(kind=K.CLOCK_IN)
    assert device.get(url("terminal", floor)).templates[0].name == "terminal/screen.html"


def test_polling_does_not_count_as_activity(device, floor):
    sign_in(device, floor)
    seen = device.session[WORKER_KEY]["seen"]
    response = device.get(url("recent", floor), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert device.session[WORKER_KEY]["seen"] == seen


# --- Each action posts exactly the right registration ------------------------------------


def test_clock_in_break_and_clock_out(working, floor):
    worker, terminal = floor.workers[0], floor.terminals[0]
    clock_in = only_registration(kind=K.CLOCK_IN)
    assert (clock_in.worker, clock_in.terminal, clock_in.resource, clock_in.source) == (
        worker,
        terminal,
        terminal.resource,
        "terminal",
    )
    assert clock_in.status == RegistrationStatus.NEW  # processing happens in the background
    response = post(working, floor, "break_start")
    assert (messages.SUCCESS, "Registered: break started.") in flashed(response)
    assert response.context["state"].on_break
    post(working, floor, "break_stop")
    only_registration(kind=K.BREAK_STOP, worker=worker)
    response = post(working, floor, "clock_out")
    assert not response.context["state"].clocked_in
    assert only_registration(kind=K.CLOCK_OUT).worker == worker


def test_absence_with_its_code_and_minutes(working, floor):
    response = working.get(url("absence", floor))
    assert response.status_code == 200
    code = response.context["form"].fields["absence_code"].queryset.get(code="DOC")
    response = post(
        working, floor, "absence", data={"absence_code": code.pk, "absence_minutes": "45"}
    )
    absence = only_registration(kind=K.ABSENCE)
    assert (absence.absence_code, absence.absence_minutes, absence.worker) == (
        code,
        D("45"),
        floor.workers[0],
    )
    assert any("absence DOC" in text for _, text in flashed(response))


def test_absence_with_bad_minutes_is_refused_on_the_form(working, floor):
    response = working.get(url("absence", floor))
    code = response.context["form"].fields["absence_code"].queryset.get(code="DOC")
    response = post(
        working, floor, "absence", data={"absence_code": code.pk, "absence_minutes": "-5"}
    )
    assert response.templates[0].name == "terminal/form.html"
    assert response.context["form"].errors["absence_minutes"]
    assert not RawRegistration.objects.filter(kind=K.ABSENCE).exists()


def test_indirect_activity_start_and_stop(working, floor):
    response = working.get(url("indirect_start", floor))
    activity = response.context["form"].fields["indirect_activity"].queryset.get(code="CLEAN")
    response = post(working, floor, "indirect_start", data={"indirect_activity": activity.pk})
    assert response.context["state"].indirect_activity == activity
    assert only_registration(kind=K.INDIRECT_START).indirect_activity == activity
    response = post(working, floor, "indirect_stop")
    assert response.context["state"].indirect_activity is None
    assert only_registration(kind=K.INDIRECT_STOP).indirect_activity == activity


def test_start_progress_with_scrap_and_reason_then_stop(working, floor):
    order = floor.extra["order"]
    job = floor.job(order, 10)
    response = post(working, floor, "job_start", job.pk)
    assert (messages.SUCCESS, f"Registered: job {job} started.") in flashed(response)
    start = only_registration(kind=K.START_JOB)
    assert (start.job, start.order, start.worker, start.quantity) == (
        job,
        order,
        floor.workers[0],
        D(10),
    )
    assert [o.job for o in response.context["state"].open_jobs] == [job]
    assert working.get(url("progress", floor, job.pk)).status_code == 200
    response = post(
        working,
        floor,
        "progress",
        job.pk,
        data={"quantity_good": "4", "quantity_scrap": "1", "reason_code": floor.scrap_reason.pk},
    )
    report = only_registration(kind=K.REPORT_PROGRESS)
    assert (report.job, report.quantity_good, report.quantity_scrap, report.reason_code) == (
        job,
        D(4),
        D(1),
        floor.scrap_reason,
    )
    assert not report.stops_job
    post(working, floor, "job_stop", job.pk)
    stop = only_registration(kind=K.STOP_JOB)
    assert stop.job == job and stop.stops_job
    assert working.get(url("terminal", floor)).context["state"].open_jobs == []


def test_progress_can_complete_the_job(working, floor):
    job = floor.job(floor.extra["order"], 10)
    post(working, floor, "job_start", job.pk)
    post(
        working,
        floor,
        "progress",
        job.pk,
        data={"quantity_good": "10", "quantity_scrap": "0", "completes_job": "on"},
    )
    report = only_registration(kind=K.REPORT_PROGRESS)
    assert report.completes_job and report.stops_job and report.quantity_good == 10


def test_a_refusal_of_the_service_is_shown_and_nothing_is_registered(working, floor):
    job = floor.job(floor.extra["order"], 10)
    post(working, floor, "job_start", job.pk)
    # Scrap without a reason: the service's rule, its message on the form.
    response = post(
        working, floor, "progress", job.pk, data={"quantity_good": "0", "quantity_scrap": "2"}
    )
    assert response.templates[0].name == "terminal/form.html"
    assert (messages.ERROR, "Scrap needs a reason code.") in flashed(response)
    # An inactive or non-scrap reason is not offered at all.
    downtime = ReasonCode.objects.create(code="DT", description="Down", kind=ReasonKind.DOWNTIME)
    response = post(
        working,
        floor,
        "progress",
        job.pk,
        data={"quantity_scrap": "2", "quantity_good": "0", "reason_code": downtime.pk},
    )
    assert response.context["form"].errors["reason_code"]
    assert not RawRegistration.objects.filter(kind=K.REPORT_PROGRESS).exists()
    # Clocked out, a start is refused with the service's message.
    post(working, floor, "clock_out")
    other = floor.job(floor.order(3), 10)
    response = post(working, floor, "job_start", other.pk)
    assert any("is not clocked in" in text for level, text in flashed(response))
    assert not RawRegistration.objects.filter(kind=K.START_JOB, job=other).exists()


def test_a_job_of_another_resource_does_not_start_here(working, floor):
    job = floor.job(floor.extra["order"], 20)
    response = working.post(
        url("job_start", floor, job.pk), {"registration_uuid": str(uuid.uuid4())}
    )
    assert response.status_code == 404
    assert not RawRegistration.objects.filter(kind=K.START_JOB).exists()


def test_bundle_starts_the_selected_jobs_together(working, floor):
    first, second = floor.job(floor.extra["order"], 10), floor.job(floor.order(5), 10)
    bundle = uuid.uuid4()
    response = post(
        working,
        floor,
        "bundle_start",
        data={"jobs": [first.pk, second.pk]},
        registration_uuid=bundle,
    )
    rows = list(RawRegistration.objects.filter(kind=K.BUNDLE).order_by("job_id"))
    assert [r.job for r in rows] == sorted([first, second], key=lambda j: j.pk)
    assert {(r.bundle_uuid, r.bundle_size, r.worker_id) for r in rows} == {
        (bundle, 2, floor.workers[0].pk)
    }
    assert {o.job for o in response.context["state"].open_jobs} == {first, second}
    # One job is not a bundle: refused on the form, nothing stored.
    response = post(working, floor, "bundle_start", data={"jobs": [first.pk]})
    assert any("two jobs or more" in text for _, text in flashed(response))
    assert RawRegistration.objects.filter(kind=K.BUNDLE).count() == 2


def _at_the_last_operation(floor, order):
    """The terminal of the tests becomes the one at the last operation, and another worker
    has taken the order through the route over the API: its output is there to finish."""
    floor.terminals.insert(0, floor.terminals.pop())
    helper = floor.workers[1]
    floor.clock_in(helper, 0)
    floor.run_route(order, order.quantity, helper, at=1)
    return floor.job(order, 30)


def test_report_as_finished_with_a_lot_for_a_tracked_item(device):
    floor = _with_pins(make_floor(product_tracking=Tracking.LOT))
    order = floor.order(5)
    job = _at_the_last_operation(floor, order)
    sign_in(device, floor)
    post(device, floor, "clock_in")
    post(device, floor, "job_start", job.pk)
    response = device.get(url("finish", floor, job.pk))
    assert "lot_number" in response.context["form"].fields
    # A tracked item needs its lot: the service says so.
    response = post(
        device, floor, "finish", job.pk, data={"quantity_good": "5", "quantity_scrap": "0"}
    )
    assert any("lot or serial number" in text for _, text in flashed(response))
    assert not RawRegistration.objects.filter(kind=K.REPORT_AS_FINISHED).exists()
    post(
        device,
        floor,
        "finish",
        job.pk,
        data={"quantity_good": "5", "quantity_scrap": "0", "lot_number": "LOT-77"},
    )
    finished = only_registration(kind=K.REPORT_AS_FINISHED)
    assert (finished.order, finished.quantity_good, finished.lot_number, finished.worker) == (
        order,
        D(5),
        "LOT-77",
        floor.workers[0],
    )
    assert finished.location == floor.resources[2].output_location


def test_an_untracked_item_is_finished_without_a_lot_field(device, floor):
    order = floor.order(3)
    job = _at_the_last_operation(floor, order)
    sign_in(device, floor)
    post(device, floor, "clock_in")
    response = post(device, floor, "job_start", job.pk)
    # Offered on the screen at the last operation.
    assert url("finish", floor, job.pk) in response.content.decode()
    response = device.get(url("finish", floor, job.pk))
    assert "lot_number" not in response.context["form"].fields
    post(device, floor, "finish", job.pk, data={"quantity_good": "3", "quantity_scrap": "0"})
    assert only_registration(kind=K.REPORT_AS_FINISHED).lot_number == ""


def test_report_as_finished_is_offered_at_the_last_operation_only(working, floor):
    """It takes the last operation's output: at operation 10 it is neither offered nor
    reachable (the order would be finished while weld and paint never started)."""
    job = floor.job(floor.extra["order"], 10)
    response = post(working, floor, "job_start", job.pk)
    assert url("progress", floor, job.pk) in response.content.decode()
    assert url("finish", floor, job.pk) not in response.content.decode()
    assert working.get(url("finish", floor, job.pk)).status_code == 404
    response = post(working, floor, "finish", job.pk, data={"quantity_good": "1"})
    assert response.status_code == 404
    assert not RawRegistration.objects.filter(kind=K.REPORT_AS_FINISHED).exists()


# --- Double taps --------------------------------------------------------------------------


def test_a_double_submit_of_the_same_form_registers_once(working, floor):
    job = floor.job(floor.extra["order"], 10)
    start = uuid.uuid4()
    for _ in range(2):
        response = post(working, floor, "job_start", job.pk, registration_uuid=start)
    assert (messages.SUCCESS, f"Registered: job {job} started (already received).") in flashed(
        response
    )
    only_registration(kind=K.START_JOB)
    report = uuid.uuid4()
    data = {"quantity_good": "2", "quantity_scrap": "0"}
    for _ in range(2):
        post(working, floor, "progress", job.pk, data=data, registration_uuid=report)
    only_registration(kind=K.REPORT_PROGRESS)
    clock_out = uuid.uuid4()
    for _ in range(2):
        post(working, floor, "clock_out", registration_uuid=clock_out)
    only_registration(kind=K.CLOCK_OUT)


def test_each_form_on_the_screen_has_its_own_uuid(working, floor):
    floor.order(2)
    response = working.get(url("terminal", floor))
    html = response.content.decode()
    values = [part.split('"')[0] for part in html.split('name="registration_uuid" value="')[1:]]
    # Clock out, break, bundle (a job starts from its own form, tested below).
    assert len(values) >= 3 and len(set(values)) == len(values)
    # The bundle's boxes sit in the table but belong to the bundle form (no nested forms).
    assert 'form="bundle-form"' in html and 'id="bundle-form"' in html
    # A fresh screen has fresh UUIDs: the next tap is a new registration.
    again = working.get(url("terminal", floor)).content.decode()
    assert not set(values) & {
        part.split('"')[0] for part in again.split('name="registration_uuid" value="')[1:]
    }


# --- The lists: constant query counts ----------------------------------------------------


def test_my_jobs_run_a_constant_number_of_queries(working, floor):
    order = floor.extra["order"]
    running = floor.job(order, 10)
    post(working, floor, "job_start", running.pk)
    resource = floor.resources[0]
    made = itertools.count(1000)

    def add_rows(count):
        Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=next(made),
                operation_name="Volume",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=9000 + n,
                planned_quantity=D(1),
            )
            for n in range(count)
        )

    queries = assert_constant_queries(working, url("terminal", floor), add_rows)
    print(f"terminal screen (my jobs) queries: {queries}")
    response = working.get(url("terminal", floor) + "?page=2")
    assert response.context["page"].number == 2


def test_my_jobs_list_only_what_the_resource_may_start(working, floor):
    order = floor.extra["order"]
    held = floor.job(floor.order(2), 10)
    Job.objects.filter(pk=held.pk).update(on_hold=True)
    unreleased = floor.order(2, release=False)
    listed = [row["job"] for row in working.get(url("terminal", floor)).context["rows"]]
    assert floor.job(order, 10) in listed
    assert held not in listed
    assert all(job.resource_id == floor.resources[0].pk for job in listed)
    assert all(job.order_id != unreleased.pk for job in listed)
    sequences = [job.sequence for job in listed]
    assert sequences == sorted(sequences)


def test_recent_registrations_show_their_processing_status(working, floor):
    response = working.get(url("recent", floor), headers={"HX-Request": "true"})
    assert response.templates[0].name == "terminal/_recent.html"
    assert b"Clock in" in response.content and b"New" in response.content
    floor.process()
    response = working.get(url("recent", floor), headers={"HX-Request": "true"})
    assert b"Processed" in response.content


def test_form_pages_go_back_to_the_screen_when_idle_without_counting_as_activity(device, floor):
    sign_in(device, floor)
    response = device.get(url("absence", floor))
    assert f'content="125;url={url("terminal", floor)}?check=1"' in response.content.decode()
    seen = device.session[WORKER_KEY]["seen"]
    assert device.get(url("terminal", floor) + "?check=1").status_code == 200
    assert device.session[WORKER_KEY]["seen"] == seen


# --- Starting a chosen quantity ------------------------------------------------------------


def test_start_opens_the_start_form_with_the_rest_of_the_job(working, floor):
    job = floor.job(floor.extra["order"], 10)
    screen = working.get(url("terminal", floor)).content.decode()
    # The screen's Start opens the form (a GET: nothing is registered by it).
    start = screen.split(f'action="{url("job_start", floor, job.pk)}"')[0].rsplit("<form", 1)[1]
    assert 'method="get"' in start

    response = working.get(url("job_start", floor, job.pk))

    assert response.status_code == 200
    assert response.templates[0].name == "terminal/form.html"
    assert response.context["form"]["quantity"].value() == "10"
    assert "at most 10 pcs may start now" in response.content.decode()
    assert not RawRegistration.objects.filter(kind=K.START_JOB).exists()


def test_a_chosen_start_quantity_reaches_the_registration(working, floor):
    job = floor.job(floor.extra["order"], 10)

    response = post(working, floor, "job_start", job.pk, data={"quantity": "4", "page": "1"})

    assert response.templates[0].name == "terminal/screen.html"
    assert (messages.SUCCESS, f"Registered: job {job} started (4 pcs).") in flashed(response)
    start = only_registration(kind=K.START_JOB)
    assert (start.job, start.worker, start.quantity) == (job, floor.workers[0], D(4))
    # The rest is what was not started, the accepted start counted before it is processed.
    form = working.get(url("job_start", floor, job.pk)).context["form"]
    assert form["quantity"].value() == "6"
    floor.process()
    form = working.get(url("job_start", floor, job.pk)).context["form"]
    assert form["quantity"].value() == "6"


def test_a_start_refused_for_a_shortage_can_start_less(working, floor):
    job = floor.job(floor.order(1500), 10)  # 1000 FRAME on hand

    response = post(working, floor, "job_start", job.pk)

    # The rest, refused at the door naming the shortage, on the form: nothing stored.
    assert response.templates[0].name == "terminal/form.html"
    [(level, message)] = flashed(response)
    assert level == messages.ERROR and "FRAME needs 1500" in message
    assert "1000 on hand" in message
    assert not RawRegistration.objects.filter(kind=K.START_JOB).exists()

    post(working, floor, "job_start", job.pk, data={"quantity": "1000"})
    assert only_registration(kind=K.START_JOB).quantity == D(1000)
    assert floor.process().failed == 0


def test_a_start_above_what_may_start_is_refused_on_the_form(working, floor):
    job = floor.job(floor.extra["order"], 10)

    response = post(working, floor, "job_start", job.pk, data={"quantity": "11"})

    assert response.templates[0].name == "terminal/form.html"
    assert response.context["form"].errors["quantity"] == [
        "At most 10 pcs may start on this job now."
    ]
    assert not RawRegistration.objects.filter(kind=K.START_JOB).exists()
    response = post(working, floor, "job_start", job.pk, data={"quantity": "-1"})
    assert response.context["form"].errors["quantity"]
    assert not RawRegistration.objects.filter(kind=K.START_JOB).exists()


def test_an_empty_start_quantity_starts_the_rest(working, floor):
    job = floor.job(floor.extra["order"], 10)
    post(working, floor, "job_start", job.pk, data={"quantity": ""})
    assert only_registration(kind=K.START_JOB).quantity == D(10)


def test_a_setup_job_starts_without_a_quantity(device):
    floor = _with_pins(make_floor(stock=0, setup_minutes=15))
    sign_in(device, floor)
    post(device, floor, "clock_in")
    setup = floor.job(floor.order(10), 10, kind=JobKind.SETUP)
    form = device.get(url("job_start", floor, setup.pk)).context["form"]
    assert "quantity" not in form.fields
    post(device, floor, "job_start", setup.pk)
    assert only_registration(kind=K.START_JOB).quantity == 0
