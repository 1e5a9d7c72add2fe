"""The processing log: a supervisor sees every shop-floor registration and can Process again
a failed one or Cancel a new or failed one, in the admin (actions and change-page buttons)
and on the browser page /floor/processing-log/; the process_raw_registrations command.

The scenario: a worker starts a job and consumes bells the input location holds, but the
bells are written off as damaged before the processor gets there: the consumption fails
(insufficient_stock) and holds the worker's later progress report in the order's lane until
the stock is fixed and it is processed again, or it is canceled.
"""

from datetime import UTC, timedelta
from io import StringIO

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.choices import ProcessingOutcome, RegistrationKind, RegistrationStatus
from execution.models import RawRegistration
from mesproject.roles import OPERATOR, PLANNER, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db

S = RegistrationStatus
K = RegistrationKind
PAGE = reverse("floor:processing_log")
PROCESS_AGAIN = reverse("floor:registrations_process_again")
CANCEL = reverse("floor:registrations_cancel")
PROCESS_PENDING = reverse("floor:registrations_process_pending")
CHANGELIST = reverse("admin:execution_rawregistration_changelist")


class Scenario:
    """Clock-in and a job start processed, a consumption failed, a progress report held."""

    def __init__(self):
        self.floor = floor = make_floor()
        self.worker = floor.workers[0]
        self.order = floor.order(10)
        self.job = floor.job(self.order, 10)
        floor.clock_in(self.worker, 0)
        floor.post("start_job", at=1, badge_id=self.worker, job=self.job)
        floor.post("consume_material", at=2, order=self.order, material_line=40, quantity="500")
        floor.post("report_progress", at=5, badge_id=self.worker, job=self.job, quantity_good="2")
        floor.write_off("BELL", 1000, floor.resources[2].input_location)
        summary = floor.process()
        assert (summary.processed, summary.failed) == (2, 1)
        mine = RawRegistration.objects.filter(order=self.order)
        self.failed = mine.get(kind=K.CONSUME_MATERIAL)
        self.held = mine.get(kind=K.REPORT_PROGRESS)
        self.started = mine.get(kind=K.START_JOB)
        assert (self.failed.status, self.failed.error_code) == (S.FAILED, "insufficient_stock")
        assert self.held.status == S.NEW

    def fix_the_cause(self):
        bell_input = self.floor.resources[2].input_location
        self.floor.stock("BELL", 500, bell_input)

    def status(self, registration) -> str:
        return RawRegistration.objects.get(pk=registration.pk).status


@pytest.fixture
def scenario():
    return Scenario()


def flashed(response):
    return [(m.level, m.message) for m in response.context["messages"]]


def user_in(role: str, *, staff: bool = False):
    roles_ensure()
    user = get_user_model().objects.create_user(f"{role}-user", password="x", is_staff=staff)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def supervisor_client(client):
    client.force_login(user_in(SUPERVISOR, staff=True))
    return client


# --- Admin actions --------------------------------------------------------------------------


def test_admin_process_again_after_fixing_the_cause(admin_client, admin_user, scenario):
    scenario.fix_the_cause()

    response = admin_client.post(
        CHANGELIST,
        {"action": "process_again_selected", "_selected_action": [scenario.failed.pk]},
        follow=True,
    )

    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) queued to process again.")]
    assert scenario.status(scenario.failed) == S.NEW
    entry = scenario.failed.log_entries.first()
    assert (entry.outcome, entry.actor) == (ProcessingOutcome.REQUEUED, "user:admin")

    assert str(scenario.floor.process()) == "2 processed, 0 failed, 0 lane(s) held"
    assert scenario.status(scenario.failed) == S.PROCESSED
    assert scenario.status(scenario.held) == S.PROCESSED


