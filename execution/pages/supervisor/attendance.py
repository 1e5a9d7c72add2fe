"""Time and attendance: the days to review, calculate a date, approve / unapprove, transfer
the pay basis to payroll (CSV). Viewing needs execution.view_attendanceday, acting
execution.change_attendanceday; every change goes through execution.services.attendance,
whose refusals are shown as messages. The admin's attendance actions share the pay basis
download (csv_response) and the minute columns."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from ...choices import AttendanceStatus
from ...models import AttendanceDay
from ...services import attendance as attendance_services
from ...services.attendance_pay import attendance_days_transfer, pay_basis_csv
from .filters import AttendanceFilter
from .forms import AttendanceCalculateForm
from .lists import next_url, paginate, selected_rows
from .selectors import attendance_days

VIEW_DAY, CHANGE_DAY = "execution.view_attendanceday", "execution.change_attendanceday"
MINUTE_FIELDS = (
    "clocked_minutes",
    "break_minutes",
    "worked_minutes",
    "job_minutes",
    "indirect_minutes",
    "absence_minutes",
    "paid_minutes",
    "overtime_minutes",
)


def csv_response(days, text: str) -> HttpResponse:
    dates = sorted({day.date for day in days})
    label = dates[0].isoformat()
    if len(dates) > 1:
        label += f"_{dates[-1].isoformat()}"
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pay-basis-{label}.csv"'
    return response


@login_required
@require_GET
@permission_required(VIEW_DAY, raise_exception=True)
def attendance(request):
    filters = AttendanceFilter(request.GET, queryset=attendance_days())
    page = paginate(request.GET, filters.qs)
    counts = AttendanceDay.objects.aggregate(
        calculated=Count("id", filter=Q(status=AttendanceStatus.CALCULATED)),
        approved=Count("id", filter=Q(status=AttendanceStatus.APPROVED)),
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    return render(
        request,
        "supervisor/attendance.html",
        {
            "filters": filters.form,
            "page": page,
            "counts": counts,
            "calculate_form": AttendanceCalculateForm(initial={"date": yesterday}),
            "can_act": request.user.has_perm(CHANGE_DAY),
            "minute_fields": MINUTE_FIELDS,
            "S": AttendanceStatus,
        },
    )


def _attendance_back(request):
    return redirect(next_url(request, reverse("supervisor:attendance")))


@login_required
@require_POST
@permission_required(CHANGE_DAY, raise_exception=True)
def attendance_calculate(request):
    form = AttendanceCalculateForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _attendance_back(request)
    date, site = form.cleaned_data["date"], form.cleaned_data["site"]
    days = attendance_services.attendance_days_calculate(
        date=date, site=site, actor=Actor(user=request.user)
    )
    where = f" at {site.code}" if site else ""
    messages.success(
        request,
        f"{len(days)} attendance day(s) of {date:%Y-%m-%d}{where} calculated "
        "(approved and transferred days are left as they are).",
    )
    return _attendance_back(request)


def _each_day(request, service, verb: str):
    ids = selected_rows(request, "day")
    if not ids:
        messages.warning(request, "Select at least one attendance day.")
        return _attendance_back(request)
    actor = Actor(user=request.user)
    done = []
    days = AttendanceDay.objects.filter(pk__in=ids).select_related("worker")
    for day in days.order_by("date", "worker__badge_id"):
        try:
            service(day=day, actor=actor)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            done.append(f"{day.worker.badge_id} {day.date:%Y-%m-%d}")
    if done:
        messages.success(request, f"{verb} {len(done)} day(s): {', '.join(done)}.")
    return _attendance_back(request)


@login_required
@require_POST
@permission_required(CHANGE_DAY, raise_exception=True)
def attendance_approve(request):
    return _each_day(request, attendance_services.attendance_day_approve, "Approved")


@login_required
@require_POST
@permission_required(CHANGE_DAY, raise_exception=True)
def attendance_unapprove(request):
    return _each_day(request, attendance_services.attendance_day_unapprove, "Un-approved")


@login_required
@require_POST
@permission_required(CHANGE_DAY, raise_exception=True)
def attendance_transfer(request):
    """Approved days to payroll, all or nothing; the answer is the pay basis CSV."""
    days = list(
        AttendanceDay.objects.filter(pk__in=selected_rows(request, "day")).select_related(
            "worker__pay_agreement"
        )
    )
    try:
        text = attendance_days_transfer(days=days, actor=Actor(user=request.user))
    except ApplicationError as error:
        messages.error(request, error.message)
        return _attendance_back(request)
    messages.success(request, f"{len(days)} day(s) transferred to payroll (pay basis downloaded).")
    return csv_response(days, text)


@login_required
@require_POST
@permission_required(VIEW_DAY, raise_exception=True)
def attendance_export(request) -> HttpResponse:
    """The pay basis of the selected days, without transferring them (a check first)."""
    days = list(
        AttendanceDay.objects.filter(pk__in=selected_rows(request, "day")).select_related(
            "worker__pay_agreement"
        )
    )
    if not days:
        messages.warning(request, "Select at least one attendance day.")
        return _attendance_back(request)
    return csv_response(days, pay_basis_csv(days=days))
