"""Transfer to payroll: approved days become transferred (locked for good) and their pay
basis (CSV) goes to the pay-basis sender settings.MES_PAY_BASIS_SENDER names. Lock order as
in attendance.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from mesproject.actors import Actor
from mesproject.deployment import refuse_off_hub
from mesproject.errors import ApplicationError, NotAllowed

from ..choices import AttendanceStatus
from ..models import AttendanceDay

S = AttendanceStatus
PAY_BASIS_HEADER = (
    "badge_id",
    "name",
    "date",
    "pay_agreement",
    "worked_minutes",
    "paid_minutes",
    "overtime_minutes",
    "absence_minutes",
    "break_minutes",
    "indirect_minutes",
    "job_minutes",
)


def _ordered(days: Iterable[AttendanceDay]) -> list[AttendanceDay]:
    return sorted(days, key=lambda d: (d.date, d.worker.badge_id, d.pk))


def pay_basis_csv(*, days: Iterable[AttendanceDay]) -> str:
    """The pay basis of the days as CSV (one row per worker and day, by date then badge).
    Pass days with worker__pay_agreement selected to avoid a query per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAY_BASIS_HEADER)
    for day in _ordered(days):
        writer.writerow(
            [
                day.worker.badge_id,
                day.worker.name,
                day.date.isoformat(),
                day.worker.pay_agreement.code,
                *(
                    f"{getattr(day, name):.2f}"
                    for name in PAY_BASIS_HEADER[4:]  # the minute columns
                ),
            ]
        )
    return out.getvalue()


@transaction.atomic
def attendance_days_transfer(*, days: Iterable[AttendanceDay], actor: Actor) -> str:
    """Approved → transferred (locked for good), all or nothing; returns the pay basis CSV
    and hands it with the days to the pay-basis sender (settings.MES_PAY_BASIS_SENDER,
    integration's payroll message), in the same transaction: the transfer and what it sends
    are never apart."""
    refuse_off_hub("Time and attendance approval")
    ids = sorted({day.pk for day in days})
    if not ids:
        raise ApplicationError("Select the attendance days to transfer.", code="days_required")
    locked = list(
        AttendanceDay.objects.select_for_update(of=("self",))
        .select_related("worker__pay_agreement")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    refused = [day for day in locked if day.status != S.APPROVED]
    if refused:
        names = ", ".join(f"{d.worker.badge_id} {d.date} ({d.status})" for d in refused[:10])
        raise NotAllowed(
            f"Only approved days can be transferred to payroll; not: {names}.",
            code="attendance_day_not_approved",
            fields={"days": ",".join(str(d.pk) for d in refused)},
        )
    now = timezone.now()
    for day in locked:
        day.transfer(now)
        day._change_reason = f"transferred by {actor.label}"[:100]
        day.save(update_fields=["status", "transferred_at"])
    text = pay_basis_csv(days=locked)
    # A setting, not an import: execution may not import integration, which sends it.
    import_string(settings.MES_PAY_BASIS_SENDER)(days=_ordered(locked), csv_text=text)
    return text