def test_admin_process_again_reports_each_refusal(admin_client, scenario):
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "process_again_selected",
            "_selected_action": [scenario.failed.pk, scenario.started.pk, scenario.held.pk],
        },
        follow=True,
    )

    shown = flashed(response)
    assert (messages.SUCCESS, "1 registration(s) queued to process again.") in shown
    errors = [text for level, text in shown if level == messages.ERROR]
    assert len(errors) == 2
    assert f"Registration {scenario.started.uuid} is processed" in errors[0]
    assert f"Registration {scenario.held.uuid} is new" in errors[1]
    assert all("only a failed one can be processed again" in text for text in errors)
    assert scenario.status(scenario.started) == S.PROCESSED


def test_admin_cancel_lets_the_held_lane_go_on(admin_client, scenario):
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": [scenario.failed.pk]},
        follow=True,
    )

    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) canceled.")]
    assert scenario.status(scenario.failed) == S.CANCELED
    assert str(scenario.floor.process()) == "1 processed, 0 failed, 0 lane(s) held"
    assert scenario.status(scenario.held) == S.PROCESSED
    # A processed registration cannot be canceled.
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": [scenario.held.pk]},
        follow=True,
    )
    ((level, text),) = flashed(response)
    assert level == messages.ERROR and "only a new or failed one can be canceled" in text


def test_admin_registrations_are_read_only(admin_client, scenario):
    assert admin_client.get(reverse("admin:execution_rawregistration_add")).status_code == 403
    url = reverse("admin:execution_rawregistration_delete", args=[scenario.failed.pk])
    assert admin_client.get(url).status_code == 403
    page = admin_client.get(
        reverse("admin:execution_rawregistration_change", args=[scenario.failed.pk])
    )
    content = page.content.decode()
    assert 'name="_save"' not in content
    assert "insufficient_stock" in content
    # Its processing log is shown inline, read-only.
    (inline,) = page.context["inline_admin_formsets"]
    assert inline.formset.model.__name__ == "ProcessingLogEntry"
    assert len(inline.formset.forms) == 1
    assert not inline.has_add_permission and not inline.has_delete_permission


def test_admin_changelist_filters_and_search(admin_client, scenario):
    response = admin_client.get(CHANGELIST, {"status__exact": "failed"})
    assert [r.pk for r in response.context["cl"].result_list] == [scenario.failed.pk]
    response = admin_client.get(CHANGELIST, {"q": scenario.order.number})
    assert {r.pk for r in response.context["cl"].result_list} == {
        scenario.started.pk,
        scenario.failed.pk,
        scenario.held.pk,
    }
    response = admin_client.get(CHANGELIST, {"q": str(scenario.failed.uuid)})
    assert [r.pk for r in response.context["cl"].result_list] == [scenario.failed.pk]
    response = admin_client.get(CHANGELIST, {"q": "insufficient_st"})
    assert [r.pk for r in response.context["cl"].result_list] == [scenario.failed.pk]


# --- Change-page buttons ----------------------------------------------------------------------


def change_url(registration):
    return reverse("admin:execution_rawregistration_change", args=[registration.pk])


def button_url(name, registration):
    return reverse(f"admin:execution_rawregistration_{name}", args=[registration.pk])


def test_change_page_offers_the_buttons_that_apply(admin_client, scenario):
    content = admin_client.get(change_url(scenario.failed)).content.decode()
    assert f'formaction="{button_url("process_again", scenario.failed)}"' in content
    assert f'formaction="{button_url("cancel", scenario.failed)}"' in content

    content = admin_client.get(change_url(scenario.held)).content.decode()
    assert button_url("process_again", scenario.held) not in content
    assert f'formaction="{button_url("cancel", scenario.held)}"' in content

    content = admin_client.get(change_url(scenario.started)).content.decode()
    assert "registration-actions" not in content


def test_process_again_button(admin_client, scenario):
    scenario.fix_the_cause()

    response = admin_client.post(button_url("process_again", scenario.failed))

    assert response.status_code == 302
    assert response["Location"] == change_url(scenario.failed)
    assert scenario.status(scenario.failed) == S.NEW
    scenario.floor.process()
    assert scenario.status(scenario.failed) == S.PROCESSED


