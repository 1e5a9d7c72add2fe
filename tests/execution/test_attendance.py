"""Time and attendance (execution.services.attendance): a worker's day is calculated from the
processed registrations posted through the real endpoint, then approved and transferred to
payroll; the admin actions go through the same services.

Times: floor.at(m) is 06:00 (+01:00) + m minutes on 2026-03-02; TIME_ZONE is UTC in tests,
so every one of those registrations falls on the local date 2026-03-02.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.choices import AttendanceStatus
from execution.models import AbsenceCode, AttendanceDay, IndirectActivity, PayAgreement
from execution.services import attendance as services
from execution.services.attendance_pay import attendance_days_transfer, pay_basis_csv
from mesproject.actors import Actor
from mesproject.errors import NotAllowed
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db

D = Decimal
S = AttendanceStatus
DAY = date(2026, 3, 2)
ACTOR = Actor(process="test")
FIELDS = (
    "clocked_minutes",
    "break_minutes",
    "worked_minutes",
    "job_minutes",
    "indirect_minutes",
    "absence_minutes",
    "paid_minutes",
    "overtime_minutes",
)
HEADER = (
    "badge_id,name,date,pay_agreement,worked_minutes,paid_minutes,overtime_minutes,"
    "absence_minutes,break_minutes,indirect_minutes,job_minutes\r\n"
)
CHANGELIST = "admin:execution_attendanceday_changelist"


def figures(day: AttendanceDay) -> dict:
    day.refresh_from_db()
    return {name: getattr(day, name) for name in FIELDS}


def expect(**minutes) -> dict:
    return {name: D(str(minutes.get(name.removesuffix("_minutes"), 0))) for name in FIELDS}


def plain_day(floor, worker, *, until=480, breaks=((240, 270),)):
    """Clock in at 06:00, the given breaks, clock out `until` minutes later."""
    floor.clock_in(worker, 0)
    for start, stop in breaks:
        floor.post("break_start", at=start, badge_id=worker)
        floor.post("break_stop", at=stop, badge_id=worker)
    floor.post("clock_out", at=until, badge_id=worker)


def process(floor):
    summary = floor.process()
    assert summary.failed == 0, str(summary)
    return summary


def calculate(worker, day=DAY):
    return services.attendance_day_calculate(worker=worker, date=day, actor=ACTOR)


# --- Calculation -------------------------------------------------------------------------------


def test_day_with_jobs_bundle_break_indirect_and_absence():
    floor = make_floor()
    worker = floor.workers[0]
    a, b, c, d = (floor.job(floor.order(10), 10) for _ in range(4))

    floor.clock_in(worker, 0)  # 06:00
    floor.post("start_job", at=10, badge_id=worker, job=a)
    floor.post("stop_job", at=130, badge_id=worker, job=a)  # a: 120 min
    floor.post("bundle", at=130, badge_id=worker, jobs=[b, c])
    floor.post("stop_job", at=190, badge_id=worker, job=b)  # b: 60 min shared by 2 = 30
    floor.post("stop_job", at=250, badge_id=worker, job=c)  # c: 30 shared + 60 alone = 90
    floor.post("break_start", at=250, badge_id=worker)
    floor.post("break_stop", at=280, badge_id=worker)  # break: 30
    floor.post("indirect_start", at=280, badge_id=worker, indirect_activity="CLEAN")
    floor.post("indirect_stop", at=340, badge_id=worker)  # paid indirect: 60
    floor.post("start_job", at=340, badge_id=worker, job=d)
    floor.post("clock_out", at=490, badge_id=worker)  # 14:10; stops d: 150
    # A doctor's visit after work: 60 minutes, paid code.
    floor.post("absence", at=495, badge_id=worker, absence_code="DOC", absence_minutes="60")
    process(floor)

    day = calculate(worker)

    assert day.status == S.CALCULATED
    assert day.calculated_at is not None
    assert figures(day) == expect(
        clocked=490,  # 06:00 -> 14:10
        **{"break": 30},
        worked=460,  # 490 - 30
        job=390,  # a 120 + b 30 + c 90 + d 150 (the bundle's 120 min split, not doubled)
        indirect=60,
        absence=60,
        paid=520,  # 460 worked + 0 (breaks unpaid) + 60 paid absence - 0 unpaid indirect
        overtime=0,  # 460 < 480
    )


def test_overtime_counts_worked_minutes_beyond_the_agreement():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker, until=570)  # 06:00 -> 15:30, break 30
    process(floor)

    assert figures(calculate(worker)) == expect(
        clocked=570, **{"break": 30}, worked=540, paid=540, overtime=60
    )

    # Another agreement starts overtime later: the same day has less of it.
    late = PayAgreement.objects.create(code="LATE", name="Late", overtime_after_minutes=520)
    worker.pay_agreement = late
    worker.save()
    assert calculate(worker).overtime_minutes == D("20.00")


def test_paid_and_unpaid_breaks_and_a_break_open_at_clock_out():
    floor = make_floor()
    unpaid, paid = floor.workers[:2]
    paid.pay_agreement = PayAgreement.objects.create(code="PB", name="Paid", paid_breaks=True)
    paid.save()
    for worker in (unpaid, paid):
        floor.clock_in(worker, 0)
        floor.post("break_start", at=120, badge_id=worker)
        floor.post("break_stop", at=150, badge_id=worker)  # 30
        floor.post("break_start", at=470, badge_id=worker)  # open: ends at clock-out, 10
        floor.post("clock_out", at=480, badge_id=worker)
    process(floor)

    # clocked 480, breaks 30 + 10 = 40, worked 440
    assert figures(calculate(unpaid)) == expect(clocked=480, **{"break": 40}, worked=440, paid=440)
    assert figures(calculate(paid)) == expect(clocked=480, **{"break": 40}, worked=440, paid=480)


def test_unpaid_indirect_and_unpaid_absence_are_not_paid():
    floor = make_floor()
    worker = floor.workers[0]
    IndirectActivity.objects.create(code="MEET", description="Meeting", paid=False)
    AbsenceCode.objects.create(code="PRIV", description="Private", paid=False)
    floor.clock_in(worker, 0)
    floor.post("indirect_start", at=60, badge_id=worker, indirect_activity="MEET")
    floor.post("break_start", at=100, badge_id=worker)  # a break inside the meeting
    floor.post("break_stop", at=120, badge_id=worker)
    floor.post("indirect_stop", at=180, badge_id=worker)  # 120 - 20 of break = 100
    floor.post("indirect_start", at=200, badge_id=worker, indirect_activity="CLEAN")  # paid
    floor.post("clock_out", at=480, badge_id=worker)  # CLEAN open: ends at clock-out, 280
    floor.post("absence", at=490, badge_id=worker, absence_code="PRIV", absence_minutes="30")
    process(floor)

    assert figures(calculate(worker)) == expect(
        clocked=480,
        **{"break": 20},
        worked=460,
        indirect=380,  # MEET 100 + CLEAN 280
        absence=30,  # counted, but its code is unpaid
        paid=360,  # 460 - 100 unpaid indirect (the break is not deducted twice)
    )


def test_open_shift_is_not_counted_until_its_clock_out_is_processed():
    floor = make_floor()
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    floor.post("clock_out", at=240, badge_id=worker)  # first shift: 240
    floor.clock_in(worker, 300)
    floor.post("break_start", at=330, badge_id=worker)
    floor.post("break_stop", at=345, badge_id=worker)
    process(floor)

    day = calculate(worker)
    assert figures(day) == expect(clocked=240, worked=240, paid=240)
    # Approving now would lose the open shift, whatever day its clock-out falls on.
    with pytest.raises(NotAllowed) as refused:
        services.attendance_day_approve(day=day, actor=ACTOR)
    assert refused.value.code == "attendance_day_open_shift"

    floor.post("clock_out", at=420, badge_id=worker)
    assert figures(calculate(worker)) == expect(clocked=240, worked=240, paid=240)  # not processed

    process(floor)
    # 240 + 120 clocked, 15 break
    day = calculate(worker)
    assert figures(day) == expect(clocked=360, **{"break": 15}, worked=345, paid=345)
    assert services.attendance_day_approve(day=day, actor=ACTOR).status == S.APPROVED


def test_a_shift_across_midnight_belongs_to_the_day_of_its_clock_in():
    floor = make_floor()
    worker = floor.workers[0]

    def utc(day, hour, minute=0):
        return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    floor.post("clock_in", at=utc(2, 22), badge_id=worker)
    floor.post("break_start", at=utc(2, 23, 30), badge_id=worker)
    process(floor)
    with pytest.raises(NotAllowed) as refused:  # still on shift at midnight
        services.attendance_day_approve(day=calculate(worker), actor=ACTOR)
    assert refused.value.code == "attendance_day_open_shift"

    floor.post("break_stop", at=utc(3, 0, 30), badge_id=worker)  # 60, across midnight
    floor.post("clock_out", at=utc(3, 6), badge_id=worker)  # 22:00 -> 06:00
    process(floor)
    with pytest.raises(NotAllowed) as refused:  # the clock-out came after the calculation
        services.attendance_day_approve(day=AttendanceDay.objects.get(worker=worker), actor=ACTOR)
    assert refused.value.code == "attendance_day_stale"

    day = calculate(worker)
    assert figures(day) == expect(clocked=480, **{"break": 60}, worked=420, paid=420)
    assert services.attendance_days_calculate(date=DAY + timedelta(days=1), actor=ACTOR) == []
    assert figures(calculate(worker, DAY + timedelta(days=1))) == expect()
    assert services.attendance_day_approve(day=day, actor=ACTOR).status == S.APPROVED


def test_days_calculate_takes_every_worker_of_the_day_and_skips_approved_days():
    floor = make_floor()
    w1, w2, w3 = floor.workers
    plain_day(floor, w1)
    plain_day(floor, w2, until=300, breaks=())
    # w3 registers nothing that day
    other = make_floor()
    plain_day(other, other.workers[0])
    process(floor)

    days = services.attendance_days_calculate(date=DAY, actor=ACTOR, site=floor.site)
    assert [(d.worker, d.worked_minutes) for d in days] == [(w1, D("450.00")), (w2, D("300.00"))]
    assert not AttendanceDay.objects.filter(worker=w3).exists()
    assert not AttendanceDay.objects.filter(worker=other.workers[0]).exists()

    services.attendance_day_approve(day=days[0], actor=ACTOR)
    again = services.attendance_days_calculate(date=DAY, actor=ACTOR)
    assert [d.worker for d in again] == [w2, other.workers[0]]


def test_calculate_attendance_command():
    floor = make_floor()
    plain_day(floor, floor.workers[0])
    process(floor)

    call_command("calculate_attendance", "--date", "2026-03-02", stdout=(out := _Out()))
    assert out.text == "2026-03-02: 1 attendance day(s) calculated\n"
    assert AttendanceDay.objects.get(worker=floor.workers[0]).paid_minutes == D("450.00")

    call_command("calculate_attendance", stdout=(out := _Out()))  # yesterday: nothing
    assert out.text.endswith(": 0 attendance day(s) calculated\n")


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


# --- Approve, un-approve, transfer -------------------------------------------------------------


def _approved_days(floor, count=2):
    for index, worker in enumerate(floor.workers[:count]):
        plain_day(floor, worker, until=480 + 60 * index)
    process(floor)
    days = [calculate(worker) for worker in floor.workers[:count]]
    return [services.attendance_day_approve(day=day, actor=ACTOR) for day in days]


def test_approve_and_unapprove():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker)
    process(floor)
    day = calculate(worker)
    actor = Actor(user=floor.user)

    day = services.attendance_day_approve(day=day, actor=actor)
    day.refresh_from_db()
    assert (day.status, day.approved_by, day.approved_by_actor) == (
        S.APPROVED,
        floor.user,
        f"user:{floor.user.username}",
    )
    assert day.approved_at is not None

    with pytest.raises(NotAllowed) as refused:
        services.attendance_day_approve(day=day, actor=actor)
    assert refused.value.code == "attendance_day_approved"
    with pytest.raises(NotAllowed) as refused:
        calculate(worker)
    assert refused.value.code == "attendance_day_approved"

    day = services.attendance_day_unapprove(day=day, actor=actor)
    day.refresh_from_db()
    assert (day.status, day.approved_by, day.approved_by_actor, day.approved_at) == (
        S.CALCULATED,
        None,
        "",
        None,
    )
    with pytest.raises(NotAllowed) as refused:
        services.attendance_day_unapprove(day=day, actor=actor)
    assert refused.value.code == "attendance_day_not_approved"
    assert [h.status for h in day.history.order_by("history_id")] == [
        S.CALCULATED,
        S.CALCULATED,
        S.APPROVED,
        S.CALCULATED,
    ]


def test_recalculating_an_approved_day_is_refused_and_changes_nothing():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker)
    process(floor)
    day = services.attendance_day_approve(day=calculate(worker), actor=ACTOR)
    before = figures(day)

    with pytest.raises(NotAllowed) as refused:
        calculate(worker)

    assert refused.value.code == "attendance_day_approved"
    assert figures(day) == before
    assert day.status == S.APPROVED


def test_approve_needs_an_up_to_date_calculation():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker)
    process(floor)
    day = calculate(worker)
    floor.post("absence", at=500, badge_id=worker, absence_code="DOC", absence_minutes="30")

    with pytest.raises(NotAllowed) as refused:  # the absence waits for the processor
        services.attendance_day_approve(day=day, actor=ACTOR)
    assert refused.value.code == "attendance_day_pending"

    process(floor)
    with pytest.raises(NotAllowed) as refused:  # processed after the calculation
        services.attendance_day_approve(day=day, actor=ACTOR)
    assert refused.value.code == "attendance_day_stale"

    day = services.attendance_day_approve(day=calculate(worker), actor=ACTOR)
    assert (day.status, day.absence_minutes) == (S.APPROVED, D("30.00"))


def test_registration_on_an_approved_day_is_refused_until_unapproved():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker)
    process(floor)
    day = services.attendance_day_approve(day=calculate(worker), actor=ACTOR)

    response = floor.post(
        "absence", at=500, badge_id=worker, absence_code="DOC", absence_minutes="45", expect=409
    )
    assert response.json()["code"] == "attendance_day_approved"

    services.attendance_day_unapprove(day=day, actor=ACTOR)
    floor.post("absence", at=500, badge_id=worker, absence_code="DOC", absence_minutes="45")
    process(floor)
    day = calculate(worker)
    assert (day.absence_minutes, day.paid_minutes) == (D("45.00"), D("495.00"))


def test_transfer_only_approved_days_and_the_pay_basis_csv():
    floor = make_floor()
    first, second = _approved_days(floor)
    plain_day(floor, floor.workers[2])
    process(floor)
    calculated = calculate(floor.workers[2])
    actor = Actor(user=floor.user)

    with pytest.raises(NotAllowed) as refused:
        attendance_days_transfer(days=[first, second, calculated], actor=actor)
    assert refused.value.code == "attendance_day_not_approved"
    assert {d.pk: d.status for d in AttendanceDay.objects.all()} == {
        first.pk: S.APPROVED,
        second.pk: S.APPROVED,
        calculated.pk: S.CALCULATED,
    }

    text = attendance_days_transfer(days=[second, first], actor=actor)

    b1, b2 = (w.badge_id for w in floor.workers[:2])
    assert text == (
        HEADER
        + f"{b1},Worker 1,2026-03-02,STD,450.00,450.00,0.00,0.00,30.00,0.00,0.00\r\n"
        + f"{b2},Worker 2,2026-03-02,STD,510.00,510.00,30.00,0.00,30.00,0.00,0.00\r\n"
    )
    for day in (first, second):
        day.refresh_from_db()
        assert day.status == S.TRANSFERRED
        assert day.transferred_at is not None
    # Transferred is final.
    for service, code in (
        (services.attendance_day_unapprove, "attendance_day_transferred"),
        (services.attendance_day_approve, "attendance_day_transferred"),
    ):
        with pytest.raises(NotAllowed) as refused:
            service(day=first, actor=actor)
        assert refused.value.code == code
    with pytest.raises(NotAllowed) as refused:
        calculate(floor.workers[0])
    assert refused.value.code == "attendance_day_approved"
    with pytest.raises(NotAllowed) as refused:
        attendance_days_transfer(days=[first], actor=actor)
    assert refused.value.code == "attendance_day_not_approved"
    response = floor.post("clock_in", at=600, badge_id=floor.workers[0], expect=409)
    assert response.json()["code"] == "attendance_day_approved"


def test_pay_basis_csv_without_transfer_changes_nothing():
    floor = make_floor()
    (day,) = _approved_days(floor, count=1)

    text = pay_basis_csv(days=[day])

    assert text == HEADER + (
        f"{floor.workers[0].badge_id},Worker 1,2026-03-02,STD,450.00,450.00,0.00,0.00,30.00,"
        "0.00,0.00\r\n"
    )
    day.refresh_from_db()
    assert day.status == S.APPROVED


PAY_BASIS_SENT = []


def _pay_basis_recorded(*, days, csv_text):
    PAY_BASIS_SENT.append(([(d.pk, d.status) for d in days], csv_text))


def _pay_basis_broken(*, days, csv_text):
    raise RuntimeError("payroll outbox is down")


def test_the_pay_basis_sender_receives_the_days_inside_the_transfer(settings):
    floor = make_floor()
    days = _approved_days(floor)
    PAY_BASIS_SENT.clear()

    settings.MES_PAY_BASIS_SENDER = f"{__name__}._pay_basis_broken"
    with pytest.raises(RuntimeError):
        attendance_days_transfer(days=days, actor=ACTOR)
    # The failing sender rolled the transfer back.
    assert set(AttendanceDay.objects.values_list("status", flat=True)) == {S.APPROVED}

    settings.MES_PAY_BASIS_SENDER = f"{__name__}._pay_basis_recorded"
    text = attendance_days_transfer(days=days, actor=ACTOR)
    sent = PAY_BASIS_SENT
    assert sent == [([(days[0].pk, S.TRANSFERRED), (days[1].pk, S.TRANSFERRED)], text)]


# --- Admin -------------------------------------------------------------------------------------


def _admin(floor) -> Client:
    client = Client()
    client.force_login(floor.user)
    return client


def _action(client, action, days):
    """Run an admin action; a redirect back to the list is followed, so its messages are
    read (and used up) by the list page."""
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [d.pk for d in days]},
        follow=True,
    )


def _messages(response) -> list[tuple[str, str]]:
    assert response.redirect_chain == [(reverse(CHANGELIST), 302)]
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def test_admin_changelist_and_approve_action():
    floor = make_floor()
    plain_day(floor, floor.workers[0])
    process(floor)
    day = calculate(floor.workers[0])
    client = _admin(floor)

    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    content = response.content.decode()
    assert floor.workers[0].badge_id in content
    assert reverse("admin:execution_attendanceday_add") not in content  # days are calculated
    response = client.get(reverse(CHANGELIST), {"q": floor.workers[0].badge_id})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    change = client.get(reverse("admin:execution_attendanceday_change", args=[day.pk]))
    assert change.status_code == 200
    assert change.context["original"].pk == day.pk

    badge = day.worker.badge_id
    response = _action(client, "approve_selected", [day])
    assert _messages(response) == [("success", f"Approved: {badge} 2026-03-02.")]
    day.refresh_from_db()
    assert (day.status, day.approved_by, day.approved_by_actor) == (
        S.APPROVED,
        floor.user,
        f"user:{floor.user.username}",
    )

    # Approving again is refused with a message, not a 500.
    response = _action(client, "approve_selected", [day])
    assert _messages(response) == [
        ("error", f"The attendance day 2026-03-02 of {badge} is already approved.")
    ]

    response = _action(client, "unapprove_selected", [day])
    assert _messages(response) == [("success", f"Un-approved: {badge} 2026-03-02.")]
    day.refresh_from_db()
    assert day.status == S.CALCULATED


def test_admin_calculate_again_action():
    floor = make_floor()
    worker = floor.workers[0]
    plain_day(floor, worker)
    process(floor)
    day = calculate(worker)
    floor.post("absence", at=500, badge_id=worker, absence_code="DOC", absence_minutes="20")
    process(floor)

    response = _action(_admin(floor), "calculate_again", [day])

    assert _messages(response) == [("success", f"Calculated: {worker.badge_id} 2026-03-02.")]
    assert figures(day) == expect(clocked=480, **{"break": 30}, worked=450, absence=20, paid=470)


def test_admin_transfer_returns_the_csv_and_refuses_unapproved_days():
    floor = make_floor()
    days = _approved_days(floor)
    plain_day(floor, floor.workers[2])
    process(floor)
    calculated = calculate(floor.workers[2])
    client = _admin(floor)

    response = _action(client, "transfer_selected", [*days, calculated])
    messages = _messages(response)
    assert len(messages) == 1
    assert messages[0][0] == "error"
    assert "Only approved days can be transferred" in messages[0][1]
    assert set(AttendanceDay.objects.values_list("status", flat=True)) == {
        S.APPROVED,
        S.CALCULATED,
    }

    response = _action(client, "export_pay_basis", days)
    assert response.status_code == 200
    assert set(AttendanceDay.objects.values_list("status", flat=True)) == {
        S.APPROVED,
        S.CALCULATED,
    }
    exported = response.content.decode()

    response = _action(client, "transfer_selected", days)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pay-basis-2026-03-02.csv"'
    b1, b2 = (w.badge_id for w in floor.workers[:2])
    assert (
        response.content.decode()
        == exported
        == (
            HEADER
            + f"{b1},Worker 1,2026-03-02,STD,450.00,450.00,0.00,0.00,30.00,0.00,0.00\r\n"
            + f"{b2},Worker 2,2026-03-02,STD,510.00,510.00,30.00,0.00,30.00,0.00,0.00\r\n"
        )
    )
    assert list(
        AttendanceDay.objects.filter(pk__in=[d.pk for d in days]).values_list("status", flat=True)
    ) == [S.TRANSFERRED, S.TRANSFERRED]


def test_admin_changelist_runs_a_constant_number_of_queries():
    floor = make_floor()
    client = _admin(floor)
    plain_day(floor, floor.workers[0])
    process(floor)
    calculate(floor.workers[0])
    client.get(reverse(CHANGELIST))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse(CHANGELIST)).status_code == 200

    for worker in floor.workers[1:]:
        plain_day(floor, worker)
    process(floor)
    for worker in floor.workers[1:]:
        calculate(worker)
    with CaptureQueriesContext(connection) as three:
        assert client.get(reverse(CHANGELIST)).status_code == 200

    assert len(three) == len(one)
