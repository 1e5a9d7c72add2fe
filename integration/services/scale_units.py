"""Hub and scale units (docs/scale_units.md).

Hub -> scale unit: a release (or a cancel, an unrelease, a close, a quantity change...) of an
order at a site a scale unit runs writes a package in the same transaction: the order, its
materials and jobs, what they point at (items, units, BOM, route, the site's resources,
locations, terminals and workers) and the reference data that is no order's (absence codes,
indirect activities, reason codes, pay agreements). Rows keep their hub ids on the scale
unit, so a job id or a worker's badge means the same on both sides.

Scale unit -> hub: every registration accepted on the scale unit is queued, in the same
transaction, as the hub's API takes it; the sync posts the queue in acceptance order, in
batches, to the hub's registration endpoint, which is idempotent by registration UUID. The
scale unit always calls the hub (packages are pulled): a plant's firewall lets it out, and
the hub needs no route to it. HTTP, not a broker both must reach: the hub already serves
this API with its tokens, and a scale unit that cannot reach it simply keeps its queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.cache import cache
from django.core.serializers.base import DeserializationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone
from rest_framework.authtoken.models import Token

from execution.choices import RegistrationStatus
from execution.models import (
    AbsenceCode,
    IndirectActivity,
    Job,
    LogbookEntry,
    PayAgreement,
    RawRegistration,
    Terminal,
    Worker,
)
from inventory.models import Item, Location, Site, UnitConversion, UnitOfMeasure, Warehouse
from mesproject.deployment import is_scale_unit
from mesproject.errors import ApplicationError, NotAllowed
from orders.choices import OrderStatus, Transition
from orders.models import (
    Bom,
    BomLine,
    ProductionOrder,
    ProductionOrderMaterial,
    ReasonCode,
    Resource,
    Route,
    RouteOperation,
)
from orders.services import Actor

from ..choices import ForwardStatus, PackageKind, PackageStatus
from ..http import http_call
from ..models import (
    HubForward,
    HubLink,
    HubPackage,
    ReceivedPackage,
    ScaleUnit,
    ScaleUnitSite,
)
from ..roles import OPERATOR

logger = logging.getLogger(__name__)

# Everything that originates on the hub and travels to a scale unit, in the order a reader
# expects (the foreign keys are deferred to the commit, so it is not needed for inserting).
HUB_OWNED = (
    UnitOfMeasure,
    UnitConversion,
    Item,
    Site,
    Warehouse,
    Location,
    Resource,
    ReasonCode,
    Bom,
    BomLine,
    Route,
    RouteOperation,
    PayAgreement,
    Worker,
    Terminal,
    AbsenceCode,
    IndirectActivity,
    ProductionOrder,
    ProductionOrderMaterial,
    Job,
)
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
# Order fields the hub decides; the quantities reported and the running status are the
# floor's (the scale unit's registrations reach the hub later).
ORDER_HUB_FIELDS = (
    "item_id",
    "revision",
    "quantity",
    "unit_id",
    "over_delivery_tolerance_pct",
    "scheduled_start",
    "priority",
    "site_id",
    "restricted",
    "bom_id",
    "route_id",
    # The ERP's force close, on the hub: the scale unit refuses new starts too.
    "closing_since",
)
HUB_STATUSES = (OrderStatus.CREATED, OrderStatus.CANCELED, OrderStatus.CLOSED)
RUNNING = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
SYNC_ACTOR = Actor(process="hub-sync")
SYNC_LOCK = "integration:hub-sync-running"


# --- Hub: scale units and their packages ------------------------------------------------------


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


def _site_of(data) -> int | None:
    if data.order is not None:
        return data.order.site_id
    if data.worker is not None:
        return data.worker.site_id
    if data.resource is not None:
        return data.resource.site_id
    return None


def registration_site_guard(*, data, actor) -> list[str]:
    """Hub, execution's acceptance guard: the floor of a site a scale unit runs lives on that
    scale unit, so the hub takes that site's registrations from it only (a terminal pointed
    at the hub by mistake would make the two drift apart); a scale unit posts for its own
    sites only."""
    site_id = _site_of(data)
    if site_id is None:
        return []
    caller = getattr(actor.user, "scale_unit", None) if actor.user is not None else None
    owner = scale_unit_of(site_id)
    if caller is not None and (owner is None or owner.pk != caller.pk):
        return [f"scale unit {caller.code} does not run this registration's site"]
    if caller is None and owner is not None:
        return [f"its site is run by scale unit {owner.code}: register there"]
    return []


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


# --- Scale unit: applying the hub's packages ---------------------------------------------------


class PackageRefused(ApplicationError):
    code = "package_refused"


def _apply_order(obj: ProductionOrder, hub_status: str, reason: str) -> None:
    current = ProductionOrder.objects.filter(pk=obj.pk).first()
    if current is None:
        obj.save()  # raw: the hub's row as it is, status included
        return
    ProductionOrder.objects.filter(pk=obj.pk).update(
        **{name: getattr(obj, name) for name in ORDER_HUB_FIELDS}
    )
    status = current.status
    if hub_status in HUB_STATUSES:
        status = hub_status
    elif current.status not in RUNNING:
        # Released again, reopened or unterminated on the hub: where the floor's quantities say.
        status = current.implied_running_status() if current.has_activity() else hub_status
    if status == OrderStatus.CREATED and current.status != OrderStatus.CREATED:
        _unrelease_here(current)
    if status != current.status:
        ProductionOrder.objects.filter(pk=obj.pk).update(status=status)
        LogbookEntry.objects.create(
            at=timezone.now(),
            order_id=obj.pk,
            text=f"Order {obj.number}: {current.status} -> {status} on the hub ({reason})",
        )


def _unrelease_here(order: ProductionOrder) -> None:
    if RawRegistration.objects.filter(order=order).exists():
        raise PackageRefused(
            f"Order {order.number} was unreleased on the hub, but registrations were made on "
            "it here that the hub may not have yet. Cancel this package to keep the jobs, or "
            "cancel those registrations first.",
        )
    Job.objects.filter(order=order).delete()


def _apply_job(obj: Job) -> None:
    if not Job.objects.filter(pk=obj.pk).exists():
        obj.save()
        return
    # Progress and the plan's order are the floor's; what is planned is the hub's.
    Job.objects.filter(pk=obj.pk).update(
        planned_quantity=obj.planned_quantity,
        planned_minutes=obj.planned_minutes,
        operation_name=obj.operation_name,
    )


def _apply(package: ReceivedPackage) -> None:
    payload = package.payload
    hub_status = (payload.get("order") or {}).get("status", "")
    try:
        objects = list(serializers.deserialize("json", json.dumps(payload["objects"])))
    except (DeserializationError, KeyError, TypeError) as exc:
        raise PackageRefused(f"The package cannot be read: {exc}") from exc
    order = None  # a package carries one order at most
    for item in objects:
        if isinstance(item.object, ProductionOrder):
            order = item.object
        elif not isinstance(item.object, Job):  # jobs after their order
            item.save()
    keeps_jobs = True
    if order is not None:
        _apply_order(order, hub_status, package.reason)
        keeps_jobs = (
            ProductionOrder.objects.filter(pk=order.pk).values_list("status", flat=True).get()
            != OrderStatus.CREATED
        )
    if keeps_jobs:
        for item in objects:
            if isinstance(item.object, Job):
                _apply_job(item.object)
    # Foreign keys are checked at commit; check them now, so that a package pointing at rows
    # this scale unit does not have fails alone instead of the whole round.
    connection.check_constraints(
        table_names=sorted({type(item.object)._meta.db_table for item in objects})
    )


def _held_orders() -> set[str]:
    return set(
        ReceivedPackage.objects.filter(status=PackageStatus.FAILED)
        .exclude(order_number="")
        .values_list("order_number", flat=True)
    )


@dataclass
class ApplySummary:
    processed: int = 0
    failed: int = 0


def package_apply_one(*, package: ReceivedPackage, actor: Actor = SYNC_ACTOR) -> str:
    """Apply one package in its own transaction; a failure is kept with its error."""
    with transaction.atomic():
        package = ReceivedPackage.objects.select_for_update().get(pk=package.pk)
        if package.status != PackageStatus.NEW:
            return package.status
        package.attempts += 1
        try:
            with transaction.atomic():
                _apply(package)
        except (ApplicationError, IntegrityError, ValueError, LookupError) as exc:
            package.status = PackageStatus.FAILED
            package.error = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        else:
            package.status = PackageStatus.PROCESSED
            package.error = ""
            package.processed_at = timezone.now()
        package.handled_by = actor.label
        package.save(update_fields=["status", "error", "attempts", "processed_at", "handled_by"])
        return package.status


def packages_apply(*, actor: Actor = SYNC_ACTOR) -> ApplySummary:
    """The manufacturing hub to scale unit message processor: the packages taken, in hub
    order; a failed one holds the later ones of its order until it is processed or canceled."""
    summary = ApplySummary()
    held = _held_orders()
    for package in ReceivedPackage.objects.filter(status=PackageStatus.NEW).order_by("hub_id"):
        if package.order_number and package.order_number in held:
            continue
        outcome = package_apply_one(package=package, actor=actor)
        if outcome == PackageStatus.PROCESSED:
            summary.processed += 1
        elif outcome == PackageStatus.FAILED:
            summary.failed += 1
            if package.order_number:
                held.add(package.order_number)
    return summary


@transaction.atomic
def package_process_again(*, package: ReceivedPackage, actor: Actor) -> ReceivedPackage:
    """Process: apply a failed package now (and what it held, if it goes)."""
    package = ReceivedPackage.objects.select_for_update().get(pk=package.pk)
    if package.status not in (PackageStatus.FAILED, PackageStatus.NEW):
        raise NotAllowed(
            f"Package #{package.hub_id} is {package.get_status_display().lower()}.",
            code="package_not_failed",
        )
    ReceivedPackage.objects.filter(pk=package.pk).update(status=PackageStatus.NEW)
    package.refresh_from_db()
    package_apply_one(package=package, actor=actor)
    package.refresh_from_db()
    if package.status == PackageStatus.PROCESSED:
        packages_apply(actor=actor)
    return package


@transaction.atomic
def package_cancel(*, package: ReceivedPackage, actor: Actor) -> ReceivedPackage:
    """Cancel: the package is given up; the later ones of its order go on."""
    package = ReceivedPackage.objects.select_for_update().get(pk=package.pk)
    if package.status not in (PackageStatus.FAILED, PackageStatus.NEW):
        raise NotAllowed(
            f"Package #{package.hub_id} is {package.get_status_display().lower()}: only a new "
            "or failed one can be canceled.",
            code="package_not_cancelable",
        )
    package.status = PackageStatus.CANCELED
    package.handled_by = actor.label
    package.save(update_fields=["status", "handled_by"])
    return package


# --- Scale unit: registrations on their way to the hub -----------------------------------------


def _code(obj, name: str = "code"):
    return getattr(obj, name) if obj is not None else ""


def registration_payload(data) -> dict:
    """A registration as the hub's POST /api/v1/registrations/ takes it, after the checks
    here resolved it (the start quantity, the put-away location, the indirect activity)."""
    body = {
        "registration_uuid": str(data.uuid),
        "kind": data.kind,
        "occurred_at": data.occurred_at.isoformat(),
        "badge_id": _code(data.worker, "badge_id"),
        "terminal": _code(data.terminal),
        "resource": _code(data.resource),
        "order": _code(data.order, "number"),
        "quantity_good": str(data.quantity_good),
        "quantity_scrap": str(data.quantity_scrap),
        "reason_code": _code(data.reason_code),
        "stops_job": data.stops_job,
        "completes_job": data.completes_job,
        "absence_code": _code(data.absence_code),
        "absence_minutes": str(data.absence_minutes),
        "indirect_activity": _code(data.indirect_activity),
        "lot_number": data.lot_number,
        "consume": data.consume,
        "note": data.note,
    }
    if data.job is not None:
        body["job"] = data.job.pk
    if data.jobs:
        body["jobs"] = [job.pk for job in data.jobs]
    if data.quantity is not None:
        body["quantity"] = str(data.quantity)
    if data.location is not None:
        body["location"] = f"{data.location.warehouse.code}/{data.location.code}"
    if data.material is not None:
        body["material_line"] = data.material.line_number
    return body


def forward_record(*, data, rows) -> None:
    """execution hook, in the transaction that accepted the registration: queue it for the
    hub (only on a scale unit)."""
    if not is_scale_unit():
        return
    HubForward.objects.create(
        registration_uuid=data.uuid,
        kind=data.kind,
        order_number=_code(data.order, "number"),
        occurred_at=data.occurred_at,
        payload=registration_payload(data),
    )


# --- Scale unit: the link ----------------------------------------------------------------------


class HubUnreachable(Exception):
    """The hub did not answer, or answered with a server error: try again later."""


def _call(method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    try:
        status, answer = http_call(
            f"{settings.MES_HUB_URL}{path}",
            method=method,
            body=body,
            headers={
                "Authorization": f"Token {settings.MES_HUB_TOKEN}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if body is not None else {}),
                **(headers or {}),
            },
            timeout=settings.MES_HUB_TIMEOUT_SECONDS,
        )
        if 200 <= status < 300:
            return status, json.loads(answer or b"null")
    except (OSError, ValueError) as exc:
        raise HubUnreachable(f"{type(exc).__name__}: {exc}") from exc
    text = answer.decode(errors="replace")[:500]
    if status >= 500 or status in (401, 403, 408, 429):
        raise HubUnreachable(f"HTTP {status} from the hub: {text}")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {"message": text}


def hub_link() -> HubLink:
    link, _ = HubLink.objects.get_or_create(name="hub")
    return link


def backlog() -> dict:
    """What waits, each way, as the scale unit's pages show it."""
    link = hub_link()
    pending = HubForward.objects.filter(status=ForwardStatus.PENDING)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return {
        "to_hub": pending.count(),
        "to_hub_oldest": oldest,
        "rejected": HubForward.objects.filter(status=ForwardStatus.REJECTED).count(),
        "packages_waiting": ReceivedPackage.objects.filter(status=PackageStatus.NEW).count(),
        "packages_failed": ReceivedPackage.objects.filter(status=PackageStatus.FAILED).count(),
        "link": link,
    }