def test_cancel_button_records_the_reason(admin_client, scenario):
    response = admin_client.post(
        button_url("cancel", scenario.failed), {"reason": "bells counted twice"}, follow=True
    )

    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) canceled.")]
    assert scenario.status(scenario.failed) == S.CANCELED
    entry = scenario.failed.log_entries.first()
    assert (entry.outcome, entry.message) == (ProcessingOutcome.CANCELED, "bells counted twice")


def test_a_refused_button_says_why(admin_client, scenario):
    response = admin_client.post(button_url("process_again", scenario.held), follow=True)
    ((level, text),) = flashed(response)
    assert level == messages.ERROR and "only a failed one can be processed again" in text
    assert scenario.status(scenario.held) == S.NEW


def test_buttons_need_a_post_and_the_change_permission(admin_client, client, scenario):
    assert admin_client.get(button_url("cancel", scenario.failed)).status_code == 403
    planner = user_in(PLANNER, staff=True)
    client.force_login(planner)
    assert client.post(button_url("cancel", scenario.failed)).status_code == 403
    assert scenario.status(scenario.failed) == S.FAILED


def test_a_supervisor_works_the_processing_log_in_the_admin(supervisor_client, scenario):
    response = supervisor_client.get(change_url(scenario.failed))
    assert response.status_code == 200
    assert button_url("cancel", scenario.failed) in response.content.decode()
    response = supervisor_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "_selected_action": [scenario.failed.pk]},
        follow=True,
    )
    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) canceled.")]


# --- The browser page -------------------------------------------------------------------------


def shown(response) -> list[int]:
    return [r.pk for r in response.context["page"].object_list]


def test_page_lists_newest_first_with_the_buttons_that_apply(supervisor_client, scenario):
    response = supervisor_client.get(PAGE)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    registrations = RawRegistration.objects.order_by("-occurred_at", "-id")
    assert shown(response) == [r.pk for r in registrations]
    content = response.content.decode()
    assert f'name="only" value="{scenario.failed.pk}"' in content
    assert f'name="registration" value="{scenario.held.pk}"' in content
    assert f'name="registration" value="{scenario.started.pk}"' not in content
    assert "csrfmiddlewaretoken" in content
    assert "Process pending now" in content
    assert (response.context["failed_count"], response.context["new_count"]) == (1, 1)
    assert "/static/css/mes.css" in content


def test_filters_narrow_the_list(supervisor_client, scenario):
    floor = scenario.floor
    other = floor.workers[1]
    floor.clock_in(other, -24 * 60)  # the day before
    yesterday = RawRegistration.objects.get(worker=other)
    everything = RawRegistration.objects.count()

    def listed(**params):
        response = supervisor_client.get(PAGE, params)
        assert response.status_code == 200
        return set(shown(response))

    assert listed() == set(RawRegistration.objects.values_list("pk", flat=True))
    assert listed(status="failed") == {scenario.failed.pk}
    assert listed(status="new") == {scenario.held.pk, yesterday.pk}
    assert listed(kind="clock_in") == set(
        RawRegistration.objects.filter(kind=K.CLOCK_IN).values_list("pk", flat=True)
    )
    assert listed(worker=other.badge_id) == {yesterday.pk}
    assert listed(order=scenario.order.number) == {
        scenario.started.pk,
        scenario.failed.pk,
        scenario.held.pk,
    }
    assert listed(order=scenario.order.number, kind="report_progress") == {scenario.held.pk}
    day = floor.at(0).astimezone(UTC).date()
    assert yesterday.pk not in listed(date_from=day.isoformat())
    assert len(listed(date_from=day.isoformat())) == everything - 1
    assert listed(date_to=(day - timedelta(days=1)).isoformat()) == {yesterday.pk}
    # A bad value is shown next to its field and not applied.
    response = supervisor_client.get(PAGE, {"date_from": "tomorrow", "status": "failed"})
    assert response.status_code == 200
    assert "date_from" in response.context["filters"].errors
    assert shown(response) == [scenario.failed.pk]


