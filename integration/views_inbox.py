"""What reaches people: notifications of the signed-in user's roles (DLQ alerts,
reconciliation flags, change requests), newest first, unread ones marked, read on demand; and
the ERP's change requests to running orders, which a supervisor approves or rejects."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from integration.erp.services.work_orders import (
    CHANGEABLE_FIELDS,
    change_request_approve,
    change_request_reject,
)
from inventory.fields import show
from mesproject.errors import ApplicationError
from mesproject.forms import selected_ids

from .choices import ChangeRequestStatus
from .models import ChangeRequest, Notification
from .services.notifications import notification_mark_read, notifications_for

PAGE_SIZE = 50


def _with_read_flag(user):
    read = Notification.read_by.through.objects.filter(
        notification_id=OuterRef("pk"), user_id=user.pk
    )
    return notifications_for(user).annotate(is_read=Exists(read))


@login_required
@require_GET
def notification_list(request):
    notifications = _with_read_flag(request.user)
    if request.GET.get("unread"):
        notifications = notifications.filter(is_read=False)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "integration/notifications.html",
        {"page": page, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
@require_POST
def notifications_mark_read(request):
    """Marks the chosen notifications (or, with `all`, every unread one) as read."""
    notifications = _with_read_flag(request.user).filter(is_read=False)
    if not request.POST.get("all"):
        ids = selected_ids(request.POST.getlist("notification"))
        notifications = notifications.filter(pk__in=ids)
    count = 0
    for notification in notifications:
        notification_mark_read(notification=notification, user=request.user)
        count += 1
    messages.success(request, f"{count} notification(s) marked as read.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "inbox:notifications"
    return redirect(target)


# --- Change requests from the ERP ---------------------------------------------------------------

VIEW_CHANGE_REQUEST = "integration.view_changerequest"
CHANGE_CHANGE_REQUEST = "integration.change_changerequest"
APPROVE, REJECT = "approve", "reject"
FIELD_LABELS = {
    "qty_target": "Quantity",
    "scheduled_start": "Scheduled start",
    "priority": "Priority",
}


class ChangeRequestFilter(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ChangeRequestStatus.choices], required=False
    )


class DecisionForm(forms.Form):
    note = forms.CharField(max_length=500, required=False, strip=True)


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _show(value) -> str:
    """A value as people read it: quantities without trailing zeros, local date-times."""
    if value is None or value == "":
        return "none"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return show(value)
    if isinstance(value, str):
        try:
            return _show(datetime.fromisoformat(value))
        except ValueError:
            pass
        try:
            return _show(Decimal(value))
        except InvalidOperation:
            return value
    return str(value)


def _changes(request: ChangeRequest) -> list[dict]:
    """Field, its value on the order now, and the value the ERP asks for."""
    rows = []
    # A fixed order: PostgreSQL's jsonb does not keep the keys in the order the ERP sent.
    names = sorted(request.changes, key=lambda n: [*CHANGEABLE_FIELDS, n].index(n))
    for name in names:
        requested = request.changes[name]
        field = CHANGEABLE_FIELDS.get(name)
        rows.append(
            {
                "label": FIELD_LABELS.get(name, name),
                "name": name,
                "current": _show(getattr(request.order, field)) if field else "",
                "requested": _show(requested),
            }
        )
    return rows


@login_required
@require_GET
def change_request_list(request):
    _require(request, VIEW_CHANGE_REQUEST)
    filters = ChangeRequestFilter(request.GET)
    requests = (
        ChangeRequest.objects.select_related("order__item", "decided_by")
        .annotate(
            # Pending first: they wait for a decision; the rest is history.
            pending_first=Case(
                When(status=ChangeRequestStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("pending_first", "-requested_at", "-id")
    )
    if filters.is_valid() and filters.cleaned_data["status"]:
        requests = requests.filter(status=filters.cleaned_data["status"])
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    for each in page:
        each.change_rows = _changes(each)
    return render(
        request,
        "integration/change_requests.html",
        {
            "filters": filters,
            "page": page,
            "can_act": request.user.has_perm(CHANGE_CHANGE_REQUEST),
            "pending_count": ChangeRequest.objects.filter(
                status=ChangeRequestStatus.PENDING
            ).count(),
            "PENDING": ChangeRequestStatus.PENDING,
        },
    )


@login_required
@require_POST
def change_request_decide(request, pk: int):
    """Approve (the change is applied to the order now) or reject, with an optional note."""
    _require(request, CHANGE_CHANGE_REQUEST)
    change_request = get_object_or_404(ChangeRequest.objects.select_related("order"), pk=pk)
    decision = request.POST.get("decision", "")
    form = DecisionForm(request.POST)
    if decision not in (APPROVE, REJECT):
        messages.error(request, "Choose Approve or Reject.")
    elif not form.is_valid():
        messages.error(request, f"Note: {' '.join(form.errors['note'])}")
    else:
        service = change_request_approve if decision == APPROVE else change_request_reject
        try:
            service(request=change_request, user=request.user, note=form.cleaned_data["note"])
        except ApplicationError as error:
            messages.error(
                request, f"Change request of order {change_request.order.number}: {error.message}"
            )
        else:
            verb = "approved and applied" if decision == APPROVE else "rejected"
            messages.success(
                request, f"The change request of order {change_request.order.number} is {verb}."
            )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("inbox:change_requests")
    return redirect(target)
