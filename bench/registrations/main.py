"""The bench's command line and its run: set up untimed, time the processors, report."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter, defaultdict

from _common import ROOT

from .bare import bare_inserts
from .checks import verify
from .config import DEFAULT_URL, D
from .cost import cost_figures, print_costs
from .databases import (
    copy_as_template,
    database_name,
    drop_database,
    recreate_database,
    table_states,
)
from .plant import build_plant
from .processes import child, run_processors
from .sample import StatementTimer, process_sample, sample_lanes
from .shifts import calibrate, simulate
from .stored import compare_rows, posted_input, stored_rows


def code_version() -> str:
    """The commit measured, and whether the checkout differs from it (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--"], check=False).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}"


def rate(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds:>9,.0f} {unit}/s"


def main() -> None:
    # The first paragraph of the package's docstring, which says what the bench measures.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--registrations", type=int, default=100_000, help="about this many")
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", default="1,2", help="processor counts, e.g. 1,2")
    parser.add_argument(
        "--batches",
        default="1,10,100,500",
        help="registrations_process batch sizes, 1 processor each ('' for none)",
    )
    parser.add_argument(
        "--validate", type=int, default=None, help="posts through the service (default 500)"
    )
    parser.add_argument(
        "--sample", type=int, default=None, help="registrations in-process (default 500)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile another sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep-template", action="store_true", help="keep <database>_template (unprocessed)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(batch=args.batch)
        return

    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL (the bench runs on PostgreSQL)")
    name = database_name(url)
    template = f"{name}_template"
    counts = [int(k) for k in args.workers.split(",") if k.strip()]
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    # Quick runs validate and sample less (down to a tenth of the registrations).
    small = max(100, args.registrations // 10)
    args.validate = min(500, small) if args.validate is None else args.validate
    args.sample = min(500, small) if args.sample is None else args.sample
    var_dir = tempfile.mkdtemp(prefix="mes_bench_reg_")
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="mesproject.settings.base",
        MES_PROCESSOR_NUDGE="0",
        # The simulated shifts lie days back, stored at once as a plant's history: the door's
        # backdating window (docs/execution.md) would refuse the sample posted through it.
        MES_REGISTRATION_BACKDATING_HOURS="0",
        MES_VAR_DIR=var_dir,  # the file cache and broker folders of this run, not the checkout's
    )
    try:
        run(args, url, name, template, counts, batches)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, url: str, name: str, template: str, counts: list[int], batches: list[int]) -> None:
    phase = {}
    t0 = time.perf_counter()
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from execution.choices import JobKind
    from execution.models import Job, RawRegistration
    from execution.services import order_lifecycle
    from execution.services.processing import registrations_process
    from execution.services.registrations import registration_accept
    from orders import services as order_services
    from orders.models import ProductionOrderMaterial

    call_command("migrate", verbosity=0)
    phase["migrate"] = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]

    n_orders = args.orders
    n_workers = max(2, -(-n_orders // 10))
    t0 = time.perf_counter()
    quantity = calibrate(args.registrations, n_orders, n_workers, args.seed)
    phase["calibrate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    plant = build_plant(n_workers, stock_per_part=n_orders * quantity + 100)
    orders = []
    for i in range(n_orders):
        order = order_services.production_order_create(
            number=f"BR-{i:05d}", item=plant.product, quantity=D(quantity), site=plant.site
        )
        orders.append(order_lifecycle.order_release(order=order))
    phase["plant and orders"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    order_by_id = {o.pk: o for o in orders}
    jobs = defaultdict(dict)
    for job in Job.objects.filter(kind=JobKind.PROCESS).select_related(
        "order__unit", "order__item", "resource"
    ):
        job.order = order_by_id.get(job.order_id, job.order)
        jobs[id(job.order)][job.operation_number] = job
    bell = plant.components["BELL"]
    bells = {
        id(order_by_id[m.order_id]): m
        for m in ProductionOrderMaterial.objects.filter(component=bell).select_related(
            "component__unit"
        )
    }
    shifts = simulate(orders, jobs, bells, plant.workers, quantity, args.seed)
    posts = shifts.posts
    expected = {order.pk: shifts.expected[id(order)] for order in orders}
    kinds = Counter()
    for post in posts:
        kinds[post.kind] += post.rows
    total = sum(kinds.values())
    phase["simulate"] = time.perf_counter() - t0

    # Store: the sample through registration_accept, the rest in bulk, the sample last.
    t0 = time.perf_counter()
    rng = random.Random(args.seed + 1)
    # Whole workers' posts, about --validate of them: the door judges a registration against
    # the same worker's later ones, so a worker's posts go through it all or not at all.
    by_worker = defaultdict(list)
    for index, post in enumerate(posts):
        by_worker[post.worker.pk].append(index)
    sample_index = set()
    for pk in rng.sample(sorted(by_worker), len(by_worker)):
        if len(sample_index) >= min(args.validate, len(posts)):
            break
        sample_index.update(by_worker[pk])
    bulk = []
    for index, post in enumerate(posts):
        if index not in sample_index:
            bulk.extend(stored_rows(post, plant))
    RawRegistration.objects.bulk_create(bulk, batch_size=2000)
    phase["store (bulk_create)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    built, refused = [], []
    for index in sorted(sample_index):
        post = posts[index]
        try:
            rows = stored_rows(post, plant)  # before: a start's default counts pending starts
        except AssertionError:
            if refused:  # a refused post left the floor elsewhere than the simulation
                sys.exit("registration_accept refused:\n" + "\n".join(refused[:5]))
            raise
        try:
            registration_accept(data=posted_input(post, plant), source="terminal")
        except Exception as exc:  # a refusal: the simulation posted something the floor can't
            refused.append(f"{post.kind} {post.at:%Y-%m-%d %H:%M:%S}: {exc}")
        else:
            built.extend(rows)
    phase[f"store ({len(sample_index)} posts via registration_accept)"] = time.perf_counter() - t0
    stored = RawRegistration.objects.filter(uuid__in=[row.uuid for row in built])
    differences = compare_rows(list(stored), built)
    stored_total = RawRegistration.objects.count()

    version = code_version()
    python_us = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(
        f"PostgreSQL {server}, synchronous_commit={sync_commit}, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}, Python sum(range(1000)) {python_us:.0f} us); "
        f"{total:,} registrations (asked {args.registrations:,}), {n_orders:,} orders of "
        f"{quantity} pcs, {n_workers} workers, 3 operations; code {version}"
    )
    print()
    print("setup (not timed):")
    for label, seconds in phase.items():
        print(f"    {label:<48} {seconds:8.1f} s")
    print()
    print("registrations by kind:")
    for kind, n in kinds.most_common():
        print(f"    {kind:<22} {n:>9,}  {100 * n / total:5.1f} %")
    print(
        f"validation: {len(sample_index)} posts through registration_accept, "
        f"{len(refused)} refused, {len(differences)} field differences from the bulk rows"
    )
    for line in (refused + differences)[:10]:
        print(f"    {line}")
    if stored_total != total:
        print(f"    stored {stored_total:,} rows, expected {total:,}")

    # The in-process sample (on this copy; every timed run starts from the template).
    connections.close_all()
    copy_as_template(url, template)
    lanes_rng = random.Random(args.seed + 2)
    lanes = sample_lanes(posts, args.sample, lanes_rng)
    timer = StatementTimer()
    sample = process_sample(lanes, timer=timer)
    profile_text = None
    if args.profile:
        import cProfile
        import io
        import pstats

        more = sample_lanes(posts, args.sample, lanes_rng, exclude=set(lanes))
        profiler = cProfile.Profile()
        profiler.enable()
        profiled = process_sample(more)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        profile_text = (profiled, stream.getvalue())
    connections.close_all()

    # The timed runs.
    env = dict(os.environ)
    results = {}
    before = after = None
    bare = None
    fingerprints = {}
    for count in counts:
        recreate_database(url, template=template)
        if before is None:
            before = table_states(url)
        load_before = os.getloadavg()[0]
        seconds, children = run_processors(count, env)
        load = (load_before, os.getloadavg()[0])
        problems, fingerprint = verify(plant, expected, kinds)
        connections.close_all()
        results[count] = {
            "seconds": seconds,
            "children": children,
            "problems": problems,
            "load": load,
        }
        fingerprints[count] = fingerprint
        if bare is None:
            after = table_states(url)
            bare = bare_inserts(url, before, after)
        connections.close_all()
    # The batch sweep: the same registrations through one processor at each batch size; the
    # 1-processor run above already was the default batch.
    batch_parameter = inspect.signature(registrations_process).parameters.get("batch")
    default_batch = batch_parameter.default if batch_parameter else None
    sweep = {}
    for batch in batches:
        if batch == default_batch and 1 in counts:
            sweep[batch] = results[1]
            continue
        recreate_database(url, template=template)
        load_before = os.getloadavg()[0]
        seconds, children = run_processors(1, env, batch=batch)
        load = (load_before, os.getloadavg()[0])
        problems, fingerprint = verify(plant, expected, kinds)
        connections.close_all()
        sweep[batch] = {
            "seconds": seconds,
            "children": children,
            "problems": problems,
            "load": load,
        }
        fingerprints[f"batch {batch}"] = fingerprint
    if not args.keep_template:
        drop_database(url, template)

    # --- Report ---
    base = results[counts[0]]["seconds"]
    print()
    print(f"processing {total:,} registrations (wall time, all processors released at once):")
    for count in counts:
        r = results[count]
        per = "; ".join(
            f"{c.get('processed', 0):,} in {c.get('calls', 0)} calls, "
            f"{c.get('idle_polls', 0)} idle polls, cpu {c['cpu_seconds']:.0f} s"
            for c in r["children"]
        )
        print(
            f"    {count} process{'es' if count > 1 else '  '}  {rate(total, r['seconds'], 'reg')}"
            f"  {r['seconds']:8.1f} s  x{base / r['seconds']:4.2f}  "
            f"load {r['load'][0]:.1f}->{r['load'][1]:.1f}  [{per}]"
        )
    written = sum(bare["rows"].values())
    print()
    print(f"rows the processor inserted: {written:,} ({written / total:.1f} per registration)")
    for table, n in sorted(bare["rows"].items(), key=lambda kv: -kv[1]):
        print(f"    {table:<44} {n:>9,}  {n / total:5.2f} per registration")
    print()
    print("bare bulk insert of the same rows, one transaction:")
    for label, seconds in (
        ("COPY, copies without indexes", bare["copy_seconds"]),
        ("INSERT executemany, copies with indexes", bare["insert_seconds"]),
    ):
        print(
            f"    {label:<42} {rate(written, seconds, 'rows')}  "
            f"{rate(total, seconds, 'reg')}  {seconds:7.2f} s"
        )
    print()
    for count in counts:
        seconds = results[count]["seconds"]
        print(
            f"ratio processing ({count} proc) : bare COPY   "
            f"{seconds / bare['copy_seconds']:7.1f} : 1     : bare INSERT  "
            f"{seconds / bare['insert_seconds']:6.1f} : 1"
        )

    for entry in [*results.values(), *sweep.values()]:
        entry["cost"] = cost_figures(entry["children"], total, entry["seconds"])
    bare_cpu = bare["insert_cpu_seconds"] + (bare["insert_backend_cpu_seconds"] or 0)
    print_costs(
        [(f"{c} process{'es' if c > 1 else ''}, batch {default_batch}", results[c]) for c in counts]
        + [(f"1 process, batch {b}", sweep[b]) for b in batches],
        total,
        bare={
            "client": bare["insert_cpu_seconds"] * 1000 / total,
            "backend": (bare["insert_backend_cpu_seconds"] or 0) * 1000 / total,
            "seconds": bare["insert_seconds"] * 1000 / total,
        },
    )

    # Statements per registration.
    n = sample["count"]
    statements = sum(timer.count.values())
    commits = sample["commits"]
    print()
    print(
        f"statements per registration (in-process sample of {n:,} from {len(lanes)} whole lanes,"
        f" {n / sample['seconds']:,.0f} reg/s): {statements / n:.1f} + "
        f"{commits['commits'] / n:.1f} COMMIT"
    )
    weighted_q = weighted_ms = 0.0
    covered = 0
    for kind, entry in sorted(sample["per_kind"].items(), key=lambda kv: -kinds[kv[0]]):
        q = entry["statements"] / entry["count"]
        ms = entry["seconds"] / entry["count"] * 1000
        weighted_q += q * kinds[kind]
        weighted_ms += ms * kinds[kind]
        covered += kinds[kind]
        print(f"    {kind:<22} {entry['count']:>6,} regs  {q:6.1f} statements  {ms:7.2f} ms")
    if covered:
        print(
            f"    {'weighted by the run':<22} {'':>11}  {weighted_q / covered:6.1f} statements  "
            f"{weighted_ms / covered:7.2f} ms"
        )
    per = sample["seconds"] / n * 1e6
    print()
    print(f"where a registration spends its {per:,.0f} us (in-process sample):")
    accounted = 0.0
    for label, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1])[:22]:
        share = seconds / n * 1e6
        accounted += share
        print(f"    {label:<52} {share:7.0f} us  ({timer.count[label] / n:.2f} per reg)")
    rest = sum(timer.seconds.values()) / n * 1e6 - accounted
    accounted += rest
    print(f"    {'(other statements)':<52} {rest:7.0f} us")
    commit_us = commits["commit"] / n * 1e6
    accounted += commit_us
    print(f"    {'COMMIT':<52} {commit_us:7.0f} us")
    print(f"    {'Python (Django, services, flushing)':<52} {per - accounted:7.0f} us")
    if profile_text:
        profiled, text = profile_text
        print()
        print(f"cProfile, {profiled['count']:,} more registrations in-process, top 25 cumulative:")
        print(text)

    print()
    same = all(f == fingerprints[counts[0]] for f in fingerprints.values())
    checked = [(f"{c} process(es)", results[c]) for c in counts] + [
        (f"1 process, batch {b}", sweep[b]) for b in batches if sweep[b] is not results.get(1)
    ]
    for label, entry in checked:
        problems = entry["problems"]
        state = "OK" if not problems else f"{len(problems)} PROBLEM(S)"
        print(f"checks after {label}: {state}")
        for line in problems[:20]:
            print(f"    {line}")
    print(f"same results whatever the process count and batch size: {'yes' if same else 'NO'}")
    if not same:
        for key, fingerprint in fingerprints.items():
            print(f"    {key}: {json.dumps(fingerprint, sort_keys=True)}")
    figures = {
        "bench": "registrations",
        "code": version,
        "registrations": total,
        "orders": n_orders,
        "order_quantity": quantity,
        "workers": n_workers,
        "postgres": server,
        "synchronous_commit": sync_commit,
        "cpus": os.cpu_count(),
        "python_sum_range_1000_us": round(python_us, 1),
        "processing": {
            str(c): {
                "seconds": round(results[c]["seconds"], 2),
                "registrations_per_s": round(total / results[c]["seconds"], 1),
                "ok": not results[c]["problems"],
                "load_average": [round(x, 1) for x in results[c]["load"]],
                "cpu_seconds": [child["cpu_seconds"] for child in results[c]["children"]],
                "batch": default_batch,
                **results[c]["cost"],
            }
            for c in counts
        },
        "batch_sweep": {
            str(b): {
                "seconds": round(sweep[b]["seconds"], 2),
                "registrations_per_s": round(total / sweep[b]["seconds"], 1),
                "ok": not sweep[b]["problems"],
                "load_average": [round(x, 1) for x in sweep[b]["load"]],
                **sweep[b]["cost"],
            }
            for b in batches
        },
        "bare_insert_cpu_s_per_1000": round(bare_cpu * 1000 / total, 3),
        "rows_written": written,
        "bare_copy_seconds": round(bare["copy_seconds"], 3),
        "bare_insert_seconds": round(bare["insert_seconds"], 3),
        "ratio_processing_to_copy": round(base / bare["copy_seconds"], 1),
        "ratio_processing_to_insert": round(base / bare["insert_seconds"], 1),
        "statements_per_registration": round(statements / n, 1),
        "statements_per_registration_weighted": round(weighted_q / covered, 1) if covered else None,
        "in_process_ms_per_registration": round(sample["seconds"] / n * 1000, 2),
        "same_results": same,
    }
    print(json.dumps(figures))