def _registrations(floor, count: int, worker=None) -> None:
    """`count` registrations through the API: a clock-in, then starts and stops cycling over
    the jobs of new orders (each row with a worker, an order and a job)."""
    worker = worker or floor.workers[0]
    orders = [floor.order(5) for _ in range(3)]
    jobs = [floor.job(order, 10) for order in orders]
    floor.clock_in(worker, 100)
    minute = 101
    for index in range(count - 1):
        job = jobs[(index // 2) % len(jobs)]
        kind = "start_job" if index % 2 == 0 else "stop_job"
        floor.post(kind, at=minute, badge_id=worker, job=job)
        minute += 1


def test_page_runs_a_constant_number_of_queries(client):
    floor = make_floor()
    client.force_login(user_in(SUPERVISOR))

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(PAGE)
        assert response.status_code == 200
        return len(queries), len(response.context["page"].object_list)

    _registrations(floor, 3)
    floor.process()
    few, shown_few = count_queries()
    _registrations(floor, 27, worker=floor.workers[1])
    many, shown_many = count_queries()

    print(f"processing log page: {few} queries for 3 registrations, {many} for 30")
    assert (shown_few, shown_many) == (3, 30)
    assert few == many


def test_page_is_paginated_by_50(supervisor_client):
    floor = make_floor()
    _registrations(floor, 52)
    first = supervisor_client.get(PAGE)
    assert len(shown(first)) == 50
    assert 'rel="next"' in first.content.decode()
    second = supervisor_client.get(PAGE, {"page": 2})
    assert len(shown(second)) == 2
    assert not set(shown(first)) & set(shown(second))


def test_an_operator_gets_403_on_the_page_and_the_actions(client, scenario):
    client.force_login(user_in(OPERATOR))

    assert client.get(PAGE).status_code == 403
    assert client.post(PROCESS_AGAIN, {"only": scenario.failed.pk}).status_code == 403
    assert client.post(CANCEL, {"registration": [scenario.failed.pk]}).status_code == 403
    assert client.post(PROCESS_PENDING).status_code == 403
    assert scenario.status(scenario.failed) == S.FAILED
    assert scenario.status(scenario.held) == S.NEW


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.post(CANCEL).status_code == 302


def test_actions_need_a_post(supervisor_client):
    assert supervisor_client.get(PROCESS_AGAIN).status_code == 405
    assert supervisor_client.get(PROCESS_PENDING).status_code == 405


def test_viewing_alone_shows_no_buttons(client, scenario):
    viewer = get_user_model().objects.create_user("viewer", password="x")
    viewer.user_permissions.add(Permission.objects.get(codename="view_rawregistration"))
    client.force_login(viewer)
    content = client.get(PAGE).content.decode()
    assert "Process pending now" not in content
    assert 'name="only"' not in content
    assert client.post(CANCEL, {"only": scenario.failed.pk}).status_code == 403


def test_supervisor_processes_again_one_row(supervisor_client, scenario):
    scenario.fix_the_cause()
    back = f"{PAGE}?status=failed"

    response = supervisor_client.post(
        PROCESS_AGAIN,
        # The row's button wins over ticked boxes.
        {"only": scenario.failed.pk, "registration": [scenario.held.pk], "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    assert scenario.status(scenario.failed) == S.NEW
    response = supervisor_client.get(back)
    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) queued to process again.")]
    scenario.floor.process()
    assert scenario.status(scenario.failed) == S.PROCESSED
    assert scenario.status(scenario.held) == S.PROCESSED


def test_supervisor_cancels_one_row_with_a_reason(supervisor_client, scenario):
    response = supervisor_client.post(
        CANCEL, {"only": scenario.failed.pk, "reason": "typo on the terminal"}, follow=True
    )

    assert response.redirect_chain == [(PAGE, 302)]
    assert flashed(response) == [(messages.SUCCESS, "1 registration(s) canceled.")]
    assert scenario.status(scenario.failed) == S.CANCELED
    assert scenario.failed.log_entries.first().message == "typo on the terminal"
    assert scenario.failed.log_entries.first().actor == "user:supervisor-user"


def test_bulk_cancel_and_process_again(supervisor_client, scenario):
    response = supervisor_client.post(
        CANCEL,
        {"registration": [scenario.failed.pk, scenario.held.pk, scenario.started.pk]},
        follow=True,
    )

    shown_messages = flashed(response)
    assert (messages.SUCCESS, "2 registration(s) canceled.") in shown_messages
    ((error,),) = [[t for lvl, t in shown_messages if lvl == messages.ERROR]]
    assert f"Registration {scenario.started.uuid} is processed" in error
    assert scenario.status(scenario.failed) == S.CANCELED
    assert scenario.status(scenario.held) == S.CANCELED

    response = supervisor_client.post(
        PROCESS_AGAIN, {"registration": [scenario.failed.pk]}, follow=True
    )
    ((level, text),) = flashed(response)
    assert level == messages.ERROR and "is canceled" in text


def test_bulk_process_again(supervisor_client):
    first, second = Scenario(), Scenario()
    first.fix_the_cause()
    second.fix_the_cause()

    response = supervisor_client.post(
        PROCESS_AGAIN, {"registration": [first.failed.pk, second.failed.pk]}, follow=True
    )

    assert flashed(response) == [(messages.SUCCESS, "2 registration(s) queued to process again.")]
    assert str(first.floor.process()) == "4 processed, 0 failed, 0 lane(s) held"


def test_nothing_selected_is_a_warning(supervisor_client, scenario):
    response = supervisor_client.post(PROCESS_AGAIN, {"registration": ["x"]}, follow=True)
    assert flashed(response) == [(messages.WARNING, "Select at least one registration.")]


def test_an_outside_next_is_ignored(supervisor_client, scenario):
    response = supervisor_client.post(
        CANCEL, {"only": scenario.failed.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == PAGE


@pytest.fixture
def jobs_inline():
    """Jobs started from a page run inline, as no worker runs here (tests/pages/test_it.py
    has one with a real worker); the result backend still keeps their outcome."""
    from mesproject.celery import app

    saved = app.conf.task_always_eager, app.conf.task_store_eager_result
    app.conf.task_always_eager = app.conf.task_store_eager_result = True
    yield
    app.conf.task_always_eager, app.conf.task_store_eager_result = saved


def test_process_pending_now(supervisor_client, scenario, jobs_inline):
    scenario.fix_the_cause()
    supervisor_client.post(PROCESS_AGAIN, {"only": scenario.failed.pk}, follow=True)

    response = supervisor_client.post(PROCESS_PENDING, follow=True)

    # The run goes to a worker; its progress page tells what it did once finished.
    assert response.redirect_chain[0][0].startswith("/it/tasks/")
    assert "Processed 2, failed 0." in response.content.decode()
    assert scenario.status(scenario.held) == S.PROCESSED


def test_process_pending_now_warns_of_a_failure(supervisor_client, jobs_inline):
    floor = make_floor(stock=3)
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(floor.order(3), 10))
    floor.write_off("FRAME", 3)

    response = supervisor_client.post(PROCESS_PENDING, follow=True)

    content = response.content.decode()
    assert "Processed 1, failed 1, 1 lane(s) held." in content
    assert f'href="{PAGE}?status=failed"' in content


# --- The management command -------------------------------------------------------------------


def test_process_raw_registrations_command():
    floor = make_floor()
    worker = floor.workers[0]
    order = floor.order(10)
    floor.clock_in(worker, 0)
    floor.post("start_job", at=1, badge_id=worker, job=floor.job(order, 10))
    floor.post("consume_material", at=2, order=order, material_line=40, quantity="500")
    floor.write_off("BELL", 1000, floor.resources[2].input_location)
    out = StringIO()

    call_command("process_raw_registrations", stdout=out)

    output = out.getvalue()
    assert "2 processed, 1 failed, 1 lane(s) held" in output
    assert f"held: order:{order.pk}" in output
    out = StringIO()
    call_command("process_raw_registrations", stdout=out)
    assert "0 processed" in out.getvalue()
