"""The ERP's load: it creates, updates, cancels, patches and closes work orders, and replays
some of its writes with the same Idempotency-Key.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .client import Answer, Client
from .config import PRODUCTS, WO_PREFIX
from .plant import SoakOrder


@dataclass
class Replay:
    due: float
    method: str
    path: str
    body: bytes
    key: str
    status: int


class ErpLoad:
    """The ERP thread; Soak mixes it in (its stack, tokens, record, plant, events)."""

    def erp_write(
        self, client: Client, method: str, path: str, payload: dict, what: str, expect
    ) -> Answer | None:
        key = str(uuid.uuid4())
        body = json.dumps(payload).encode()
        answer = client.call(
            method, path, body, {"Content-Type": "application/json", "Idempotency-Key": key}, what
        )
        if answer is None:
            self.record.note(f"ERP {what} {path}: no answer")
            return None
        self.record.count(f"erp {what}")
        if answer.status not in expect:
            self.record.note(f"ERP {what} {path}: {answer.status} {answer.body[:200]!r}")
        elif random.random() < 0.10:
            with self.replay_lock:
                self.replays.append(
                    Replay(
                        time.monotonic() + random.uniform(0.5, 8.0),
                        method,
                        path,
                        body,
                        key,
                        answer.status,
                    )
                )
        return answer

    def run_replays(self, client: Client, everything: bool = False) -> None:
        now = time.monotonic()
        with self.replay_lock:
            due = [r for r in self.replays if everything or r.due <= now]
            self.replays = [r for r in self.replays if r not in due]
        for replay in due:
            answer = client.call(
                replay.method,
                replay.path,
                replay.body,
                {"Content-Type": "application/json", "Idempotency-Key": replay.key},
                "replay",
            )
            self.record.count("erp replays")
            if (
                answer is not None
                and answer.status == replay.status
                and answer.headers.get("Idempotent-Replayed") == "true"
            ):
                self.record.count("erp replays answered as replays")
            else:
                got = "no answer" if answer is None else f"{answer.status}"
                self.record.note(f"replay {replay.method} {replay.path}: {got}")

    def erp(self) -> None:
        rng = random.Random(self.args.seed)
        client = Client(self.stack.web_port, "erp", self.record, self.tokens["erp"])
        plant = self.plant
        next_create = 0.0
        while not self.stop_erp.is_set():
            self.run_replays(client)
            now = time.monotonic()
            # Create while a product has fewer than 10 orders waiting or on the floor.
            if (
                not self.stop_load.is_set()
                and self.created < self.max_orders
                and now >= next_create
            ):
                product = min(range(1, PRODUCTS + 1), key=plant.open_orders)
                if plant.open_orders(product) < 10:
                    self.create_order(client, rng, product)
                    next_create = now + 0.2
            # Close what the floor finished, once the processor has caught up with it.
            with plant.lock:
                due = [item for item in plant.to_close if item[0] <= now]
                for item in due:
                    plant.to_close.remove(item)
            for _, wo_id in due:
                self.close_order(client, wo_id)
            time.sleep(0.1)
        self.run_replays(client, everything=True)
        client.close()

    def create_order(self, client: Client, rng: random.Random, product: int) -> None:
        self.created += 1
        wo_id = f"{WO_PREFIX}{self.created:05d}"
        quantity = rng.randint(4, 12)
        payload = {
            "wo_id": wo_id,
            "part_number": f"SK-P{product}",
            "revision": "A",
            "qty_target": str(quantity),
            "scheduled_start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "priority": rng.randint(1, 9),
        }
        answer = self.erp_write(client, "POST", "/api/v1/work-orders/", payload, "create", {201})
        if answer is None or answer.status != 201:
            return
        order = SoakOrder(wo_id, product, quantity)
        with self.plant.lock:
            self.plant.orders[wo_id] = order
        if rng.random() < 0.3:  # the ERP changes its mind while the order is Created
            order.quantity = quantity = rng.randint(4, 12)
            payload = {**payload, "qty_target": str(quantity), "priority": rng.randint(1, 9)}
            self.erp_write(client, "POST", "/api/v1/work-orders/", payload, "update", {200})
        if rng.random() < 0.05:
            answer = self.erp_write(
                client,
                "POST",
                f"/api/v1/work-orders/{wo_id}/close/",
                {"mode": "cancel"},
                "cancel",
                {200},
            )
            with self.plant.lock:
                order.state = "canceled"
            return
        with self.plant.lock:
            self.plant.to_release.append(wo_id)

    def close_order(self, client: Client, wo_id: str) -> None:
        order = self.plant.orders[wo_id]
        answer = client.call("GET", f"/api/v1/work-orders/{wo_id}/", what="read")
        data = (answer.json() or {}) if answer is not None and answer.status == 200 else {}
        expected_scrap = sum(order.scrap.values())
        settled = (
            Decimal(data.get("qty_in_progress", "-1")) == 0
            and Decimal(data.get("qty_good", "-1")) == order.finished_good
            and Decimal(data.get("qty_scrap", "-1")) == expected_scrap
        )
        if not settled:
            with self.plant.lock:
                self.plant.to_close.append((time.monotonic() + 1.0, wo_id))
            return
        answer = self.erp_write(
            client,
            "POST",
            f"/api/v1/work-orders/{wo_id}/close/",
            {"mode": "short_close"},
            "close",
            {200},
        )
        if answer is not None and answer.status == 200:
            with self.plant.lock:
                order.state = "closed"
