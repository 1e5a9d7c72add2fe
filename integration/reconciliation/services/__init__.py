"""The nightly ERP-vs-MES WIP reconciliation, and the ERP snapshot it compares against.

The ERP's books are the financial record: a variance beyond the threshold is booked into the
MES ledger (one adjustment journal per run, flagged for audit so someone looks for the
physical cause). The run's row is committed first (so it shows as running, and a crash has
a row to mark failed); its results, variances, journal and notifications are then written in
one transaction that first locks the snapshot, so a second run of the same night computes
after the first has committed, finds MES = ERP and writes nothing.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Prefetch, Subquery, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integration.choices import OPEN_MESSAGE_STATUSES, MessageKind, NotificationKind, RunStatus
from integration.models import (
    ErpWipLine,
    ErpWipSnapshot,
    MaterialIssueBatch,
    Notification,
    OutboxMessage,
    ReconciliationRun,
    ReconciliationVariance,
)
from inventory.choices import SourceType, Tracking, TransactionKind
from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, QUANTUM, ZERO, exact, show
from inventory.models import InventoryTransaction, Item, Location, Lot, UnitOfMeasure
from inventory.selectors import unit_conversion_factor, wip_balances
from inventory.services import (
    InventoryActor,
    JournalLineInput,
    Source,
    adjustment_journal_create,
    adjustment_journal_line_check,
    adjustment_journal_post,
)
from mesproject.errors import ApplicationError, MissingMasterData
from mesproject.locks import lock_row
from mesproject.roles import IT, SUPERVISOR
from orders.choices import OrderStatus
from orders.models import ProductionOrder, RouteOperation

BATCH_SIZE = 5000
PROGRESS_EVERY = 5000
NO_SNAPSHOT = "no ERP WIP snapshot received"
# Orders whose WIP the MES side brings in even when the ERP does not list them.
ACTIVE_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
MAX_QUANTITY = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)
PCT_QUANTUM = Decimal("0.0001")
MAX_REPORTED_ERRORS = 100

Pair = tuple[str, str]  # (wo_id, component_part)


# --- The ERP snapshot ---------------------------------------------------------------------


def _text(value, *, max_length: int, required: bool) -> tuple[str, str | None]:
    """The trimmed string and the reason it is refused (None when fine)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", "must be a string"
    value = value.strip()
    if required and not value:
        return value, "required"
    if len(value) > max_length:
        return value, f"at most {max_length} characters"
    return value, None