def hub_pull() -> int:
    """Take the packages the hub has for this scale unit; stored before acknowledged."""
    link = hub_link()
    taken = 0
    while True:
        waiting = backlog()
        query = urllib.parse.urlencode(
            {
                "after": link.last_package_id,
                "backlog": waiting["to_hub"],
                "failed_packages": waiting["packages_failed"],
                "rejected": waiting["rejected"],
            }
        )
        _status, answer = _call("GET", f"/api/v1/scale-units/packages/?{query}")
        if not isinstance(answer, dict) or "packages" not in answer:
            raise HubUnreachable(f"Unexpected answer from the hub: {str(answer)[:200]}")
        packages = answer["packages"]
        with transaction.atomic():
            for item in packages:
                ReceivedPackage.objects.get_or_create(
                    hub_id=item["id"],
                    defaults={
                        "kind": item["kind"],
                        "order_number": item.get("order_number", ""),
                        "reason": item.get("reason", ""),
                        "payload": item["payload"],
                        "created_on_hub_at": item["created_at"],
                    },
                )
            if packages:
                link.last_package_id = max(p["id"] for p in packages)
                HubLink.objects.filter(pk=link.pk).update(last_package_id=link.last_package_id)
        taken += len(packages)
        if not answer.get("more"):
            return taken


