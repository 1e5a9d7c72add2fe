"""The floor's load: the planner releases, 50 workers post from their terminals, two
supervisors read pages.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from .client import Client
from .config import RESOURCES, SCRAP_REASONS
from .plant import Ticket, resources_of


class FloorLoad:
    """The planner, terminal and supervisor threads; Soak mixes it in."""

    # --- Planner ---------------------------------------------------------------------------

    def planner(self) -> None:
        from execution.models import Job
        from orders.models import ProductionOrder

        rng = random.Random(self.args.seed + 1)
        client = Client(self.stack.web_port, "planner", self.record)
        if not client.login("planner"):
            self.record.note("planner could not sign in")
            return
        erp = Client(self.stack.web_port, "erp", self.record, self.tokens["erp"])
        plant = self.plant
        while not self.stop_load.is_set():
            with plant.lock:
                wo_id = plant.to_release.popleft() if plant.to_release else None
                if wo_id is not None:
                    plant.orders[wo_id].state = "releasing"
            if wo_id is None:
                time.sleep(0.2)
                continue
            order = plant.orders[wo_id]
            pk = ProductionOrder.objects.get(number=wo_id).pk
            for _attempt in range(5):
                client.post_form(f"/planner/orders/{pk}/transition/release/", {}, what="release")
                if ProductionOrder.objects.get(pk=pk).status == "released":
                    break
                time.sleep(1)
            else:
                self.record.note(f"planner could not release {wo_id}")
                continue
            self.record.count("planner releases")
            jobs = dict(
                Job.objects.filter(order_id=pk, kind="process").values_list(
                    "operation_number", "id"
                )
            )
            with plant.lock:
                order.jobs = jobs
                order.state = "released"
            if rng.random() < 0.2:  # a new priority from the ERP: 200, or 202 once it runs
                self.erp_write(
                    erp,
                    "PATCH",
                    f"/api/v1/work-orders/{wo_id}/",
                    {"priority": rng.randint(1, 9)},
                    "patch",
                    {200, 202},
                )
            plant.push(resources_of(order.product)[0], Ticket(wo_id, 10, jobs[10], order.quantity))
        client.close()
        erp.close()

    # --- Terminals -------------------------------------------------------------------------

    def think(self, rng: random.Random) -> None:
        # After the load phase the workers finish their job and clock out a little faster,
        # not all at once (a burst of 50 posts would only measure the burst).
        slower = 0.5 if self.stop_load.is_set() else 1.0
        time.sleep(rng.uniform(self.args.think_min, self.args.think_max) * slower)

    def worker(self, index: int) -> None:
        rng = random.Random(self.args.seed * 1000 + index)
        badge = str(5001 + index)
        resource = index % RESOURCES + 1
        terminal = f"T-SK-{resource:02d}"
        client = Client(self.stack.web_port, "terminal", self.record, self.tokens["operator"])
        last = [datetime.now(UTC) - timedelta(seconds=1)]

        def post(kind: str, **fields) -> bool:
            occurred = max(datetime.now(UTC), last[0] + timedelta(milliseconds=1))
            last[0] = occurred
            body = {
                "registration_uuid": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": occurred.isoformat(),
                "terminal": terminal,
                **fields,
            }
            answer = client.post_json("/api/v1/registrations/", body, what=kind)
            if answer is not None and answer.status in (200, 202):
                self.record.count("registrations accepted")
                self.record.count(f"registrations: {kind}")
                with self.record.lock:
                    self.accepted_uuids.append(body["registration_uuid"])
                self.adversary.observe(badge, body)
                return True
            got = "no answer" if answer is None else f"{answer.status} {answer.body[:300]!r}"
            self.record.note(f"terminal {badge} {kind}: {got}")
            self.record.count("registrations refused")
            return False

        time.sleep(rng.uniform(0, min(15.0, 0.1 * self.seconds)))  # the shift arrives
        if not post("clock_in", badge_id=badge):
            return
        while not self.stop_load.is_set():
            ticket = self.plant.take(resource, timeout=1.0)
            if ticket is None:
                continue
            self.job(post, rng, badge, resource, ticket)
            breaking = rng.random() < 0.05 and not self.stop_load.is_set()
            if breaking and post("break_start", badge_id=badge):
                self.think(rng)
                post("break_stop", badge_id=badge)
            self.think(rng)
        post("clock_out", badge_id=badge)
        client.close()

    def job(self, post, rng: random.Random, badge: str, resource: int, ticket: Ticket) -> None:
        order = self.plant.orders[ticket.wo_id]
        if not post("start_job", badge_id=badge, job=ticket.job_id, quantity=str(ticket.quantity)):
            order.broken = True
            return
        order.started[ticket.operation] += ticket.quantity
        left = ticket.quantity
        reports = rng.randint(2, 4)
        good_total = 0
        for n in range(reports):
            self.think(rng)
            final = n == reports - 1 or self.stop_load.is_set()
            portion = left if final else min(left, max(1, round(ticket.quantity / reports)))
            scrap = 1 if portion > 0 and rng.random() < 0.15 else 0
            good = portion - scrap
            fields = {"quantity_good": str(good), "quantity_scrap": str(scrap)}
            if scrap:
                fields["reason_code"] = rng.choice(SCRAP_REASONS)
            if final:
                fields["completes_job"] = True
            elif portion == 0:
                continue
            if post("report_progress", badge_id=badge, job=ticket.job_id, **fields):
                order.good[ticket.operation] += good
                order.scrap[ticket.operation] += scrap
                good_total += good
            else:
                order.broken = True
            left -= portion
            if final:
                break
        if ticket.operation == 10 and good_total > 0:
            self.plant.push(
                resources_of(order.product)[1], Ticket(ticket.wo_id, 20, order.jobs[20], good_total)
            )
            return
        if ticket.operation == 20 and good_total > 0:
            self.think(rng)
            if post("report_as_finished", order=ticket.wo_id, quantity_good=str(good_total)):
                order.finished_good += good_total
            else:
                order.broken = True
        with self.plant.lock:
            order.state = "finished"
            self.plant.to_close.append((time.monotonic() + 2.0, ticket.wo_id))

    # --- Supervisors -----------------------------------------------------------------------

    PAGES = (
        "/supervisor/floor/",
        "/supervisor/floor/live/",
        "/supervisor/plan/",
        "/floor/processing-log/",
        "/planner/orders/",
        "/dashboard/",
        "/it/outbox/",
        "/change-requests/",
        "/api/v1/registrations/?status=failed",
        "/api/v1/registrations/?limit=50",
    )

    def supervisor(self, index: int) -> None:
        rng = random.Random(self.args.seed * 7 + index)
        client = Client(self.stack.web_port, "supervisor", self.record)
        if not client.login("supervisor"):
            self.record.note("supervisor could not sign in")
            return
        while not self.stop_load.is_set():
            page = rng.choice(self.PAGES)
            answer = client.call("GET", page, what=page.split("?")[0])
            self.record.count("supervisor pages")
            if answer is None or answer.status != 200:
                got = "no answer" if answer is None else answer.status
                self.record.note(f"supervisor {page}: {got}")
            time.sleep(rng.uniform(1.0, 3.0))
        client.close()
