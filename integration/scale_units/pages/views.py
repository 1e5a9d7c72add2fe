"""Thin views over integration.scale_units.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from integration.choices import ForwardStatus, PackageStatus
from integration.models import HubForward, ReceivedPackage
from integration.scale_units import services as scale_units
from mesproject.errors import ApplicationError
from orders.services import Actor

VIEW_UNITS = "integration.view_scaleunit"
VIEW_PACKAGES = "integration.view_receivedpackage"
CHANGE_PACKAGES = "integration.change_receivedpackage"
CHANGE_FORWARDS = "integration.change_hubforward"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@login_required
@require_GET
def status_page(request):
    """Hub: every scale unit, its last contact, backlog both ways and errors."""
    _require(request, VIEW_UNITS)
    return render(request, "scale_units/status.html", {"rows": scale_units.scale_units_status()})


@login_required
@require_GET
def hub_link_page(request):
    """Scale unit: the manufacturing jobs processing history and the queue to the hub."""
    _require(request, VIEW_PACKAGES)
    status = request.GET.get("status", "")
    order = request.GET.get("order", "").strip()
    packages = ReceivedPackage.objects.defer("payload").order_by("-hub_id")
    if status in PackageStatus.values:
        packages = packages.filter(status=status)
    if order:
        packages = packages.filter(order_number__icontains=order)
    page = Paginator(packages, 50).get_page(request.GET.get("page"))
    waiting = HubForward.objects.defer("payload").exclude(status=ForwardStatus.SENT)
    return render(
        request,
        "scale_units/hub_link.html",
        {
            "page": page,
            "status": status,
            "order": order,
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
def hub_sync_now(request):
    _require(request, CHANGE_PACKAGES)
    summary = scale_units.hub_sync(force=True)
    level = messages.warning if summary.error else messages.success
    level(request, f"Sync with the hub: {summary}.")
    return redirect("scale-units:hub_link")


@login_required
@require_POST
def package_process(request, pk: int):
    _require(request, CHANGE_PACKAGES)
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
def package_cancel(request, pk: int):
    _require(request, CHANGE_PACKAGES)
    package = get_object_or_404(ReceivedPackage, pk=pk)
    actor = Actor(user=request.user)
    return _act(
        request,
        lambda: scale_units.package_cancel(package=package, actor=actor),
        f"Package #{package.hub_id} canceled.",
    )


@login_required
@require_POST
def forward_retry(request, pk: int):
    _require(request, CHANGE_FORWARDS)
    forward = get_object_or_404(HubForward, pk=pk)
    return _act(
        request,
        lambda: scale_units.forward_retry(forward=forward),
        f"Registration {forward.registration_uuid} queued for the hub again.",
    )