@dataclass
class ForwardSummary:
    sent: int = 0
    rejected: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def _batch_key(forwards: list[HubForward]) -> str:
    digest = hashlib.sha256(
        ",".join(str(f.registration_uuid) for f in forwards).encode()
    ).hexdigest()[:32]
    return f"su-{settings.MES_SCALE_UNIT_ID}-{digest}"


def hub_forward(*, batch: int | None = None, max_batches: int | None = None) -> ForwardSummary:
    """Post the queue to the hub in acceptance order, a batch at a time; stops at the first
    batch the hub does not answer (it is sent again, and the hub answers it as a replay)."""
    batch = batch or settings.MES_HUB_FORWARD_BATCH
    summary = ForwardSummary()
    while max_batches is None or summary.batches < max_batches:
        forwards = list(
            HubForward.objects.filter(status=ForwardStatus.PENDING).order_by("id")[:batch]
        )
        if not forwards:
            break
        HubForward.objects.filter(pk__in=[f.pk for f in forwards]).update(
            attempts=F("attempts") + 1
        )
        status, answer = _call(
            "POST",
            "/api/v1/registrations/",
            json.dumps([f.payload for f in forwards]).encode(),
            {
                "Idempotency-Key": _batch_key(forwards),
                "X-Registration-Source": f"scale-unit:{settings.MES_SCALE_UNIT_ID}",
            },
        )
        results = answer.get("results") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(results, list) or len(results) != len(forwards):
            raise HubUnreachable(f"The hub refused the batch: HTTP {status} {str(answer)[:300]}")
        now = timezone.now()
        with transaction.atomic():
            for forward, result in zip(forwards, results, strict=True):
                code = int(result.get("status", 0))
                forward.hub_status = code
                forward.sent_at = now
                if code in (200, 202):
                    forward.status = ForwardStatus.SENT
                    forward.error = ""
                    summary.sent += 1
                else:
                    forward.status = ForwardStatus.REJECTED
                    forward.error = f"[{result.get('code', '')}] {result.get('message', '')}"
                    summary.rejected += 1
                forward.save(update_fields=["status", "hub_status", "sent_at", "error"])
        summary.batches += 1
    return summary


