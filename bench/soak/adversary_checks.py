"""The adversary's invariants and the material-flow bounds, read from the database after
the run.
"""

from __future__ import annotations

from collections import Counter

from .adversary import Adversary


def adversary_checks(adversary: Adversary, samples) -> list[tuple[str, str, bool]]:
    """(name, value, ok) of the adversary's invariants, read from the database."""
    from django.db.models import Q

    from execution.models import RawRegistration

    mine = [s for s in samples if s.who == "adversary" and s.status]
    errors = [s for s in mine if s.status >= 500]
    refused = adversary.refused_uuids
    stored = RawRegistration.objects.filter(Q(uuid__in=refused) | Q(bundle_uuid__in=refused))
    duplicates_bad = []
    for key, name, first in adversary.duplicates:
        rows = list(RawRegistration.objects.filter(uuid=key).values_list(name, flat=True))
        if rows != [first]:
            duplicates_bad.append(f"{key}: {name} {rows} (first {first})")
    sources = Counter(
        RawRegistration.objects.filter(uuid__in=adversary.spoofed).values_list("source", flat=True)
    )
    accepted = set(adversary.accepted_uuids)
    stored_accepted = RawRegistration.objects.filter(uuid__in=accepted).count()
    total = sum(adversary.answers.values())
    return [
        (
            "adversarial terminal: no HTTP 5xx",
            f"{len(errors)} of {len(mine)} answers"
            + (f"; e.g. {errors[0].what} {errors[0].status}" if errors else ""),
            not errors and total > 0,
        ),
        (
            "adversarial terminal: every impossible post refused with a 4xx",
            f"{len(adversary.wrong)} not"
            + (f"; e.g. {adversary.wrong[0]}" if adversary.wrong else ""),
            not adversary.wrong,
        ),
        (
            "adversarial terminal: none of its refused posts stored",
            f"{stored.count()} stored of {len(refused)} refused registration_uuids",
            not stored.exists() and bool(refused),
        ),
        (
            "adversarial terminal: duplicates replayed (same body) or refused (changed), "
            "stored once, unchanged",
            f"{adversary.replays['answered as replays']} of {adversary.replays['posted']} "
            f"answered as replays; {len(duplicates_bad)} of {len(adversary.duplicates)} "
            "changed bodies differ in the database"
            + (f"; e.g. {duplicates_bad[0]}" if duplicates_bad else ""),
            not duplicates_bad and adversary.replays["posted"] > 0,
        ),
        (
            "adversarial terminal: source from the credential, not X-Registration-Source",
            f"{stored_accepted} of {len(accepted)} own posts stored; their source "
            + (", ".join(f"{k} {n}" for k, n in sources.items()) or "-"),
            stored_accepted == len(accepted) and set(sources) <= {"terminal"},
        ),
    ]


def flow_checks() -> list[tuple[str, str, bool]]:
    """The shop-floor limits, after the run, on every job and order in the database: per job
    good + scrap <= started; started at operation N <= good output of operation N-1;
    completed <= order quantity x (1 + tolerance)."""
    from execution.models import Job
    from orders.models import ProductionOrder

    jobs = (
        Job.objects.filter(kind="process")
        .order_by("order_id", "operation_number")
        .values_list("pk", "order_id", "quantity_started", "quantity_good", "quantity_scrapped")
    )
    over_reported, over_started, previous = [], [], {}
    count = 0
    for pk, order_id, started, good, scrapped in jobs:
        count += 1
        if good + scrapped > started:
            over_reported.append(f"job {pk}: good {good} + scrap {scrapped} > started {started}")
        before = previous.get(order_id)
        if before is not None and started > before[1]:
            over_started.append(f"job {pk}: started {started} > job {before[0]}'s good {before[1]}")
        previous[order_id] = (pk, good)
    orders = ProductionOrder.objects.values_list(
        "number", "quantity", "over_delivery_tolerance_pct", "quantity_completed"
    )
    over_completed = [
        f"{number}: completed {done} > {quantity} + {tolerance} %"
        for number, quantity, tolerance, done in orders
        if done > quantity * (1 + tolerance / 100)
    ]
    return [
        (
            "every job: good + scrap <= started",
            f"{count - len(over_reported)} of {count} jobs"
            + (f"; e.g. {over_reported[0]}" if over_reported else ""),
            not over_reported,
        ),
        (
            "every job: started at operation N <= good output of operation N-1",
            f"{len(over_started)} beyond" + (f"; e.g. {over_started[0]}" if over_started else ""),
            not over_started,
        ),
        (
            "every order: completed <= quantity x (1 + over-delivery tolerance)",
            f"{len(orders) - len(over_completed)} of {len(orders)} orders"
            + (f"; e.g. {over_completed[0]}" if over_completed else ""),
            not over_completed,
        ),
    ]
