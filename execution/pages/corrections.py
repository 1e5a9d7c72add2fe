"""Corrections in the browser: a supervisor reverses a processed registration with a reason,
from the order page or the processing log (and the admin's processing log links here).

GET shows the registration, what the correction reverses and, when it cannot be corrected
now, why; POST asks registration_correct (the rules live there). Viewing and acting both
need execution.correct_rawregistration (the supervisor role).
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from orders.models import ProductionOrder

from ..choices import RegistrationKind, RegistrationStatus
from ..models import RawRegistration
from ..services.correction_checks import CORRECTABLE_KINDS, correction_refusal_check
from ..services.corrections import REASON_MAX, registration_correct

CORRECT_PERMISSION = "execution.correct_rawregistration"

REVERSES = {
    RegistrationKind.REPORT_PROGRESS: "the job's good and scrap quantities, the material its "
    "output consumed, the order's scrapped quantity and the ERP's scrap message",
    RegistrationKind.REPORT_SCRAP: "the job's and the order's scrapped quantities and the "
    "ERP's scrap message",
    RegistrationKind.REPORT_AS_FINISHED: "the finished goods received (taken back at their lot "
    "and location), the material consumed, the order's completed quantity (a Completed "
    "order goes back to In Progress) and the ERP's production completion",
    RegistrationKind.CONSUME_MATERIAL: "the material consumed (returned to its location) or "
    "returned (issued again)",
}


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX,
        help_text="Why the registration was wrong; kept with the correction.",
    )


def open_corrections() -> QuerySet:
    """Corrections that count: asked, processed or failed, not canceled."""
    return RawRegistration.objects.filter(kind=RegistrationKind.CORRECTION).exclude(
        status=RegistrationStatus.CANCELED
    )


def with_corrections(queryset: QuerySet) -> QuerySet:
    """Each registration with `open_corrections` (a list: its correction, if any) and its
    `corrects` loaded: two queries in all, whatever the row count."""
    return queryset.select_related("corrects").prefetch_related(
        Prefetch("corrections", queryset=open_corrections(), to_attr="open_corrections")
    )


def is_correctable(registration: RawRegistration) -> bool:
    """Offer the action (the service decides): processed, of a correctable kind, not yet
    corrected. Needs with_corrections()."""
    return (
        registration.kind in CORRECTABLE_KINDS
        and registration.status == RegistrationStatus.PROCESSED
        and not registration.open_corrections
    )


@dataclass
class OrderCorrections:
    """The order page's section: its reported quantities and their corrections."""

    rows: list[RawRegistration]
    count: int
    can_correct: bool


def order_corrections(*, order: ProductionOrder, user, limit: int = 20) -> OrderCorrections:
    """The latest registrations of the order that report quantities or correct them."""
    registrations = with_corrections(
        RawRegistration.objects.filter(
            order=order, kind__in=(*CORRECTABLE_KINDS, RegistrationKind.CORRECTION)
        )
        .select_related("worker", "job", "material__component")
        .order_by("-occurred_at", "-id")
    )
    rows = list(registrations[:limit])
    for row in rows:
        row.correctable = is_correctable(row)
    return OrderCorrections(
        rows=rows,
        count=registrations.count(),  # always: the same queries whatever the row count
        can_correct=user.has_perm(CORRECT_PERMISSION),
    )


def corrected_flag(queryset: QuerySet) -> QuerySet:
    """Annotate `is_corrected` (one subquery) for lists that only need to know."""
    return queryset.annotate(
        is_corrected=Exists(open_corrections().filter(corrects=OuterRef("pk")))
    )


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(CORRECT_PERMISSION, raise_exception=True)
def registration_correct_page(request, pk: int):
    registration = get_object_or_404(
        with_corrections(
            RawRegistration.objects.select_related(
                "worker", "order", "job", "material__component", "reason_code", "location"
            )
        ),
        pk=pk,
    )
    default = (
        reverse("planner:order_detail", args=[registration.order_id])
        if registration.order_id
        else reverse("floor:processing_log")
    )
    back = _next_url(request, default)
    form = CorrectionForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            correction = registration_correct(
                registration=registration,
                actor=Actor(user=request.user),
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            messages.success(
                request,
                f"Correction {correction.uuid} of the {registration.get_kind_display().lower()} "
                "is queued: the processor reverses it in its order's lane.",
            )
            return redirect(back)
    blocker = ""
    if request.method == "GET":
        blocker = _blocker(registration)
    return render(
        request,
        "execution/registration_correct.html",
        {
            "registration": registration,
            "form": form,
            "back": back,
            "reverses": REVERSES.get(registration.kind, ""),
            "blocker": blocker,
        },
        status=status,
    )


def _blocker(registration: RawRegistration) -> str:
    """Why it cannot be corrected now (read without locks: the service checks again)."""
    if registration.open_corrections:
        return f"It is already corrected by {registration.open_corrections[0].uuid}."
    if registration.order is None:
        return "Only a registration about an order can be corrected."
    try:
        correction_refusal_check(registration=registration, order=registration.order)
    except ApplicationError as error:
        return error.message
    return ""
