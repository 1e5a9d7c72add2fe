"""The soak's adversarial terminal: one load thread that posts what no real floor can say, next
to the 50 honest terminals, and counts the answers by status and code (bench/soak.py).

It posts, round after round in a shuffled order:

- over-reports on the soak's running jobs and orders: progress and scrap far beyond what is
  in progress, report as finished beyond the last operation's output and beyond the order
  quantity, a start beyond what may start, a return beyond what was consumed, a consumption
  beyond what is on hand;
- times: a clock-in and a job start dated just before a real worker's own clock-in or start
  (contradicted by it), a clock-in before the adversary's worker's own, a progress older than
  the backdating window, one beyond the clock skew, a time without a zone;
- duplicates of the honest terminals' accepted posts: the same registration_uuid with the
  same body and with a changed body (both must answer the first answer and store nothing);
- another site's worker at our terminal, our job and order from another site's terminal, that
  terminal's own token posting for our worker or as our terminal;
- malformed bodies: bad JSON, NUL characters, nesting 1,000 levels deep, huge numbers, unknown
  kinds, a body that is not an object, a batch of impossible items, a form body, no
  credential.

Every impossible post is built so that it is certainly refused whatever the honest terminals
do meanwhile (quantities of 1,000 on orders of at most 12, times before a registration that
is already stored): one accepted would change the floor's counts, and the soak checks those
too. The adversary's own worker clocks in and out for real (with a spoofed
X-Registration-Source header, which must not be believed) and never gets further.

Checked after the run (adversary_checks): no 5xx, every impossible post refused with a 4xx,
none of the refused registration_uuids stored, duplicates answered as replays and stored
once, unchanged, the spoofed source not stored. flow_checks: the material-flow bounds on
every job and order in the database.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

PATH = "/api/v1/registrations/"
ADVERSARY_BADGE = "5901"  # a worker of the soak's site that only the adversary uses
FOREIGN_SITE = "SKX"
FOREIGN_BADGE = "5999"  # a worker of the other site
FOREIGN_TERMINAL = "T-SKX-01"
SPOOFED_SOURCE = "scale-unit:PLANT2"
HUGE = "1000"  # beyond any soak order (4-12 pieces) and anything in progress on it


def seed_adversary(*, site, agreement) -> dict:
    """Another site with a resource, terminal and worker; the adversary's own worker at the
    soak's site; the other site's terminal token. Returns the tokens to post with."""
    from execution.models import Terminal, Worker
    from execution.services.senders import terminal_issue_token
    from inventory.models import Site
    from orders.models import Resource

    foreign = Site.objects.create(code=FOREIGN_SITE, name="Another plant")
    resource = Resource.objects.create(code="SKX-01", name="Another plant's cell", site=foreign)
    terminal = Terminal.objects.create(
        code=FOREIGN_TERMINAL, name="Another plant's terminal", resource=resource
    )
    Worker.objects.create(
        badge_id=FOREIGN_BADGE, name="Another plant's worker", site=foreign, pay_agreement=agreement
    )
    Worker.objects.create(
        badge_id=ADVERSARY_BADGE, name="Adversary", site=site, pay_agreement=agreement
    )
    return {"foreign_terminal": terminal_issue_token(terminal=terminal)}


@dataclass
class Probe:
    """One adversarial request and what must come of it."""

    attack: str
    body: bytes
    expect: str  # refused (4xx), replayed (200, Idempotent-Replayed), accepted (2xx)
    uuids: list[str] = field(default_factory=list)  # its registration_uuids, when valid
    token: str = "operator"  # key of the token to post with; "" for none
    headers: dict = field(default_factory=dict)
    original: tuple[str, str, object] | None = None  # duplicate: (uuid, field, first value)


def _terminal(resource: int) -> str:
    return f"T-SK-{resource:02d}"


def _at(moment: datetime) -> str:
    return moment.isoformat()


def _code(data) -> str:
    if not isinstance(data, dict):
        return "-"
    code = str(data.get("code", "-"))
    if code == "invalid" and isinstance(data.get("fields"), dict):
        code += "(" + ",".join(sorted(data["fields"])) + ")"
    return code


class Adversary:
    """The thread (run) and what it saw; the soak feeds it the honest posts (observe)."""

    def __init__(self, soak, client_factory, tokens: dict, interval: float, resources_of) -> None:
        self.soak = soak
        self.resources_of = resources_of  # product -> (resource of operation 10, of 20)
        self.client_factory = client_factory
        self.tokens = tokens
        self.interval = interval
        self.rng = random.Random(soak.args.seed * 31)
        self.lock = threading.Lock()
        # What the honest terminals did: clock-ins, starts, accepted bodies.
        self.clock_ins: dict[str, tuple[datetime, str]] = {}
        self.starts: deque[tuple[str, str, int, int, datetime]] = deque(maxlen=200)
        self.bodies: deque[dict] = deque(maxlen=300)
        # What the adversary saw.
        self.answers: Counter = Counter()  # (attack, status, code)
        self.wrong: list[str] = []  # answers that broke the expectation
        self.refused_uuids: set[str] = set()
        self.duplicates: list[tuple[str, str, object]] = []
        self.replays = Counter()  # answered / as expected
        self.accepted_uuids: list[str] = []
        self.spoofed: list[str] = []  # accepted posts that carried the spoofed source header
        self.unanswered = 0
        self.clock_in_at: datetime | None = None
        self.backdating_hours = 0
        self.skew_seconds = 120
        self.post_inventory = True

    # --- The honest floor, as the adversary hears of it -----------------------------------

    def observe(self, badge: str, body: dict) -> None:
        """An honest terminal's accepted post."""
        at = datetime.fromisoformat(body["occurred_at"])
        with self.lock:
            self.bodies.append(dict(body))
            if body["kind"] == "clock_in":
                self.clock_ins[badge] = (at, body["terminal"])
            elif body["kind"] == "start_job":
                resource = int(body["terminal"].rsplit("-", 1)[1])
                self.starts.append((badge, body["terminal"], resource, body["job"], at))

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

    # --- Building the posts ---------------------------------------------------------------

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

    # --- Posting and counting -------------------------------------------------------------

    def send(self, clients: dict, probe: Probe):
        headers = {"Content-Type": "application/json", **probe.headers}
        # A refusal is answered at once; a 5xx is counted, not retried (patience 0).
        # A replay must be answered to be judged: it waits out a restart like an accepted post.
        patience = 0.0 if probe.expect == "refused" else 90.0
        answer = clients[probe.token].call(
            "POST",
            PATH,
            probe.body,
            headers,
            what=f"adversary: {probe.attack}",
            patience=patience,
        )
        if answer is None:
            with self.lock:
                self.unanswered += 1
                if probe.expect == "replayed":
                    self.wrong.append(f"{probe.attack}: no answer within 90 s")
            return None
        data = answer.json()
        batch = probe.attack.startswith("a batch") and answer.status == 200
        codes = (
            [(r.get("status", 0), _code(r)) for r in data.get("results", [])]
            if batch and isinstance(data, dict)
            else [(answer.status, _code(data))]
        )
        replayed = answer.headers.get("Idempotent-Replayed") == "true"
        with self.lock:
            if probe.original is not None:
                self.duplicates.append(probe.original)
            for status, code in codes:
                self.answers[(probe.attack, status, code)] += 1
            if probe.expect == "refused":
                if all(400 <= status < 500 for status, _ in codes):
                    self.refused_uuids.update(probe.uuids)
                else:
                    self.wrong.append(f"{probe.attack}: {answer.status} {answer.body[:160]!r}")
            elif probe.expect == "replayed":
                self.replays["posted"] += 1
                if 200 <= answer.status < 300 and replayed:
                    self.replays["answered as replays"] += 1
                else:
                    self.wrong.append(f"{probe.attack}: {answer.status} {answer.body[:160]!r}")
            elif 200 <= answer.status < 300:
                self.accepted_uuids.extend(probe.uuids)
                if probe.headers.get("X-Registration-Source"):
                    self.spoofed.extend(probe.uuids)
            else:
                self.wrong.append(f"{probe.attack}: {answer.status} {answer.body[:160]!r}")
        return answer

    def own_shift(self, clients: dict, kind: str) -> None:
        """The adversary's worker clocks in or out for real, claiming to be a scale unit."""
        now = datetime.now(UTC)
        probe = self.probe(
            f"adversary's own {kind.replace('_', '-')}",
            self.body(kind, now, badge_id=ADVERSARY_BADGE, terminal=_terminal(1)),
            "accepted",
            headers={"X-Registration-Source": SPOOFED_SOURCE},
        )
        answer = self.send(clients, probe)
        if kind == "clock_in" and answer is not None and answer.status == 202:
            self.clock_in_at = now
            # Something of its own to post again, should no honest post have been heard yet.
            with self.lock:
                self.bodies.append(json.loads(probe.body))

    def run(self) -> None:
        from django.conf import settings

        self.backdating_hours = settings.MES_REGISTRATION_BACKDATING_HOURS
        self.skew_seconds = settings.MES_REGISTRATION_CLOCK_SKEW_SECONDS
        self.post_inventory = settings.MES_POST_INVENTORY
        clients = {
            key: self.client_factory(self.tokens[key] if key else None)
            for key in ("operator", "foreign_terminal", "")
        }
        stop = self.soak.stop_load
        self.own_shift(clients, "clock_in")
        attacks: list[str] = []
        done: set[str] = set()
        while not stop.is_set():
            if not attacks:
                attacks = list(self.ATTACKS)
                self.rng.shuffle(attacks)
            name = attacks.pop()
            probes = getattr(self, name)()
            if probes:
                done.add(name)
            for probe in probes or []:
                self.send(clients, probe)
                if stop.wait(self.interval):
                    break
        # A slow server may not have let every attack run during the load: each once more.
        for name in self.ATTACKS:
            if name not in done:
                for probe in getattr(self, name)() or []:
                    self.send(clients, probe)
        if self.clock_in_at is not None:
            self.own_shift(clients, "clock_out")
        for client in clients.values():
            client.close()

    # --- After the run --------------------------------------------------------------------

    def table(self) -> list[tuple[str, str]]:
        """One row per attack: its answers by status and code; then the totals."""
        by_attack: dict[str, Counter] = {}
        totals: Counter = Counter()
        for (attack, status, code), n in self.answers.items():
            by_attack.setdefault(attack, Counter())[f"{status} {code}"] += n
            totals[f"{status} {code}"] += n
        rows = [
            (attack, ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))
            for attack, counts in sorted(by_attack.items())
        ]
        rows.append(
            (
                "all answers, by status and code",
                ", ".join(
                    f"{k}: {n}" for k, n in sorted(totals.items(), key=lambda kv: (kv[0], -kv[1]))
                ),
            )
        )
        if self.unanswered:
            rows.append(("no answer (the gunicorn restart)", str(self.unanswered)))
        return rows


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
