"""After a timed run: every registration processed exactly once, and the orders add up."""

from __future__ import annotations

from collections import Counter, defaultdict

from .config import FEEDBACK_KINDS, OPERATIONS, START_KINDS


def verify(plant, expected_by_order: dict, kinds: Counter) -> tuple[list[str], dict]:
    """Every registration processed exactly once, and the orders add up. Returns the problems
    and a fingerprint (to compare runs)."""
    from django.db.models import Count, Q, Sum

    from execution.choices import LogbookKind, ProcessingOutcome, RegistrationStatus
    from execution.models import (
        GenealogyLink,
        Job,
        JobActivity,
        LogbookEntry,
        PickingListLine,
        ProcessingLogEntry,
        RawRegistration,
        ReportAsFinishedLine,
        RouteCardLine,
    )
    from inventory.choices import SourceType
    from inventory.models import InventoryTransaction
    from inventory.services import inventory_verify
    from orders.choices import OrderStatus
    from orders.models import ProductionOrder

    problems = []
    total = sum(kinds.values())
    status = dict(RawRegistration.objects.values_list("status").annotate(n=Count("id")).order_by())
    if status.get(RegistrationStatus.PROCESSED, 0) != total:
        problems.append(f"status counts {status}, expected {total} processed")
    for reg in RawRegistration.objects.exclude(status=RegistrationStatus.PROCESSED).order_by(
        "occurred_at"
    )[:10]:
        problems.append(
            f"  {reg.status} {reg.kind} {reg.lane} {reg.occurred_at:%Y-%m-%d %H:%M:%S} "
            f"[{reg.error_code}] {reg.error}"
        )

    def once(name, queryset, expected, column="registration_id"):
        rows = queryset.count()
        distinct = queryset.values(column).distinct().count()
        if rows != expected or distinct != expected:
            problems.append(f"{name}: {rows} rows, {distinct} distinct, expected {expected}")
        return rows

    once(
        "processing log (processed)",
        ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED),
        total,
    )
    once(
        "logbook (one per registration)",
        LogbookEntry.objects.exclude(kind=LogbookKind.TRANSITION),
        total,
    )
    once(
        "route card lines",
        RouteCardLine.objects.all(),
        sum(kinds[k] for k in FEEDBACK_KINDS),
    )
    once(
        "job activities",
        JobActivity.objects.all(),
        sum(kinds[k] for k in START_KINDS),
        column="start_registration_id",
    )
    once(
        "report as finished lines",
        ReportAsFinishedLine.objects.all(),
        kinds["report_as_finished"],
    )
    picking = PickingListLine.objects.count()
    receipts = ReportAsFinishedLine.objects.filter(inventory_transaction__isnull=False).count()
    # Stock rows (a location); reservation rows (relieved by the issues) are not journal lines.
    ledger = InventoryTransaction.objects.filter(
        source_type=SourceType.REGISTRATION, location__isnull=False
    ).count()
    if ledger != picking + receipts:
        problems.append(
            f"stock ledger rows {ledger} != picking lines {picking} + receipts {receipts}"
        )
    if PickingListLine.objects.values("inventory_transaction").distinct().count() != picking:
        problems.append("a ledger row is shared by two picking lines")
    open_activities = JobActivity.objects.filter(ended_at__isnull=True).count()
    if open_activities:
        problems.append(f"{open_activities} job activities still open")

    # Every order against the simulation.
    parts = {c.pk: part for part, c in plant.components.items()}
    consumed = defaultdict(dict)
    for row in PickingListLine.objects.values("order_id", "component_id").annotate(
        total=Sum("quantity")
    ):
        consumed[row["order_id"]][parts[row["component_id"]]] = row["total"]
    jobs = defaultdict(dict)
    for job in Job.objects.values(
        "order_id", "operation_number", "quantity_good", "quantity_scrapped", "quantity_started"
    ):
        jobs[job["order_id"]][job["operation_number"]] = job
    mismatches = Counter()
    examples = []
    statuses = Counter()
    for order in ProductionOrder.objects.filter(pk__in=expected_by_order).values(
        "id", "number", "status", "quantity_completed", "quantity_scrapped", "quantity_in_progress"
    ):
        exp = expected_by_order[order["id"]]
        scrap = sum(exp.scrap.values())
        statuses[order["status"]] += 1
        want_status = (
            OrderStatus.COMPLETED if exp.finished >= exp.quantity else OrderStatus.IN_PROGRESS
        )
        checks = {
            "completed": (order["quantity_completed"], exp.finished),
            "scrapped": (order["quantity_scrapped"], scrap),
            "in progress": (order["quantity_in_progress"], exp.quantity - scrap - exp.finished),
            "status": (order["status"], want_status),
            "FRAME (start)": (consumed[order["id"]].get("FRAME", 0), exp.quantity),
            "WHEEL (operation finish)": (
                consumed[order["id"]].get("WHEEL", 0),
                2 * (exp.good[20] + exp.scrap[20]),
            ),
            "GRIP (production finish)": (consumed[order["id"]].get("GRIP", 0), 2 * exp.finished),
            "BELL (manual)": (consumed[order["id"]].get("BELL", 0), exp.manual),
        }
        for op in OPERATIONS:
            job = jobs[order["id"]][op]
            checks[f"job {op} good"] = (job["quantity_good"], exp.good[op])
            checks[f"job {op} scrap"] = (job["quantity_scrapped"], exp.scrap[op])
            # Material flows down the route: a later operation starts what the one before
            # output as good.
            started = exp.quantity if op == OPERATIONS[0] else exp.good[op - 10]
            checks[f"job {op} started"] = (job["quantity_started"], started)
        for name, (got, want) in checks.items():
            if got != want:
                mismatches[name] += 1
                if len(examples) < 8:
                    examples.append(f"  {order['number']} {name}: got {got}, expected {want}")
    for name, n in mismatches.items():
        problems.append(f"{n} order(s) differ from the simulation in {name}")
    problems.extend(examples)
    report = inventory_verify()
    if not report.ok:
        problems.append(f"inventory_verify: {report}")
    fingerprint = {
        "status": {str(k): v for k, v in status.items()},
        "orders": {str(k): v for k, v in sorted(statuses.items())},
        "route_card_lines": RouteCardLine.objects.count(),
        "route_card_minutes": str(RouteCardLine.objects.aggregate(m=Sum("minutes"))["m"]),
        "picking_lines": picking,
        "picking_quantity": str(PickingListLine.objects.aggregate(q=Sum("quantity"))["q"]),
        "report_as_finished_lines": ReportAsFinishedLine.objects.count(),
        "genealogy_links": GenealogyLink.objects.count(),
        "logbook": LogbookEntry.objects.count(),
        "transitions": LogbookEntry.objects.filter(Q(kind=LogbookKind.TRANSITION)).count(),
    }
    return problems, fingerprint