@transaction.atomic
def forward_retry(*, forward: HubForward) -> HubForward:
    """A registration the hub refused goes back in the queue (after its cause was fixed on
    the hub); it keeps its place in the acceptance order only relative to later retries."""
    forward = HubForward.objects.select_for_update().get(pk=forward.pk)
    if forward.status != ForwardStatus.REJECTED:
        raise NotAllowed(
            "Only a registration the hub refused can be sent again.", code="not_rejected"
        )
    forward.status = ForwardStatus.PENDING
    forward.save(update_fields=["status"])
    return forward


@dataclass
class SyncSummary:
    pulled: int = 0
    applied: ApplySummary = field(default_factory=ApplySummary)
    forwarded: ForwardSummary = field(default_factory=ForwardSummary)
    error: str = ""
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return "skipped: another round is running, or it waits to try the hub again"
        text = (
            f"{self.pulled} package(s) taken, {self.applied.processed} applied, "
            f"{self.applied.failed} failed; {self.forwarded.sent} registration(s) sent, "
            f"{self.forwarded.rejected} refused by the hub"
        )
        return f"{text}; hub unreachable: {self.error}" if self.error else text


def _backoff(failures: int) -> timedelta:
    return timedelta(
        seconds=min(15 * 2 ** max(failures - 1, 0), settings.MES_HUB_MAX_BACKOFF_SECONDS)
    )


