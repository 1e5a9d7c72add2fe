"""Scale unit -> hub, end to end, against a single deployment, side by side in one run.

    .venv/bin/python bench/scale_unit.py [--outage-minutes 10] [--rate 200]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_hub]

A plant outage of --outage-minutes at --rate registrations a minute leaves a backlog of
outage x rate registrations on the scale unit (2,000 by default). The bench drops and
recreates two databases (the hub's, named in --database-url, and the scale unit's, the same
name + "_su"; both must start with mes_bench), migrates them, and starts the hub's gunicorn
(2 workers) and the scale unit's (1 worker), each on its own database. Untimed, on the hub:
two twin plants (tests/execution/floor.py), plant A run by scale unit BENCH, plant B by the
hub itself; 20 orders released on each; the scale unit takes its packages (sync_hub). The
same shift (`shift` below: one that can be true at the door) is generated for both.

Timed, in this order:
1. single deployment: plant B's registrations POSTed to the hub (lists of 100, as a
   terminal concentrator would), then processed by the hub's processor (this process, as one
   worker does); wall time of both;
2. outage: plant A's registrations POSTed to the scale unit with the hub unreachable
   (MES_HUB_URL pointing at a closed port) and processed there (the floor's own view);
3. reconnection (backlog drain): sync_hub on the scale unit forwards the backlog to the hub
   (batches of MES_HUB_FORWARD_BATCH) and the hub's processor processes it; wall time of both.

Checked: every registration reached the hub once, all processed, and plant A's orders equal
plant B's. Printed: registrations/s of each path, the ratio scale-unit path : single
deployment, the drain time against the outage's length, and a JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    code_version,
    database_name,
    free_port,
    machine,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_hub"
ORDERS = 20


def _env(database_url: str, var_dir: Path, **extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mesproject.settings.base",
        "DATABASE_URL": database_url,
        "MES_VAR_DIR": str(var_dir),
        "MES_PROCESSOR_NUDGE": "0",
        # The shift is the test floor's day (tests/execution/floor.py DAY), months back: the
        # door's backdating window would refuse it (docs/execution.md). Off on both sides.
        "MES_REGISTRATION_BACKDATING_HOURS": "0",
        # The scale unit's token is the last line a manage.py shell prints
        # (tests/integration/deployments.py); django-axes logs its start at INFO after it.
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("REDIS_URL", None)  # files for queue and cache: nothing shared between the two
    return env


def _migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    import urllib.request

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mesproject.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    sys.exit("gunicorn did not start")


def _post_all(url: str, token: str, bodies: list[dict], batch: int = 100) -> None:
    import urllib.request
    import uuid

    for start in range(0, len(bodies), batch):
        request = urllib.request.Request(
            f"{url}/api/v1/registrations/",
            data=json.dumps(bodies[start : start + batch]).encode(),
            method="POST",
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        with urllib.request.urlopen(request, timeout=300) as answer:
            results = json.loads(answer.read())["results"]
        refused = [r for r in results if r["status"] != 202]
        if refused:
            sys.exit(f"refused: {refused[:2]}")


def shift(floor, orders, *, progress: int, breaks: int = 0) -> list[dict]:
    """Registrations of one shift that can be true at the door (docs/execution.md, the
    quantity limits): worker i runs order i's three operations; each starts what the one
    before output (the first the order quantity, progress + 3), reports it one good unit at a
    time and one scrapped with a reason at the end; then reports the last operation's good
    output (progress) as finished and clocks out. The first `breaks` workers take a break."""
    bodies = []
    for index, order in enumerate(orders):
        badge = floor.workers[index].badge_id
        minute = 0.0

        def add(kind, **fields):
            nonlocal minute
            minute += 0.05
            bodies.append(
                {
                    "registration_uuid": str(uuid.uuid4()),
                    "kind": kind,
                    "occurred_at": floor.at(minute).isoformat(),
                    **fields,
                }
            )

        add("clock_in", badge_id=badge)
        if index < breaks:
            add("break_start", badge_id=badge)
            add("break_stop", badge_id=badge)
        for step, operation in enumerate((10, 20, 30)):
            job = floor.job(order, operation).pk
            add("start_job", badge_id=badge, job=job)  # the rest: what may start here
            for _ in range(progress + 2 - step):
                add("report_progress", badge_id=badge, job=job, quantity_good="1")
            add(
                "report_progress",
                badge_id=badge,
                job=job,
                quantity_scrap="1",
                reason_code=floor.scrap_reason.code,
                completes_job=True,
            )
        add("report_as_finished", order=order.number, quantity_good=str(progress))
        add("clock_out", badge_id=badge)
    return bodies


class _Template:
    """What tests.integration.deployments.ScaleUnitDeployment asks of its database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def new_database(self, _workdir) -> str:
        return self.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage-minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=200, help="registrations a minute")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    hub_url_db = args.database_url
    parsed = urlparse(hub_url_db)
    su_url_db = urlunparse(parsed._replace(path=f"/{database_name(hub_url_db)}_su"))
    database_name(su_url_db)
    backlog_size = int(args.outage_minutes * args.rate)
    # Shift per order: clock-in, 3 starts, 3 x progress + 3 good and 3 scrap reports, finish,
    # clock-out.
    progress = max(1, (backlog_size // ORDERS - 12) // 3)
    breaks = max(0, min(ORDERS, (backlog_size - ORDERS * (3 * progress + 12)) // 2))

    work = Path(tempfile.mkdtemp(prefix="mes-bench-su-"))
    for url in (hub_url_db, su_url_db):
        recreate_database(url)
    hub_port = free_port()
    hub_env = _env(hub_url_db, work / "hub", MES_PUBLIC_URL=f"http://127.0.0.1:{hub_port}")
    print(f"code {code_version()}; {machine()}")
    print("migrating the hub's and the scale unit's databases...", flush=True)
    _migrate(hub_env)
    _migrate(_env(su_url_db, work / "su-migrate"))

    os.environ.update(hub_env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.db.models import Sum
    from rest_framework.authtoken.models import Token

    from execution.models import RawRegistration
    from execution.services.processing import registrations_process
    from integration.models import DefectReasonMapping
    from integration.scale_units.services import scale_unit_register
    from mesproject.workplace.roles import roles_ensure
    from orders.models import ProductionOrder
    from tests.execution.floor import make_floor
    from tests.integration.deployments import ScaleUnitDeployment

    roles_ensure()
    # Stock for every order's consumption; scrap reasons mapped to the ERP's, as in a
    # configured plant (unmapped, every scrap message would be dead-lettered with an alert).
    stock = 10 * (progress + 3) * ORDERS
    plant_a = make_floor(workers=ORDERS, stock=stock)
    plant_b = make_floor(workers=ORDERS, stock=stock)
    for plant in (plant_a, plant_b):
        DefectReasonMapping.objects.create(
            defect=plant.scrap_reason, erp_reason_code="SCR-01", cost_center="CC-100"
        )
    registered = scale_unit_register(code="BENCH", sites=[plant_a.site])
    # Each operation scraps one: the order starts three more than it finishes.
    orders_a = [plant_a.order(quantity=progress + 3) for _ in range(ORDERS)]
    orders_b = [plant_b.order(quantity=progress + 3) for _ in range(ORDERS)]
    bodies_a = shift(plant_a, orders_a, progress=progress, breaks=breaks)
    bodies_b = shift(plant_b, orders_b, progress=progress, breaks=breaks)
    hub_token = Token.objects.get(user=plant_b.user).key

    hub = _gunicorn(hub_env, hub_port, workers=2)
    unit = ScaleUnitDeployment(
        code="BENCH",
        hub_url=f"http://127.0.0.1:{hub_port}",
        token=registered.token,
        workdir=work,
        template=_Template(su_url_db),
    )
    try:
        unit.start()
        unit.sync()  # the reference data and the 20 orders
        print(f"{len(bodies_b)} registrations per plant; timing...", flush=True)

        started = time.perf_counter()
        _post_all(f"http://127.0.0.1:{hub_port}", hub_token, bodies_b)
        single_accept = time.perf_counter() - started
        summary = registrations_process()
        single_total = time.perf_counter() - started
        assert summary.failed == 0, summary

        closed = f"http://127.0.0.1:{free_port()}"
        unit.env["MES_HUB_URL"] = closed
        started = time.perf_counter()
        _post_all(unit.url, unit.token, bodies_a)
        su_accept = time.perf_counter() - started
        output = unit.manage("sync_hub")
        su_local_total = time.perf_counter() - started
        assert "hub unreachable" in output and f"backlog: {len(bodies_a)} to" in output, output

        unit.env["MES_HUB_URL"] = f"http://127.0.0.1:{hub_port}"
        started = time.perf_counter()
        output = unit.manage("sync_hub", "--no-process")
        forwarded = time.perf_counter() - started
        summary = registrations_process()
        drain = time.perf_counter() - started
        assert "backlog: 0 to the hub" in output, output
        assert summary.failed == 0, summary
    finally:
        unit.drop()
        hub.terminate()
        hub.wait(timeout=30)

    stored = RawRegistration.objects.filter(source="scale-unit:BENCH")
    su_rows = stored.count()
    assert stored.exclude(status="processed").count() == 0

    def totals(orders):
        return list(
            ProductionOrder.objects.filter(pk__in=[o.pk for o in orders])
            .order_by("pk")
            .values_list("status", "quantity_completed", "quantity_scrapped")
        )

    assert totals(orders_a) == totals(orders_b), "plant A differs from plant B"
    good = ProductionOrder.objects.filter(pk__in=[o.pk for o in orders_a]).aggregate(
        good=Sum("quantity_completed")
    )["good"]

    n = len(bodies_a)
    single_rate = n / single_total
    su_rate = n / drain
    figures = {
        "registrations": n,
        "stored_rows": su_rows,
        "single_accept_s": round(single_accept, 2),
        "single_total_s": round(single_total, 2),
        "single_per_s": round(single_rate, 1),
        "su_local_accept_s": round(su_accept, 2),
        "su_local_total_s": round(su_local_total, 2),
        "forward_s": round(forwarded, 2),
        "drain_s": round(drain, 2),
        "su_end_to_end_per_s": round(su_rate, 1),
        "ratio_single_to_su": round(single_rate / su_rate, 2),
        "outage_s": args.outage_minutes * 60,
        "drain_share_of_outage": round(drain / (args.outage_minutes * 60), 3),
        "good_units": str(good),
    }
    print()
    print(f"{'path':58} {'seconds':>8} {'reg/s':>8}")
    print(
        f"{'single deployment: POST to the hub + hub processing':58} "
        f"{single_total:8.1f} {single_rate:8.1f}"
    )
    print(
        f"{'scale unit (hub down): POST + processing on the floor':58} "
        f"{su_local_total:8.1f} {n / su_local_total:8.1f}"
    )
    print(f"{'backlog drain: forward to the hub + hub processing':58} {drain:8.1f} {su_rate:8.1f}")
    print(f"{'  of which forwarding (sync_hub, a fresh process)':58} {forwarded:8.1f}")
    print(
        f"\nratio single deployment : scale unit end to end = {single_rate / su_rate:.2f} : 1; "
        f"a {args.outage_minutes:g}-minute outage at {args.rate}/min ({n} registrations, "
        f"{su_rows} rows with derived stops) drains in {drain:.0f} s "
        f"({100 * drain / (args.outage_minutes * 60):.1f}% of the outage)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
