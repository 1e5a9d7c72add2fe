"""POST /api/v1/work-orders/ through gunicorn, against a bare authenticated insert in the same
gunicorn, side by side.

    .venv/bin/python bench/work_orders_http.py [--requests 2000] [--concurrency 8]
        [--workers 2] [--rounds 2] [--conn-max-age 0]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_api]
        [--redis-url redis://127.0.0.1:6379/7]

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it, seeds the demo plant (manage.py seed_demo: parts, approved BOMs and routings)
and the roles (setup_roles), and makes an erp-integration user with a DRF token. Untimed,
in-process (Django test client, CaptureQueriesContext): the SQL statements one request of
each kind runs.

Then it starts ``gunicorn mesproject.wsgi --workers N`` on a free port with the bench
settings (bench/bench_settings.py: the product's settings, ROOT_URLCONF = bench_urls, which
adds the bare-insert endpoints; see bench/bench_urls.py) and drives, with C threads
(http.client, keep-alive when the server keeps the connection; gunicorn's sync workers close
it after each answer), each of:

- ``bare insert``: POST /bench/insert/ (token auth, HasPerms, one INSERT; no idempotency);
- ``bare insert + key``: POST /api/v1/bench/insert/ with an Idempotency-Key (the same view
  through the idempotency middleware, as every API write);
- ``work-order create``: POST /api/v1/work-orders/ with an Idempotency-Key; 10 % of the
  requests replay the key (and body) of an earlier create that was already answered, and
  must get the stored 201 back with ``Idempotent-Replayed: true``.

--requests of each, split into --rounds rounds; the order of the three alternates between
rounds (ABC, CBA, ...) so that drift in the machine's load is shared. Reported: req/s, p50
and p99 latency (client side, connection included), status counts, replays answered as
replays, and the ratios. Checked: the database holds exactly one order per distinct key that
was answered 201, and one row per bare insert.

The modules: main (the command line and the run), seeding (the database, the token,
statements per request), server (gunicorn), load (the threads and their outcomes).
"""