def hub_sync(*, force: bool = False) -> SyncSummary:
    """One round with the hub: take and apply its packages, send the registrations queued.
    With the hub unreachable the floor goes on; the next round waits a little longer."""
    summary = SyncSummary()
    link = hub_link()
    now = timezone.now()
    if not force and link.next_attempt_at and link.next_attempt_at > now:
        summary.skipped = True
        return summary
    # One round at a time (beat, the page's button, the command): a second one would send
    # the same batch again, harmless (the hub replays it) but wasted.
    if not cache.add(SYNC_LOCK, 1, timeout=settings.MES_HUB_TIMEOUT_SECONDS * 10):
        summary.skipped = True
        return summary
    try:
        return _sync_round(summary, link, now)
    finally:
        cache.delete(SYNC_LOCK)


def _sync_round(summary: SyncSummary, link: HubLink, now) -> SyncSummary:
    try:
        summary.pulled = hub_pull()
        summary.applied = packages_apply()
        summary.forwarded = hub_forward()
    except HubUnreachable as exc:
        summary.error = str(exc)
        failures = link.consecutive_failures + 1
        HubLink.objects.filter(pk=link.pk).update(
            last_attempt_at=now,
            last_error=summary.error[:2000],
            consecutive_failures=failures,
            next_attempt_at=now + _backoff(failures),
        )
        logger.warning("hub sync: %s", summary.error)
        # Packages already taken are still applied: the floor gets them without the hub.
        if not summary.applied.processed and not summary.applied.failed:
            summary.applied = packages_apply()
        return summary
    HubLink.objects.filter(pk=link.pk).update(
        last_attempt_at=now,
        last_success_at=timezone.now(),
        last_error="",
        consecutive_failures=0,
        next_attempt_at=None,
    )
    return summary
