"""Hub and scale units, the hub's side (docs/scale_units.md): scale units and their packages.

A release (or a cancel, an unrelease, a close, a quantity change...) of an order at a site a
scale unit runs writes a package in the same transaction: the order, its materials and jobs,
what they point at (items, units, BOM, route, the site's resources, locations, terminals and
workers) and the reference data that is no order's (absence codes, indirect activities,
reason codes, pay agreements). Rows keep their hub ids on the scale unit, so a job id or a
worker's badge means the same on both sides. The scale unit takes its packages itself
(packages_take, behind the hub's API); the registrations it forwards are accepted here only
from it (execution checks it with the sender: senders.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone
from rest_framework.authtoken.models import Token

from execution.choices import RegistrationStatus
from execution.models import (
    AbsenceCode,
    IndirectActivity,
    PayAgreement,
    RawRegistration,
    Terminal,
    Worker,
)
from integration.choices import PackageKind
from integration.models import HubPackage, ScaleUnit, ScaleUnitSite
from integration.scale_units.services.common import HUB_OWNED, RUNNING
from inventory.models import Location, Site, UnitOfMeasure, Warehouse
from mesproject.deployment import is_scale_unit
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.roles import OPERATOR
from orders.choices import OrderStatus, Transition
from orders.models import ProductionOrder, ReasonCode, Resource

_RANK = {model: rank for rank, model in enumerate(HUB_OWNED)}
# The transitions a scale unit hears of; the automatic ones it works out itself.
SENT_TRANSITIONS = (
    Transition.RELEASE,
    Transition.UNRELEASE,
    Transition.CANCEL,
    Transition.CLOSE,
    Transition.REOPEN,
    Transition.UNTERMINATE,
)


@dataclass
class Registered:
    scale_unit: ScaleUnit
    token: str


@transaction.atomic
def scale_unit_register(
    *, code: str, name: str = "", sites: Iterable[Site], rotate_token: bool = False
) -> Registered:
    """Create (or update) a scale unit with its sites and an API token of its own; queue the
    reference data and the packages of the orders already released at its sites."""
    code = code.strip()
    if not code:
        raise ApplicationError("A scale unit needs a code.", code="scale_unit_code_required")
    sites = list(sites)
    if not sites:
        raise ApplicationError("Name the sites the scale unit runs.", code="sites_required")
    taken = ScaleUnitSite.objects.filter(site__in=sites).exclude(scale_unit__code=code)
    if taken.exists():
        first = taken.select_related("site", "scale_unit").first()
        raise NotAllowed(
            f"Site {first.site.code} is already run by scale unit {first.scale_unit.code}.",
            code="site_taken",
            fields={"site": first.site.code},
        )
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=f"scale-unit-{code}")
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    operator = Group.objects.filter(name=OPERATOR).first()
    if operator is None:
        raise ApplicationError(
            "Run manage.py setup_roles first: the scale unit posts as an operator.",
            code="roles_missing",
        )
    user.groups.add(operator)
    unit, created = ScaleUnit.objects.update_or_create(
        code=code, defaults={"name": name or code, "user": user, "is_active": True}
    )
    new_sites = [s for s in sites if not ScaleUnitSite.objects.filter(site=s).exists()]
    ScaleUnitSite.objects.bulk_create([ScaleUnitSite(scale_unit=unit, site=s) for s in new_sites])
    if rotate_token:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    package_reference_enqueue(scale_unit=unit, reason="registered" if created else "updated")
    running = ProductionOrder.objects.filter(site__in=new_sites, status__in=RUNNING)
    for order in running:
        _enqueue_order(unit, order, reason="scale unit registered")
    return Registered(unit, token.key)


def scale_unit_of(site_id: int) -> ScaleUnit | None:
    return (
        ScaleUnit.objects.filter(sites__site_id=site_id, is_active=True).only("pk", "code").first()
    )


def _with_dependencies(objects: Iterable) -> list:
    """The objects and every hub-owned row they point at, so the scale unit can insert them
    with their foreign keys intact."""
    seen: dict[tuple[type, object], object] = {}
    stack = list(objects)
    while stack:
        obj = stack.pop()
        key = (type(obj), obj.pk)
        if key in seen:
            continue
        seen[key] = obj
        for f in obj._meta.concrete_fields:
            if not f.is_relation or f.related_model not in _RANK:
                continue
            target = getattr(obj, f.attname)
            # Most targets are in the package already (the site, units, codes): no query.
            if target is not None and (f.related_model, target) not in seen:
                stack.append(getattr(obj, f.name))
    return sorted(seen.values(), key=lambda o: (_RANK[type(o)], o.pk))


def _serialized(objects: Iterable) -> list[dict]:
    return json.loads(serializers.serialize("json", _with_dependencies(objects)))


def _reference_objects(sites: Iterable[Site]) -> list:
    """What no order owns: the site(s), their resources, terminals and workers, and the codes."""
    site_ids = [s.pk for s in sites]
    resources = list(Resource.objects.filter(site_id__in=site_ids))
    return [
        *Site.objects.filter(pk__in=site_ids),
        *Warehouse.objects.filter(site_id__in=site_ids),
        *Location.objects.filter(warehouse__site_id__in=site_ids),
        *resources,
        *Terminal.objects.filter(resource__in=resources),
        *Worker.objects.filter(site_id__in=site_ids),
        *PayAgreement.objects.all(),
        *AbsenceCode.objects.all(),
        *IndirectActivity.objects.all(),
        *ReasonCode.objects.all(),
        *UnitOfMeasure.objects.all(),
    ]


def _order_objects(order: ProductionOrder) -> list:
    objects: list = [
        order,
        *order.materials.all(),
        *order.jobs.all(),
    ]
    if order.bom_id:
        objects += [order.bom, *order.bom.lines.all()]
    if order.route_id:
        objects += [order.route, *order.route.operations.all()]
    return objects


def package_payload(*, scale_unit: ScaleUnit, order: ProductionOrder | None = None) -> dict:
    sites = Site.objects.filter(scale_unit_site__scale_unit=scale_unit)
    objects = _reference_objects(sites)
    payload: dict = {"scale_unit": scale_unit.code}
    if order is not None:
        objects += _order_objects(order)
        payload["order"] = {"number": order.number, "status": order.status}
    payload["objects"] = _serialized(objects)
    return payload


@transaction.atomic
def package_reference_enqueue(*, scale_unit: ScaleUnit, reason: str = "reference data") -> None:
    """Queue the reference data (new absence codes, workers...) for a scale unit."""
    HubPackage.objects.create(
        scale_unit=scale_unit,
        kind=PackageKind.REFERENCE,
        reason=reason,
        payload=package_payload(scale_unit=scale_unit),
    )


def packages_reference_refresh() -> int:
    """Beat, hourly: a new absence code, worker or reason code reaches the scale units
    without waiting for an order. Queued only where the reference data changed."""
    sent = 0
    for unit in ScaleUnit.objects.filter(is_active=True):
        payload = package_payload(scale_unit=unit)
        last = (
            HubPackage.objects.filter(scale_unit=unit, kind=PackageKind.REFERENCE)
            .order_by("-pk")
            .values_list("payload", flat=True)
            .first()
        )
        if last != payload:
            HubPackage.objects.create(
                scale_unit=unit, kind=PackageKind.REFERENCE, reason="changed", payload=payload
            )
            sent += 1
    return sent


def _enqueue_order(unit: ScaleUnit, order: ProductionOrder, *, reason: str) -> HubPackage:
    return HubPackage.objects.create(
        scale_unit=unit,
        kind=PackageKind.ORDER,
        order_number=order.number,
        reason=reason,
        payload=package_payload(scale_unit=unit, order=order),
    )


def order_package_effect(*, order: ProductionOrder, transition: str) -> None:
    """In the transition's or change's transaction: an order of a site a scale unit runs
    changed on the hub; queue its package. Orders never released stay here."""
    if is_scale_unit():
        return
    unit = scale_unit_of(order.site_id)
    if unit is None:
        return
    if order.status == OrderStatus.CREATED and transition != Transition.UNRELEASE:
        return
    _enqueue_order(unit, order, reason=transition)


@transaction.atomic
def packages_take(*, scale_unit: ScaleUnit, after: int, limit: int = 50, report: dict) -> list:
    """What a scale unit asks for: its packages after `after` (which it has stored, so they
    are acknowledged). Notes the contact and what the scale unit says of itself."""
    ScaleUnit.objects.filter(pk=scale_unit.pk).update(
        last_contact_at=timezone.now(),
        acked_package_id=max(after, 0),
        reported_backlog=max(int(report.get("backlog", 0)), 0),
        reported_failed_packages=max(int(report.get("failed_packages", 0)), 0),
        reported_rejected=max(int(report.get("rejected", 0)), 0),
    )
    return list(
        HubPackage.objects.filter(scale_unit=scale_unit, pk__gt=after).order_by("pk")[:limit]
    )


def scale_units_status():
    """The hub's status page: each scale unit, its backlog both ways and its errors, in a
    constant number of queries."""
    received = RawRegistration.objects.filter(source=Concat(Value("scale-unit:"), OuterRef("code")))
    return (
        ScaleUnit.objects.annotate(
            packages_waiting=Subquery(
                HubPackage.objects.filter(
                    scale_unit=OuterRef("pk"), pk__gt=OuterRef("acked_package_id")
                )
                .values("scale_unit")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            # Both by status, which is indexed: the hub's registrations grow for years.
            registrations_waiting=Subquery(
                received.filter(status=RegistrationStatus.NEW)
                .values("source")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            registrations_failed=Subquery(
                received.filter(status=RegistrationStatus.FAILED)
                .values("source")
                .annotate(n=Count("pk"))
                .values("n")
            ),
        )
        .prefetch_related("sites__site")
        .order_by("code")
    )
