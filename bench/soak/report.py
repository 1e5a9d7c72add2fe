"""The soak's report: the load, the adversary's answers, the invariants."""

from __future__ import annotations

from collections import Counter

from .client import Record
from .config import RESOURCES, WORKERS
from .invariants import Check
from .scenario import Soak


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print()
    print(title)
    for name, value, mark in rows:
        print(f"  {mark:<5} {name:<{width}}  {value}")


def report(soak: Soak, record: Record, result: dict, checks: list[Check]) -> None:
    from integration.models import OutboxMessage

    counts = record.counts
    kinds = sorted(k for k in counts if k.startswith("registrations: "))
    by_status = Counter((s.who, s.status) for s in record.samples)
    whos = sorted({w for w, _ in by_status})
    messages = Counter(OutboxMessage.objects.values_list("kind", flat=True))
    load = [
        (
            "phases",
            f"setup {result['setup_seconds']:.0f} s, load {result['load_seconds']:.0f} s, "
            f"drain {result['drain_seconds']:.0f} s",
        ),
        (
            "ERP work orders",
            f"{soak.created} created, {counts['erp update']} updated while Created, "
            f"{counts['erp patch']} PATCHed after release, {counts['erp cancel']} canceled, "
            f"{counts['erp close']} closed (short_close)",
        ),
        ("ERP replays (same key and body)", f"{counts['erp replays']}"),
        ("planner releases (order page POST)", f"{counts['planner releases']}"),
        (
            "terminal registrations accepted",
            f"{counts['registrations accepted']} from {WORKERS} workers on {RESOURCES} resources",
        ),
        ("  by kind", ", ".join(f"{k[15:]} {counts[k]}" for k in kinds)),
        ("supervisor page / list reads", f"{counts['supervisor pages']}"),
        (
            "outbox messages written",
            f"{sum(messages.values())}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(messages.items())),
        ),
    ]
    for who in whos:
        statuses = {st: n for (w, st), n in by_status.items() if w == who}
        load.append(
            (
                f"HTTP answers, {who}",
                ", ".join(
                    f"{'no answer' if st == 0 else st}: {n}" for st, n in sorted(statuses.items())
                ),
            )
        )
    for w in soak.windows:
        end = f"-{w.end:.0f}" if w.end is not None and w.end != w.start else ""
        load.append((f"fault at {w.start:.0f}{end} s", f"{w.name} {w.detail}".rstrip()))
    print_table("LOAD", [(a, b, "") for a, b in load])
    print_table(
        "ADVERSARIAL TERMINAL (answers by status and code)",
        [(a, b, "") for a, b in soak.adversary.table()],
    )
    rows = [(c.name, c.value, {None: "info", True: "OK"}.get(c.ok, "FAIL")) for c in checks]
    print_table("INVARIANTS", rows)
    if record.notes:
        print()
        print(f"unexpected answers ({len(record.notes)}), first 15:")
        for note in record.notes[:15]:
            print(f"    {note}")
    if soak.errors:
        print()
        print("driver errors:")
        for error in soak.errors:
            print(f"    {error}")
