"""Thin views over integration.scale_units.services."""

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from integration.choices import ForwardStatus, PackageStatus
from integration.models import HubForward, ReceivedPackage
from integration.scale_units import services as scale_units
from mesproject.actors import Actor
from mesproject.errors import ApplicationError

VIEW_UNITS = "integration.view_scaleunit"
VIEW_PACKAGES = "integration.view_receivedpackage"
CHANGE_PACKAGES = "integration.change_receivedpackage"
CHANGE_FORWARDS = "integration.change_hubforward"


class ReceivedPackageFilter(django_filters.FilterSet):
    """The hub link page's packages by status and order number (part of it)."""

    status = django_filters.ChoiceFilter(choices=PackageStatus.choices)
    order = django_filters.CharFilter(field_name="order_number", lookup_expr="icontains")

    class Meta:
        model = ReceivedPackage
        fields = ["status", "order"]


@login_required
@require_GET
@permission_required(VIEW_UNITS, raise_exception=True)
def status_page(request):
    """Hub: every scale unit, its last contact, backlog both ways and errors."""
    return render(request, "scale_units/status.html", {"rows": scale_units.scale_units_status()})


@login_required
@require_GET
@permission_required(VIEW_PACKAGES, raise_exception=True)
def hub_link_page(request):
    """Scale unit: the manufacturing jobs processing history and the queue to the hub."""
    filters = ReceivedPackageFilter(
        request.GET, queryset=ReceivedPackage.objects.defer("payload").order_by("-hub_id")
    )
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    chosen = filters.form.cleaned_data
    waiting = HubForward.objects.defer("payload").exclude(status=ForwardStatus.SENT)
    return render(
        request,
        "scale_units/hub_link.html",
        {
            "page": page,
            "status": chosen.get("status") or "",
            "order": chosen.get("order") or "",
            "statuses": PackageStatus.choices,
            "actionable": (PackageStatus.NEW, PackageStatus.FAILED),
            "backlog": scale_units.backlog(),
            "waiting": waiting.order_by("id")[:50],
            "can_change": request.user.has_perm(CHANGE_PACKAGES),
            "can_retry": request.user.has_perm(CHANGE_FORWARDS),
        },
    )


def _act(request, action, done: str):
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("scale-units:hub_link")


@login_required
@require_POST
@permission_required(CHANGE_PACKAGES, raise_exception=True)
def hub_sync_now(request):
    summary = scale_units.hub_sync(force=True)
    level = messages.warning if summary.error else messages.success
    level(request, f"Sync with the hub: {summary}.")
    return redirect("scale-units:hub_link")


@login_required
@require_POST
@permission_required(CHANGE_PACKAGES, raise_exception=True)
def package_process(request, pk: int):
    package = get_object_or_404(ReceivedPackage, pk=pk)
    try:
        package = scale_units.package_process_again(package=package, actor=Actor(user=request.user))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if package.status == PackageStatus.PROCESSED:
            messages.success(request, f"Package #{package.hub_id} processed.")
        else:
            messages.error(request, f"Package #{package.hub_id} failed again: {package.error}")
    return redirect("scale-units:hub_link")


@login_required
@require_POST
@permission_required(CHANGE_PACKAGES, raise_exception=True)
def package_cancel(request, pk: int):
    package = get_object_or_404(ReceivedPackage, pk=pk)
    actor = Actor(user=request.user)
    return _act(
        request,
        lambda: scale_units.package_cancel(package=package, actor=actor),
        f"Package #{package.hub_id} canceled.",
    )


@login_required
@require_POST
@permission_required(CHANGE_FORWARDS, raise_exception=True)
def forward_retry(request, pk: int):
    forward = get_object_or_404(HubForward, pk=pk)
    return _act(
        request,
        lambda: scale_units.forward_retry(forward=forward),
        f"Registration {forward.registration_uuid} queued for the hub again.",
    )
