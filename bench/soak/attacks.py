"""The adversarial terminal's attacks: each builds the posts no real floor can say, from
what the honest terminals did (see adversary.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .probes import ADVERSARY_BADGE, FOREIGN_BADGE, FOREIGN_TERMINAL, HUGE, Probe, _at, _terminal


class Attacks:
    """Building the posts; the Adversary mixes it in (its soak, rng, lock, what it observed)."""

    def _running(self):
        """A soak order on the floor: (order, operation, job id, resource), or None."""
        plant = self.soak.plant
        with plant.lock:
            orders = [o for o in plant.orders.values() if o.state == "released" and o.jobs]
        if not orders:
            return None
        order = self.rng.choice(orders)
        index = self.rng.randrange(2)
        operation = (10, 20)[index]
        return order, operation, order.jobs[operation], self.resources_of(order.product)[index]

    def body(self, kind: str, at: datetime | None = None, **fields) -> dict:
        return {
            "registration_uuid": str(uuid.uuid4()),
            "kind": kind,
            "occurred_at": _at(at or datetime.now(UTC)),
            **fields,
        }

    def probe(self, attack: str, body: dict, expect: str = "refused", **extra) -> Probe:
        return Probe(
            attack, json.dumps(body).encode(), expect, [body["registration_uuid"]], **extra
        )

    def over_progress(self):
        found = self._running()
        if found is None:
            return None
        _, _, job, resource = found
        return [
            self.probe(
                "progress beyond in progress",
                self.body(
                    "report_progress", job=job, terminal=_terminal(resource), quantity_good=HUGE
                ),
            ),
            self.probe(
                "scrap beyond in progress",
                self.body(
                    "report_scrap",
                    job=job,
                    terminal=_terminal(resource),
                    quantity_scrap=HUGE,
                    reason_code="SCR-DMG",
                ),
            ),
        ]

    def over_finish(self):
        found = self._running()
        if found is None:
            return None
        order = found[0]
        terminal = _terminal(self.resources_of(order.product)[1])
        return [
            self.probe(
                "report as finished beyond output",
                self.body(
                    "report_as_finished", order=order.wo_id, terminal=terminal, quantity_good=HUGE
                ),
            ),
            # One more than the order quantity (no tolerance on soak orders): beyond the
            # order even when its last operation has output it all.
            self.probe(
                "report as finished beyond the order quantity",
                self.body(
                    "report_as_finished",
                    order=order.wo_id,
                    terminal=terminal,
                    quantity_good=str(order.quantity + 1),
                ),
            ),
        ]

    def over_start(self):
        found = self._running()
        if found is None or self.clock_in_at is None:
            return None
        _, _, job, resource = found
        return [
            self.probe(
                "start beyond what may start",
                self.body(
                    "start_job",
                    badge_id=ADVERSARY_BADGE,
                    job=job,
                    terminal=_terminal(resource),
                    quantity=HUGE,
                ),
            )
        ]

    def over_material(self):
        found = self._running()
        if found is None:
            return None
        order, _, _, resource = found
        common = {"order": order.wo_id, "terminal": _terminal(resource)}
        probes = [
            self.probe(
                "return beyond consumed",
                self.body("consume_material", material_line=20, quantity="-" + HUGE, **common),
            )
        ]
        if self.post_inventory:  # on-hand is judged where inventory is posted (the hub)
            probes.append(
                self.probe(
                    "consumption beyond on hand",
                    self.body("consume_material", material_line=20, quantity="10000000", **common),
                )
            )
        return probes

    def backdated_clock_in(self):
        with self.lock:
            if not self.clock_ins:
                return None
            badge, (at, terminal) = self.rng.choice(sorted(self.clock_ins.items()))
        earlier = at - timedelta(minutes=self.rng.randint(1, 10))
        return [
            self.probe(
                "clock-in before the worker's own clock-in",
                self.body("clock_in", earlier, badge_id=badge, terminal=terminal),
            )
        ]

    def backdated_start(self):
        with self.lock:
            if not self.starts:
                return None
            badge, terminal, resource, job, at = self.rng.choice(list(self.starts))
        # Another job at the same resource if there is one (the worker was "busy" on it),
        # else the same one (started twice): either way the worker's start at `at` follows it.
        plant = self.soak.plant
        with plant.lock:
            others = [
                o.jobs[op]
                for o in plant.orders.values()
                for op, r in zip((10, 20), self.resources_of(o.product), strict=True)
                if r == resource and o.jobs.get(op, job) != job
            ]
        other = self.rng.choice(others) if others else job
        earlier = at - timedelta(seconds=self.rng.randint(1, 20))
        return [
            self.probe(
                "start before the worker's own start",
                self.body(
                    "start_job", earlier, badge_id=badge, job=other, terminal=terminal, quantity="1"
                ),
            )
        ]

    def times(self):
        if self.clock_in_at is None:
            return None
        probes = [
            self.probe(
                "clock-in before the adversary's own clock-in",
                self.body(
                    "clock_in",
                    self.clock_in_at - timedelta(minutes=2),
                    badge_id=ADVERSARY_BADGE,
                    terminal=_terminal(1),
                ),
            ),
            self.probe(
                "ahead of the clock skew",
                self.body(
                    "clock_in",
                    datetime.now(UTC) + timedelta(seconds=self.skew_seconds + 600),
                    badge_id=ADVERSARY_BADGE,
                    terminal=_terminal(1),
                ),
            ),
        ]
        naive = self.body("clock_in", badge_id=ADVERSARY_BADGE, terminal=_terminal(1))
        naive["occurred_at"] = datetime.now().replace(microsecond=0).isoformat()
        probes.append(self.probe("time without a zone", naive))
        found = self._running()
        if self.backdating_hours and found is not None:
            old = datetime.now(UTC) - timedelta(hours=self.backdating_hours, minutes=5)
            probes.append(
                self.probe(
                    "older than the backdating window",
                    self.body(
                        "report_progress",
                        old,
                        job=found[2],
                        terminal=_terminal(found[3]),
                        quantity_good="1",
                    ),
                )
            )
        return probes

    def duplicates_of_the_floor(self):
        with self.lock:
            if not self.bodies:
                return None
            first = dict(self.rng.choice(list(self.bodies)))
        changed = dict(first)
        changed["occurred_at"] = _at(
            datetime.fromisoformat(first["occurred_at"]) - timedelta(minutes=1)
        )
        if "quantity_good" in first:
            changed["quantity_good"] = str(Decimal(first["quantity_good"]) + 5)
            original = (
                first["registration_uuid"],
                "quantity_good",
                Decimal(first["quantity_good"]),
            )
        else:
            changed["note"] = "posted again, changed"
            original = (first["registration_uuid"], "note", "")
        # The same body gets the first answer back; another body under the same key is
        # refused (the API's idempotency: 422 idempotency_key_reused). Neither stores a row:
        # the honest registration stays as first stored (checked after the run).
        return [
            self.probe("duplicate, same body", first, "replayed"),
            Probe(
                "duplicate, changed body",
                json.dumps(changed).encode(),
                "refused",
                original=original,
            ),
        ]

    def foreign(self):
        found = self._running()
        probes = [
            self.probe(
                "another site's worker at our terminal",
                self.body("clock_in", badge_id=FOREIGN_BADGE, terminal=_terminal(1)),
            ),
            self.probe(
                "another site's terminal token, our worker",
                self.body("clock_in", badge_id=ADVERSARY_BADGE),
                token="foreign_terminal",
            ),
            self.probe(
                "another site's terminal token, as our terminal",
                self.body(
                    "report_progress",
                    badge_id=ADVERSARY_BADGE,
                    terminal=_terminal(1),
                    job=found[2] if found else 1,
                    quantity_good="1",
                ),
                token="foreign_terminal",
            ),
        ]
        if found is not None:
            order, _, job, _ = found
            probes += [
                self.probe(
                    "our job from another site's terminal",
                    self.body(
                        "report_progress", job=job, terminal=FOREIGN_TERMINAL, quantity_good="1"
                    ),
                ),
                self.probe(
                    "our order from another site's terminal",
                    self.body(
                        "report_as_finished",
                        order=order.wo_id,
                        terminal=FOREIGN_TERMINAL,
                        quantity_good="1",
                    ),
                ),
            ]
        return probes

    def malformed(self):
        def keyed(attack: str, body: bytes, uuids=(), **headers) -> Probe:
            # An Idempotency-Key header of its own, so that the body reaches the parser and
            # the view (without one, a body with no readable registration_uuid stops at the
            # idempotency middleware's idempotency_key_missing).
            headers = {"Idempotency-Key": str(uuid.uuid4()), **headers}
            return Probe(attack, body, "refused", list(uuids), headers=headers)

        base = self.body("clock_in", badge_id=ADVERSARY_BADGE, terminal=_terminal(1))
        text = json.dumps(base)
        nul_uuid = {**base, "registration_uuid": base["registration_uuid"][:8] + "\u0000"}
        nul_note = {**self.body("clock_in", badge_id=ADVERSARY_BADGE), "note": "a\u0000b"}
        deep = self.body("clock_in", badge_id=ADVERSARY_BADGE)
        deep_text = json.dumps(deep)[:-1] + ', "note": ' + "[" * 1000 + "]" * 1000 + "}"
        huge = self.body("report_progress", job=1, terminal=_terminal(1))
        huge_text = json.dumps(huge)[:-1] + ', "quantity_good": ' + "9" * 5000 + "}"
        uuids = [base["registration_uuid"]]
        return [
            keyed("bad JSON", text[: len(text) // 2].encode(), uuids),
            Probe("bad JSON, no Idempotency-Key", text[: len(text) // 2].encode(), "refused"),
            keyed("NUL in registration_uuid", json.dumps(nul_uuid).encode()),
            self.probe("NUL in the note", nul_note),
            keyed("nested 1,000 levels", deep_text.encode(), [deep["registration_uuid"]]),
            keyed("a 5,000-digit number", huge_text.encode(), [huge["registration_uuid"]]),
            self.probe(
                "quantity 1e999999",
                self.body(
                    "report_progress", job=1, terminal=_terminal(1), quantity_good="1e999999"
                ),
            ),
            self.probe(
                "job id beyond bigint",
                self.body("report_progress", job=10**30, terminal=_terminal(1), quantity_good="1"),
            ),
            self.probe("unknown kind", self.body("teleport", badge_id=ADVERSARY_BADGE)),
            self.probe("a correction posted", self.body("correction", badge_id=ADVERSARY_BADGE)),
            keyed("body not an object", b"42"),
            keyed(
                "form body",
                f"registration_uuid={uuid.uuid4()}&kind=clock_in".encode(),
                **{"Content-Type": "application/x-www-form-urlencoded"},
            ),
            self.probe("no credential", self.body("clock_in", badge_id=ADVERSARY_BADGE), token=""),
        ]

    def batch(self):
        found = self._running()
        if found is None:
            return None
        _, _, job, resource = found
        items = [
            self.body("report_progress", job=job, terminal=_terminal(resource), quantity_good=HUGE),
            self.body("teleport"),
            self.body(
                "clock_in",
                datetime.now(UTC) + timedelta(hours=3),
                badge_id=ADVERSARY_BADGE,
                terminal=_terminal(1),
            ),
        ]
        return [
            Probe(
                "a batch of impossible items",
                json.dumps(items).encode(),
                "refused",
                [i["registration_uuid"] for i in items],
                headers={"Idempotency-Key": str(uuid.uuid4())},  # a list has no key of its own
            )
        ]

    ATTACKS = (
        "over_progress", "over_finish", "over_start", "over_material", "backdated_clock_in",
        "backdated_start", "times", "duplicates_of_the_floor", "foreign", "malformed", "batch",
    )  # fmt: skip
