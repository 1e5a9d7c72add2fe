"""Soak: the whole stack under ERP, terminal and supervisor load, with faults on a schedule,
then the invariants that must hold once the system has drained.

    .venv/bin/python bench/soak.py [--seconds 600] [--ci]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_soak]
    make soak                      # 10 minutes
    SOAK_SECONDS=90 make soak      # or SOAK_ARGS=--ci: 75 s, the same faults compressed

The stack, every process in its own process group, all on loopback and free ports:
PostgreSQL database --database-url (its name must start with mes_bench; dropped, created,
migrated, seeded: setup_roles, seed_demo, plus a soak plant of 10 resources with 50 workers,
5 products of two operations each and their stock), a private redis-server (broker and
cache), the ERP simulator (integration/demo/erp_simulator.py, the outbox's endpoint), gunicorn
(mesproject.wsgi), two Celery workers and one beat. MES_OUTBOX_RETRY_SECONDS is short, so
dead-lettered messages are retried within the run.

Load (bounded in count and time), over HTTP only:

- the ERP creates work orders (POST /api/v1/work-orders/), updates some while Created,
  cancels a few, PATCHes some after release, closes (short_close) what the floor finished;
  ~10 % of its writes are replayed later with the same Idempotency-Key and body and must get
  the first answer back (Idempotent-Replayed: true);
- the planner signs in (session) and releases each order on its page (the transition POST);
- 50 workers on 10 resources post registrations from their resource's terminal: clock in,
  start a job, progress with good and scrap, complete it, report as finished after the last
  operation, a break now and then, clock out at the end; each worker in a valid sequence
  (a refusal is a failure). The job ids a terminal shows are read from the database;
- two supervisors sign in and read pages and the registrations list;
- an adversarial terminal (adversary.py) posts over-reports, backdated,
  duplicated, foreign-site and malformed registrations, each certain to be refused, and
  counts the answers by status and code.

Faults, at fractions of the run: SIGKILL of a Celery worker (a replacement is started),
a restart of the private Redis, the ERP simulator down (120 s in a 10-minute run, scaled
down), the simulator rejecting one message (/control/mode reject, count 1), a gunicorn
restart. Then the load stops, the workers clock out, and the system drains (bounded wait).

Checked, exit status 1 when any fails: every registration processed exactly once (none new
or failed, one processing-log entry each); every outbox message delivered, exactly once
and in sequence per work order in the simulator's record; the dead-letter queue empty, or
holding only the rejected message and those held behind it; manage.py verify_inventory;
each soak order's quantities equal to the sum of its journals and to what the terminals
reported; replays answered as replays; no HTTP 5xx outside the gunicorn restart window;
no terminal registration refused; p99 latency of terminal posts under --max-p99-ms; the
adversary got no 5xx, every impossible post of it was refused and none stored; every job and
order within the shop-floor limits (good + scrap <= started, started <= the previous
operation's good output, completed <= quantity x (1 + tolerance)).

The modules: main (the command line and the run), stack (the processes), client (HTTP and
what it answered), plant (the soak plant, seeded and as the drivers see it), scenario (the
load and the faults; erp.py and floor.py drive the ERP, the planner, the terminals and the
supervisors), adversary (the adversarial terminal: probes, attacks, adversary_checks),
invariants and answers (the checks), report.
"""
