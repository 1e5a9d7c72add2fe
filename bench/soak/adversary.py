"""The soak's adversarial terminal: one load thread that posts what no real floor can say, next
to the 50 honest terminals, and counts the answers by status and code (scenario.py starts it).

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

What it posts is built in attacks.py (probes.py: the requests and their expected answers).

Checked after the run (adversary_checks.py): no 5xx, every impossible post refused with a 4xx,
none of the refused registration_uuids stored, duplicates answered as replays and stored
once, unchanged, the spoofed source not stored. flow_checks: the material-flow bounds on
every job and order in the database.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, deque
from datetime import UTC, datetime

from .attacks import Attacks
from .probes import (
    ADVERSARY_BADGE,
    FOREIGN_BADGE,
    FOREIGN_SITE,
    FOREIGN_TERMINAL,
    PATH,
    SPOOFED_SOURCE,
    Probe,
    _code,
    _terminal,
)


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


class Adversary(Attacks):
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
