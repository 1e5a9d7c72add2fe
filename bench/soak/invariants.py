"""What must hold in the database once the system has drained: registrations, outbox,
inventory, orders.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from _common import ROOT

from .config import WO_PREFIX
from .scenario import Soak
from .stack import Stack


@dataclass
class Check:
    name: str
    value: str
    ok: bool | None  # None: information only


def in_windows(at: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= at <= end for start, end in windows)


def check_registrations(soak: Soak) -> list[Check]:
    from django.db.models import Count, Q

    from execution.models import ProcessingLogEntry, RawRegistration

    statuses = Counter(RawRegistration.objects.values_list("status", flat=True))
    entries = {
        row["registration_id"]: (row["n"], row["processed"])
        for row in ProcessingLogEntry.objects.values("registration_id").annotate(
            n=Count("id"), processed=Count("id", filter=Q(outcome="processed"))
        )
    }
    ids = list(RawRegistration.objects.values_list("id", flat=True))
    not_once = sum(1 for pk in ids if entries.get(pk) != (1, 1))
    sent = set(soak.accepted_uuids)
    stored = set(
        str(u) for u in RawRegistration.objects.filter(uuid__in=sent).values_list("uuid", flat=True)
    )
    left = statuses.get("new", 0) + statuses.get("failed", 0)
    return [
        Check(
            "registrations processed (none new / failed / canceled)",
            f"{statuses.get('processed', 0)} processed, {statuses.get('new', 0)} new, "
            f"{statuses.get('failed', 0)} failed, {statuses.get('canceled', 0)} canceled",
            left == 0 and not statuses.get("canceled"),
        ),
        Check(
            "one processing-log entry (processed) per registration",
            f"{len(ids) - not_once} of {len(ids)}",
            not_once == 0,
        ),
        Check(
            "every accepted terminal post stored",
            f"{len(stored)} of {len(sent)}",
            stored == sent,
        ),
    ]


def check_outbox(soak: Soak, stack: Stack) -> list[Check]:
    from integration.models import OutboxMessage

    messages = list(OutboxMessage.objects.order_by("stream", "sequence"))
    statuses = Counter(m.status for m in messages)
    received = stack.erp_control("/control/messages")["messages"]
    stats = stack.erp_control("/control/stats")
    uuids = [r["transaction_uuid"] for r in received]
    delivered = {str(m.transaction_uuid) for m in messages if m.status == "delivered"}
    known = {str(m.transaction_uuid) for m in messages}
    arrived: dict[str, list[int]] = defaultdict(list)
    for record in received:
        arrived[record["stream"]].append(record["sequence"])
    expected: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        if m.status == "delivered":
            expected[m.stream].append(m.sequence)
    disordered = [s for s in expected if arrived.get(s) != expected[s]]
    disordered += [s for s in arrived if s not in expected]
    # The dead-letter queue: empty, or the rejected message (422) and what it holds.
    open_messages = [m for m in messages if m.status in ("pending", "dead_letter")]
    heads = {}
    for m in open_messages:
        heads.setdefault(m.stream, m)
    rejected_heads = {
        s for s, m in heads.items() if m.status == "dead_letter" and m.last_status_code == 422
    }
    dlq_ok = all(m.stream in rejected_heads for m in open_messages) and len(rejected_heads) <= 1
    dlq_text = (
        "empty"
        if not open_messages
        else f"{statuses.get('dead_letter', 0)} dead letter + {statuses.get('pending', 0)} "
        f"pending in streams {sorted(heads)[:5]}"
    )
    ever_dead = sum(1 for m in messages if m.dead_lettered_at is not None)
    return [
        Check(
            "outbox messages delivered",
            f"{statuses.get('delivered', 0)} of {len(messages)} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})",
            statuses.get("delivered", 0) + len(open_messages) == len(messages)
            and (not open_messages or dlq_ok),
        ),
        Check(
            "simulator record: each delivered message exactly once",
            f"{len(uuids)} recorded, {len(set(uuids))} distinct, "
            f"{len(delivered - set(uuids))} missing, {len(set(uuids) - known)} unknown",
            len(uuids) == len(set(uuids)) and set(uuids) == delivered,
        ),
        Check(
            "simulator record: in sequence per work order",
            f"{len(expected) - len(disordered)} of {len(expected)} streams in order",
            not disordered,
        ),
        Check(
            "simulator refused no signature (bad / stale / replayed / invalid)",
            ", ".join(
                f"{k} {stats.get(k, 0)}"
                for k in ("bad_signature", "stale_timestamp", "replayed", "invalid")
            ),
            not any(
                stats.get(k) for k in ("bad_signature", "stale_timestamp", "replayed", "invalid")
            ),
        ),
        Check(
            "simulator rejected exactly one message (the fault)",
            f"rejected {stats.get('rejected', 0)}",
            stats.get("rejected", 0) == 1,
        ),
        Check(
            "dead-letter queue after retries",
            f"{dlq_text}; {ever_dead} messages were dead-lettered on the way",
            not open_messages or dlq_ok,
        ),
        Check(
            "resends absorbed by the ERP's duplicate check (information)",
            f"{stats.get('duplicates', 0)}; refused while down/failing: failed "
            f"{stats.get('failed', 0)}, timed out {stats.get('timed_out', 0)}",
            None,
        ),
    ]


def check_inventory(env: dict) -> list[Check]:
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_inventory"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = (result.stdout + result.stderr).strip().splitlines()
    return [
        Check(
            "on-hand equals the ledger (manage.py verify_inventory)",
            text[-1][:110] if text else f"exit {result.returncode}",
            result.returncode == 0,
        )
    ]


def check_orders(soak: Soak) -> list[Check]:
    from django.db.models import Sum

    from execution.models import Job, RawRegistration, ReportAsFinishedLine, RouteCardLine
    from orders.models import ProductionOrder

    orders = {o.number: o for o in ProductionOrder.objects.filter(number__startswith=WO_PREFIX)}
    ids = {o.pk: o for o in orders.values()}

    def totals(model, key, *fields):
        rows = (
            model.objects.filter(order_id__in=ids)
            .values(key)
            .annotate(**{f: Sum(f) for f in fields})
        )
        return {row[key]: row for row in rows}

    cards = totals(RouteCardLine, "order_id", "quantity_good", "quantity_scrap")
    finished = totals(ReportAsFinishedLine, "order_id", "quantity_good", "quantity_scrap")
    job_cards = {
        row["job_id"]: row["good"]
        for row in RouteCardLine.objects.filter(order_id__in=ids)
        .values("job_id")
        .annotate(good=Sum("quantity_good"))
    }
    starts = {
        row["job_id"]: row["q"]
        for row in RawRegistration.objects.filter(
            order_id__in=ids, kind__in=("start_job", "bundle"), status="processed"
        )
        .values("job_id")
        .annotate(q=Sum("quantity"))
    }
    zero = Decimal(0)
    journal_bad, job_bad, driver_bad = [], [], []
    first_started: dict[int, Decimal] = {}
    for job in Job.objects.filter(order_id__in=ids, kind="process").order_by("operation_number"):
        first_started.setdefault(job.order_id, job.quantity_started)
        if job.quantity_good != job_cards.get(job.pk, zero) or job.quantity_started != starts.get(
            job.pk, zero
        ):
            job_bad.append(f"job {job.pk}")
    for pk, order in ids.items():
        card, fin = cards.get(pk, {}), finished.get(pk, {})
        completed = fin.get("quantity_good") or zero
        scrapped = (card.get("quantity_scrap") or zero) + (fin.get("quantity_scrap") or zero)
        in_progress = max(zero, first_started.get(pk, zero) - completed - scrapped)
        if (order.quantity_completed, order.quantity_scrapped, order.quantity_in_progress) != (
            completed,
            scrapped,
            in_progress,
        ):
            journal_bad.append(
                f"{order.number}: completed/scrapped/in progress {order.quantity_completed}/"
                f"{order.quantity_scrapped}/{order.quantity_in_progress}, journals "
                f"{completed}/{scrapped}/{in_progress}"
            )
    states = Counter()
    closed_bad = []
    for wo_id, mine in soak.plant.orders.items():
        order = orders.get(wo_id)
        states[mine.state] += 1
        if order is None:
            driver_bad.append(f"{wo_id} missing")
            continue
        good, scrap = mine.finished_good, sum(mine.scrap.values())
        if (order.quantity_completed, order.quantity_scrapped) != (good, scrap):
            driver_bad.append(
                f"{wo_id}: good/scrap {order.quantity_completed}/{order.quantity_scrapped}, "
                f"terminals reported {good}/{scrap}"
            )
        if mine.state == "closed" and order.status not in ("closed", "canceled"):
            closed_bad.append(f"{wo_id} {order.status}")
        if mine.state == "canceled" and order.status != "canceled":
            closed_bad.append(f"{wo_id} {order.status}")
    status_counts = Counter(o.status for o in orders.values())
    return [
        Check(
            "soak orders: quantities equal the sum of their journals",
            f"{len(ids) - len(journal_bad)} of {len(ids)}"
            + (f"; e.g. {journal_bad[0]}" if journal_bad else ""),
            not journal_bad,
        ),
        Check(
            "soak jobs: good and started equal their route card / start registrations",
            f"{len(job_bad)} differ" + (f"; e.g. {job_bad[0]}" if job_bad else ""),
            not job_bad,
        ),
        Check(
            "soak orders: good / scrap equal what the terminals reported",
            f"{len(soak.plant.orders) - len(driver_bad)} of {len(soak.plant.orders)}"
            + (f"; e.g. {driver_bad[0]}" if driver_bad else ""),
            not driver_bad,
        ),
        Check(
            "soak orders: one per wo_id created, closes and cancels applied",
            f"{len(orders)} in the database, {len(soak.plant.orders)} created; "
            f"status {dict(sorted(status_counts.items()))}"
            + (f"; wrong: {closed_bad[:3]}" if closed_bad else ""),
            len(orders) == len(soak.plant.orders) and not closed_bad,
        ),
        Check(
            "driver view of the orders (information)",
            ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
            + f"; broken by a refusal: {sum(1 for o in soak.plant.orders.values() if o.broken)}",
            None,
        ),
    ]
