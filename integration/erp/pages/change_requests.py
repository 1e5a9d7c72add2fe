"""The ERP's change requests to running orders, which a supervisor approves or rejects.

Served under /change-requests/ (namespace "change_requests").
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from integration.choices import ChangeRequestStatus
from integration.erp.services.work_orders import (
    CHANGEABLE_FIELDS,
    change_request_approve,
    change_request_reject,
)
from integration.models import ChangeRequest
from inventory.fields import show
from mesproject.actors import Actor
from mesproject.errors import ApplicationError

PAGE_SIZE = 50

VIEW_CHANGE_REQUEST = "integration.view_changerequest"
CHANGE_CHANGE_REQUEST = "integration.change_changerequest"
APPROVE, REJECT = "approve", "reject"
FIELD_LABELS = {
    "qty_target": "Quantity",
    "scheduled_start": "Scheduled start",
    "priority": "Priority",
}


class ChangeRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label="Status", choices=ChangeRequestStatus.choices, empty_label="Any status"
    )

    class Meta:
        model = ChangeRequest
        fields = ["status"]


class DecisionForm(forms.Form):
    note = forms.CharField(max_length=500, required=False, strip=True)


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
@permission_required(VIEW_CHANGE_REQUEST, raise_exception=True)
@require_GET
def change_request_list(request):
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
    filters = ChangeRequestFilter(request.GET, queryset=requests)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for each in page:
        each.change_rows = _changes(each)
    return render(
        request,
        "integration/change_requests.html",
        {
            "filters": filters.form,
            "page": page,
            "can_act": request.user.has_perm(CHANGE_CHANGE_REQUEST),
            "pending_count": ChangeRequest.objects.filter(
                status=ChangeRequestStatus.PENDING
            ).count(),
            "PENDING": ChangeRequestStatus.PENDING,
        },
    )


@login_required
@permission_required(CHANGE_CHANGE_REQUEST, raise_exception=True)
@require_POST
def change_request_decide(request, pk: int):
    """Approve (the change is applied to the order now) or reject, with an optional note."""
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
            service(
                request=change_request,
                actor=Actor(user=request.user),
                note=form.cleaned_data["note"],
            )
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
        target = reverse("change_requests:list")
    return redirect(target)


app_name = "change_requests"

urlpatterns = [
    path("", change_request_list, name="list"),
    path("<int:pk>/decide/", change_request_decide, name="decide"),
]