def _quantity(value) -> tuple[Decimal | None, str | None]:
    """A Decimal >= 0 within the quantity's precision (floats refused: they are not exact)."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        return None, "must be a decimal string"
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None, f"{value!r} is not a number"
    if not quantity.is_finite():
        return None, f"{value!r} is not a number"
    if quantity < 0:
        return None, "must not be negative"
    if quantity >= MAX_QUANTITY:
        return None, "is too large"
    if quantity != quantity.quantize(QUANTUM):
        return None, f"at most {QUANTITY_PLACES} decimals"
    return quantity, None


def _first(errors: dict[str, str]) -> dict[str, str]:
    # A snapshot of 100,000 bad lines must not answer with 100,000 errors.
    return dict(islice(errors.items(), MAX_REPORTED_ERRORS))


def _convert_to_item_units(rows: list[ErpWipLine]) -> None:
    """A line in another unit than its item's becomes the item's unit through the inventory's
    conversions, so the run compares like with like; a unit that does not exist
    (`unit_unknown`) or does not convert to the item's (`no_conversion`) refuses the snapshot
    naming the line. A part the MES does not know keeps what was sent: the run notes it."""
    named = [(index, row) for index, row in enumerate(rows) if row.uom]
    if not named:
        return
    units = {u.code: u for u in UnitOfMeasure.objects.filter(code__in={r.uom for _, r in named})}
    unknown = {
        f"lines[{index}].uom": f"unit {row.uom} is unknown"
        for index, row in named
        if row.uom not in units
    }
    if unknown:
        codes = ", ".join(sorted({row.uom for _, row in named} - set(units)))
        raise MissingMasterData(
            f"{len(unknown)} line(s) name a unit the MES does not know ({codes}); "
            "nothing was stored.",
            code="unit_unknown",
            fields=_first(unknown),
        )
    parts = sorted({row.component_part for _, row in named})
    items: dict[str, Item] = {}
    for start in range(0, len(parts), BATCH_SIZE):
        chunk = parts[start : start + BATCH_SIZE]
        items.update(
            (item.part_number, item)
            for item in Item.objects.select_related("unit").filter(part_number__in=chunk)
        )
    factors: dict[tuple[int, int], Decimal | None] = {}
    missing: dict[str, str] = {}
    unconvertible: set[str] = set()
    too_large: dict[str, str] = {}
    for index, row in named:
        item, unit = items.get(row.component_part), units[row.uom]
        if item is None or unit.pk == item.unit_id:
            continue
        key = (item.pk, unit.pk)
        if key not in factors:  # one look-up per item and unit, however many lines
            factors[key] = unit_conversion_factor(item=item, from_unit=unit, to_unit=item.unit)
        if factors[key] is None:
            missing[f"lines[{index}].uom"] = (
                f"no conversion from {unit.code} to {item.unit.code} (the unit of "
                f"{item.part_number})"
            )
            unconvertible.add(f"{unit.code} to {item.unit.code}")
            continue
        # Rounded to the stored precision: the comparison's thresholds are far coarser.
        converted = (row.quantity * factors[key]).quantize(QUANTUM)
        if converted >= MAX_QUANTITY:
            too_large[f"lines[{index}].quantity"] = f"is too large in {item.unit.code}"
            continue
        row.quantity, row.uom = converted, item.unit.code
    if missing:
        raise MissingMasterData(
            f"{len(missing)} line(s) are in a unit that does not convert to their item's "
            f"unit ({', '.join(sorted(unconvertible))}); nothing was stored.",
            code="no_conversion",
            fields=_first(missing),
        )
    if too_large:
        raise ApplicationError(
            f"{len(too_large)} value(s) of the snapshot are not valid; nothing was stored.",
            code="invalid_line",
            fields=_first(too_large),
        )


@transaction.atomic
def erp_wip_snapshot_receive(*, as_of: datetime, lines: list[dict], user) -> ErpWipSnapshot:
    """Store the ERP's WIP balances per work order and component, all lines or none."""
    if not isinstance(as_of, datetime) or timezone.is_naive(as_of):
        raise ApplicationError(
            "as_of must be a date and time with its time zone.",
            code="invalid_snapshot",
            fields={"as_of": "a date and time with its time zone"},
        )
    errors: dict[str, str] = {}
    rows: list[ErpWipLine] = []
    seen: dict[Pair, int] = {}
    duplicates: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{index}]"] = "must be an object"
            continue
        wo_id, wo_error = _text(line.get("wo_id"), max_length=64, required=True)
        part, part_error = _text(line.get("component_part"), max_length=64, required=True)
        uom, uom_error = _text(line.get("uom"), max_length=16, required=False)
        quantity, quantity_error = _quantity(line.get("quantity"))
        for name, error in (
            ("wo_id", wo_error),
            ("component_part", part_error),
            ("uom", uom_error),
            ("quantity", quantity_error),
        ):
            if error:
                errors[f"lines[{index}].{name}"] = error
        if wo_error or part_error or uom_error or quantity_error:
            continue
        first = seen.setdefault((wo_id, part), index)
        if first != index:
            duplicates[f"lines[{index}]"] = f"same wo_id and component_part as lines[{first}]"
        rows.append(ErpWipLine(wo_id=wo_id, component_part=part, quantity=quantity, uom=uom))
    if errors:
        raise ApplicationError(
            f"{len(errors)} value(s) of the snapshot are not valid; nothing was stored.",
            code="invalid_line",
            fields=_first(errors),
        )
    if duplicates:
        raise ApplicationError(
            f"{len(duplicates)} line(s) repeat a work order and component; nothing was stored.",
            code="duplicate_line",
            fields=_first(duplicates),
        )
    _convert_to_item_units(rows)
    snapshot = ErpWipSnapshot.objects.create(
        as_of=as_of,
        received_at=timezone.now(),
        received_by=user if getattr(user, "is_authenticated", False) else None,
        line_count=len(rows),
    )
    for row in rows:
        row.snapshot = snapshot
    ErpWipLine.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return snapshot


