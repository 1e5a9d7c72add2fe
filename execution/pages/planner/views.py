"""Planner pages in the browser: the production order list (its CSV export is export.py),
the order page with its transitions, and the order form.

Server-rendered; every action is a plain form POST followed by a redirect. Permissions are
checked here on the server: viewing needs orders.view_productionorder, creating
orders.add_productionorder, changing, splitting and transitions
orders.change_productionorder. Every change goes through the same use cases the admin and
the ERP API call (execution.services.order_lifecycle and order_changes), so a release
reserves materials and creates jobs here too.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from orders import services as order_services
from orders.choices import MANUAL_TRANSITIONS, Transition
from orders.models import ProductionOrder

from ...selectors.shortages import order_release_shortages, release_shortages_to_confirm
from ...services import order_lifecycle
from ...services.order_changes import order_change
from ..corrections import order_corrections
from .filters import OrderListFilter
from .forms import CancelForm, OrderForm, SplitForm, add_service_error
from .selectors import order_page

PAGE_SIZE = 50
VIEW = "orders.view_productionorder"
ADD = "orders.add_productionorder"
CHANGE = "orders.change_productionorder"
# Column headings of the list, in order: (sort key or None, label).
COLUMNS = [
    ("number", "Order"),
    ("item", "Item"),
    ("quantity", "Quantity"),
    (None, "Completed"),
    ("status", "Status"),
    (None, "Site"),
    ("scheduled_start", "Scheduled start"),
    ("priority", "Priority"),
]


def _headings(sort: str) -> list[dict]:
    """Each column heading, with the link that sorts by it and its aria-sort state."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    headings = []
    for key, label in COLUMNS:
        heading = {"key": key, "label": label, "aria_sort": None, "next": None}
        if key is not None:
            if key == current:
                heading["aria_sort"] = "descending" if descending else "ascending"
                heading["next"] = key if descending else f"-{key}"
            else:
                heading["next"] = key
        headings.append(heading)
    return headings


@login_required
@require_GET
@permission_required(VIEW, raise_exception=True)
def order_list(request):
    filters = OrderListFilter(request.GET)
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "planner/order_list.html",
        {
            "filters": filters.form,
            "page": page,
            "headings": _headings(filters.sort),
            "can_add": request.user.has_perm(ADD),
        },
    )


@login_required
@require_GET
@permission_required(VIEW, raise_exception=True)
def order_detail(request, pk: int):
    order = get_object_or_404(
        ProductionOrder.objects.select_related("item__unit", "unit", "site", "bom", "route"), pk=pk
    )
    can_change = request.user.has_perm(CHANGE)
    data = order_page(order=order)
    transitions = [
        {"name": name, "label": Transition(name).label, "blockers": blockers}
        for name, blockers in data.transitions
    ]
    # Shown next to Release, which then asks for confirmation (order_transition).
    releasable = any(t["name"] == Transition.RELEASE and not t["blockers"] for t in transitions)
    release_shortages = order_release_shortages(order=order) if releasable else []
    return render(
        request,
        "planner/order_detail.html",
        {
            "order": order,
            "page_data": data,
            "transitions": transitions,
            "release_shortages": release_shortages,
            "can_change": can_change,
            "editable": order.status in order_services.EDITABLE,
            "split_form": SplitForm(),
            "cancel_form": CancelForm(),
            "progress_max": max(order.quantity, order.quantity_completed),
            "corrections": order_corrections(order=order, user=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(ADD, raise_exception=True)
def order_create(request):
    form = OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = order_services.production_order_create(
                number=data["number"],
                item=data["item"],
                revision=data["revision"].strip() or None,
                quantity=data["quantity"],
                unit=data["unit"],
                site=data["site"],
                scheduled_start=data["scheduled_start"],
                priority=data["priority"],
                over_delivery_tolerance_pct=data["over_delivery_tolerance_pct"],
                restricted=data["restricted"],
                actor=Actor(user=request.user),
            )
        except (ApplicationError, ValidationError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Order {order.number} created.")
            return redirect("planner:order_detail", pk=order.pk)
    if request.method == "POST":
        messages.error(request, "The order was not created: correct the fields marked below.")
    return render(request, "planner/order_form.html", {"form": form, "order": None})


@login_required
@require_http_methods(["GET", "POST"])
@permission_required(CHANGE, raise_exception=True)
def order_edit(request, pk: int):
    order = get_object_or_404(ProductionOrder.objects.select_related("item", "unit", "site"), pk=pk)
    try:
        # The services' own check: a closed (frozen) or canceled order cannot be changed.
        order_services.production_order_check_changes(order=order, changes={})
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("planner:order_detail", pk=order.pk)
    form = OrderForm(request.POST or None, order=order)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, f"Nothing changed on order {order.number}.")
            return redirect("planner:order_detail", pk=order.pk)
        try:
            # The change use case re-syncs a released order's reservations and jobs.
            order = order_change(
                order=order,
                actor=Actor(user=request.user),
                reason="changed on the planner page",
                **changes,
            )
        except (ApplicationError, ValidationError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Order {order.number} saved.")
            return redirect("planner:order_detail", pk=order.pk)
    if request.method == "POST":
        messages.error(request, "The order was not saved: correct the fields marked below.")
    return render(request, "planner/order_form.html", {"form": form, "order": order})


@login_required
@require_POST
@permission_required(CHANGE, raise_exception=True)
def order_split(request, pk: int):
    order = get_object_or_404(ProductionOrder, pk=pk)
    form = SplitForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the step size as a number, e.g. 25.")
        return redirect("planner:order_detail", pk=order.pk)
    try:
        steps = order_services.production_order_split_into_steps(
            order=order, step_size=form.cleaned_data["step_size"]
        )
    except (ApplicationError, ValidationError) as error:
        for message in getattr(error, "messages", None) or [error.message]:
            messages.error(request, message)
    else:
        messages.success(request, f"Order {order.number} split into {len(steps)} step(s).")
    return redirect(reverse("planner:order_detail", args=[order.pk]) + "#steps")


@login_required
@require_POST
@permission_required(CHANGE, raise_exception=True)
def order_transition(request, pk: int, transition: str):
    """One manual transition through execution's order lifecycle, as the admin and the API
    run it (guards re-checked under the row lock; a refusal is shown with its reasons)."""
    order = get_object_or_404(ProductionOrder, pk=pk)
    if transition not in MANUAL_TRANSITIONS:
        messages.error(request, f"{transition!r} is not a transition that can be asked for.")
        return redirect("planner:order_detail", pk=order.pk)
    reason = request.POST.get("reason", "").strip()
    if transition == Transition.CANCEL:
        form = CancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason for canceling the order.")
            return redirect("planner:order_detail", pk=order.pk)
        reason = form.cleaned_data["reason"].strip()
    if transition == Transition.RELEASE and not request.POST.get("confirm_shortages"):
        # A release short of material goes through only once the planner has seen the
        # shortages and confirmed (a second submit with confirm_shortages); nothing changes
        # until then. The release itself reserves the same way either way.
        shortages = release_shortages_to_confirm(order=order)
        if shortages:
            return render(
                request,
                "planner/release_confirm.html",
                {"order": order, "shortages": shortages, "reason": reason},
            )
    try:
        order = order_lifecycle.order_transition(
            order=order,
            transition=transition,
            actor=Actor(user=request.user),
            reason=reason,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        text = f"{Transition(transition).label}: order {order.number} is now "
        text += f"{order.get_status_display()}."
        if transition == Transition.RELEASE:
            text += f" {order.jobs.count()} job(s) created."
        messages.success(request, text)
    return redirect("planner:order_detail", pk=order.pk)