# --- The run ------------------------------------------------------------------------------


@dataclass
class _Variance:
    wo_id: str
    part: str
    erp: Decimal
    mes: Decimal
    variance: Decimal
    pct: Decimal
    adjusted: bool = False
    note: str = ""


def _threshold(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def _erp_figures(snapshot: ErpWipSnapshot) -> dict[Pair, Decimal]:
    rows = snapshot.lines.values_list("wo_id", "component_part", "quantity")
    return {(wo, part): exact(qty) for wo, part, qty in rows.iterator(chunk_size=BATCH_SIZE)}


def _mes_figures(snapshot: ErpWipSnapshot) -> dict[Pair, Decimal]:
    """Ledger WIP (inventory's wip_balances) of every pair of an active order or an order the
    ERP lists, in one query."""
    active = ProductionOrder.objects.filter(status__in=ACTIVE_STATUSES).values("number")
    listed = ErpWipLine.objects.filter(snapshot=snapshot).values("wo_id")
    balances = wip_balances(order_refs=active.union(listed))
    return {(b.order_ref, b.part_number): b.balance for b in balances}


def _unreported() -> dict[Pair, Decimal]:
    """What the MES consumed but has not reported to the ERP yet (the ERP cannot know it):
    open material-issue batches and undelivered material-issue messages; one query each."""
    waiting: dict[Pair, Decimal] = defaultdict(Decimal)
    batches = (
        MaterialIssueBatch.objects.values_list("order__number", "item__part_number")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for wo, part, total in batches:
        waiting[(wo, part)] += exact(total)
    messages = OutboxMessage.objects.filter(
        kind=MessageKind.MATERIAL_ISSUE, status__in=OPEN_MESSAGE_STATUSES
    ).values_list("payload", flat=True)
    for payload in messages.iterator(chunk_size=BATCH_SIZE):
        key = (payload["wo_id"], payload["component_part"])
        waiting[key] += Decimal(str(payload["qty_consumed"]))
    return waiting


def _compare(
    erp: dict[Pair, Decimal],
    mes: dict[Pair, Decimal],
    waiting: dict[Pair, Decimal],
    active: set[str],
    on_progress: Callable[[int, int], None] | None,
) -> tuple[int, list[_Variance]]:
    threshold_qty = _threshold("MES_RECONCILIATION_THRESHOLD_QTY")
    threshold_pct = _threshold("MES_RECONCILIATION_THRESHOLD_PCT")
    # The ledger query also brings pairs of inactive orders the ERP lists for another part.
    pairs = sorted(erp.keys() | {pair for pair in mes if pair in erp or pair[0] in active})
    total = len(pairs)
    flagged = []
    for done, pair in enumerate(pairs, start=1):
        erp_qty = erp.get(pair, ZERO)
        mes_qty = mes.get(pair, ZERO) - waiting.get(pair, ZERO)
        variance = erp_qty - mes_qty
        base = max(abs(erp_qty), abs(mes_qty))
        # Both bars: a rounding difference on a big balance and noise on a tiny one pass.
        if base and abs(variance) > threshold_qty:
            pct = variance / base * 100
            if abs(pct) > threshold_pct:
                flagged.append(
                    _Variance(*pair, erp_qty, mes_qty, variance, pct.quantize(PCT_QUANTUM))
                )
        if on_progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            on_progress(done, total)
    return total, flagged


def _last_issues(flagged: list[_Variance]) -> dict[Pair, InventoryTransaction]:
    """The latest issue of each flagged order and component (its location and lot)."""
    latest = (
        InventoryTransaction.objects.filter(
            kind=TransactionKind.ISSUE,
            order_ref__in={v.wo_id for v in flagged},
            item__part_number__in={v.part for v in flagged},
        )
        .values("order_ref", "item_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    issues = InventoryTransaction.objects.filter(pk__in=Subquery(latest)).select_related(
        "item", "location", "lot"
    )
    return {(issue.order_ref, issue.item.part_number): issue for issue in issues}


def _first_input_locations(wo_ids: Iterable[str]) -> dict[str, Location | None]:
    """Per order: the input location of the resource of its route's first operation."""
    orders = ProductionOrder.objects.filter(number__in=set(wo_ids)).prefetch_related(
        Prefetch(
            "route__operations",
            queryset=RouteOperation.objects.select_related("resource__input_location").order_by(
                "operation_number"
            ),
        )
    )
    found: dict[str, Location | None] = {}
    for order in orders:
        operations = list(order.route.operations.all()) if order.route_id else []
        found[order.number] = operations[0].resource.input_location if operations else None
    return found


def _journal_lines(flagged: list[_Variance]) -> list[tuple[_Variance, JournalLineInput]]:
    """The journal line of each variance that can be booked; the others get a note why."""
    items = {
        item.part_number: item
        for item in Item.objects.select_related("unit").filter(
            part_number__in={v.part for v in flagged}
        )
    }
    issues = _last_issues(flagged)
    missing = {v.wo_id for v in flagged if (v.wo_id, v.part) not in issues}
    fallbacks = _first_input_locations(missing) if missing else {}
    lines = []
    for variance in flagged:
        item = items.get(variance.part)
        if item is None:
            variance.note = f"part {variance.part} is unknown in the MES: not adjusted"
            continue
        issue = issues.get((variance.wo_id, variance.part))
        location = issue.location if issue else fallbacks.get(variance.wo_id)
        if location is None:
            why = (
                "order unknown in the MES"
                if variance.wo_id not in fallbacks
                else "no issue of this part to the order and no input location on the "
                "resource of its first operation"
            )
            variance.note = f"no location to adjust at ({why}): not adjusted"
            continue
        # A tracked component is booked against the lot last issued to the order.
        lot: Lot | None = issue.lot if issue and item.tracking != Tracking.NONE else None
        line = JournalLineInput(
            item=item,
            location=location,
            quantity=-variance.variance,
            lot=lot,
            order_ref=variance.wo_id,
            note=f"ERP {show(variance.erp)}, MES {show(variance.mes)}",
        )
        try:
            adjustment_journal_line_check(
                item=line.item,
                location=line.location,
                quantity=line.quantity,
                lot=line.lot,
                order_ref=line.order_ref,
            )
        except ApplicationError as error:
            variance.note = f"not adjusted: {error.message}"[:300]
            continue
        variance.adjusted = True
        lines.append((variance, line))
    return lines


def _book(run: ReconciliationRun, snapshot: ErpWipSnapshot, flagged: list[_Variance]):
    """One audit-flagged journal for every bookable variance, posted if stock allows."""
    booked = _journal_lines(flagged)
    if not booked:
        return None
    actor = InventoryActor(process=f"wip-reconciliation {run.started_by}")
    journal = adjustment_journal_create(
        reason=f"WIP reconciliation run {run.pk}",
        reason_code="WIPREC",
        description=f"ERP WIP as of {snapshot.as_of:%Y-%m-%d %H:%M}",
        audit_flag=True,
        lines=[line for _variance, line in booked],
        actor=actor,
        source=Source(SourceType.ERP_MESSAGE, f"erp-wip-snapshot:{snapshot.pk}"),
    )
    try:
        # A savepoint: a refused posting must not take the draft journal with it.
        with transaction.atomic():
            journal = adjustment_journal_post(journal=journal, actor=actor)
    except ApplicationError as error:
        for variance, _line in booked:
            variance.adjusted = False
            variance.note = f"journal left as draft: {error.message}"[:300]
    return journal


def _run_link(run: ReconciliationRun) -> str:
    try:
        return reverse("integration-pages:reconciliation-detail", args=[run.pk])
    except NoReverseMatch:
        # A URLconf without the browser pages (a worker-only deployment): no link.
        return ""


def _notify(run: ReconciliationRun, *, adjusted: int) -> None:
    title = f"WIP reconciliation: {run.variances_flagged} variance(s) flagged for audit"
    text = (
        f"Run {run.pk} compared {run.pairs_total} order/component pairs with the ERP WIP; "
        f"{run.variances_flagged} differ beyond the threshold, {adjusted} were booked to match "
        "the ERP. Look for the physical cause of each."
    )
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            kind=NotificationKind.RECONCILIATION,
            role=role,
            title=title,
            text=text,
            link=_run_link(run),
            dedup_key=f"reconciliation-run:{run.pk}",
            created_at=now,
        )
        for role in (SUPERVISOR, IT)
    )


def _reconcile(
    run: ReconciliationRun, on_progress: Callable[[int, int], None] | None
) -> ReconciliationRun:
    # Lock first, read after: a concurrent run of this snapshot waits here until this one
    # committed, then sees its adjustments. NO KEY: new runs may still reference the row.
    snapshot = lock_row(ErpWipSnapshot, run.snapshot_id)
    active = set(
        ProductionOrder.objects.filter(status__in=ACTIVE_STATUSES).values_list("number", flat=True)
    )
    total, flagged = _compare(
        _erp_figures(snapshot), _mes_figures(snapshot), _unreported(), active, on_progress
    )
    journal = _book(run, snapshot, flagged) if flagged else None
    ReconciliationVariance.objects.bulk_create(
        (
            ReconciliationVariance(
                run=run,
                wo_id=v.wo_id,
                component_part=v.part,
                erp_quantity=v.erp,
                mes_quantity=v.mes,
                variance=v.variance,
                variance_pct=v.pct,
                adjusted=v.adjusted,
                audit_flag=True,
                note=v.note,
            )
            for v in flagged
        ),
        batch_size=BATCH_SIZE,
    )
    run.pairs_total = run.pairs_done = total
    run.variances_flagged = len(flagged)
    run.adjustment_journal = journal
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "pairs_total",
            "pairs_done",
            "variances_flagged",
            "adjustment_journal",
            "status",
            "finished_at",
        ]
    )
    if flagged:
        _notify(run, adjusted=sum(v.adjusted for v in flagged))
    return run


def reconciliation_run(
    *,
    trigger: str,
    actor_label: str,
    snapshot: ErpWipSnapshot | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReconciliationRun:
    """Compare the snapshot (the latest by default) with the MES WIP and book what differs.

    on_progress(done, total) is called every 5,000 pairs and at the end.
    """
    snapshot = snapshot or ErpWipSnapshot.objects.order_by("-as_of", "-id").first()
    now = timezone.now()
    if snapshot is None:
        return ReconciliationRun.objects.create(
            trigger=trigger[:16],
            started_by=actor_label[:64],
            status=RunStatus.DONE,
            started_at=now,
            finished_at=now,
            error=NO_SNAPSHOT,
        )
    # Committed on its own, so the run shows as running and a crash has a row to mark.
    run = ReconciliationRun.objects.create(
        snapshot=snapshot, trigger=trigger[:16], started_by=actor_label[:64], started_at=now
    )
    try:
        with transaction.atomic():
            return _reconcile(run, on_progress)
    except Exception as error:
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise


def run_summary(run: ReconciliationRun) -> str:
    """One line for people: what a run compared and found."""
    if run.status == RunStatus.FAILED:
        return f"Reconciliation run {run.pk} failed: {run.error}"
    if run.snapshot_id is None:
        return f"Reconciliation run {run.pk}: {run.error or NO_SNAPSHOT}."
    journal = f", adjustment journal {run.adjustment_journal}" if run.adjustment_journal else ""
    return (
        f"Reconciliation run {run.pk}: {run.pairs_total} pair(s) compared, "
        f"{run.variances_flagged} variance(s) flagged{journal}."
    )
