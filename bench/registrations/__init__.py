"""Shop-floor registrations through the processor vs a bare bulk INSERT of the rows it writes.

    .venv/bin/python bench/registrations.py [--registrations 100000] [--orders 1000]
        [--workers 1,2] [--batches 1,10,100,500]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_reg]
    quick (a few minutes on 2 busy cores; migrate alone takes 30 s there):
    .venv/bin/python bench/registrations.py --registrations 2000 --orders 20

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it and, untimed:

1. builds a plant (3 resources with input locations, terminals, a lot-tracked product with a
   BOM of start / operation finish / production finish / manual lines, one of them lot-tracked,
   a 3-operation route, workers), stocks the input locations, creates and releases --orders
   orders through orders.services (release reserves materials and creates the jobs);
2. simulates the workers' shifts (absence now and then, clock in, indirect time, start job or a
   bundle of two, progress with good and scrap, scrap reports, stops for the break and at the
   end of the shift, report as finished in batches, manual consumption, clock out) until about
   --registrations registrations exist, and stores them: the posts of a random sample of workers
   (about --validate posts; whole workers, as the door judges a post against the same worker's
   later ones) go through execution.services.registrations.registration_accept (validated, in
   event-time order, after the rest); the rest is bulk_created as the RawRegistration rows
   registration_accept writes (built by its own _rows_for, with what registration_check fills
   in); the sample's stored
   rows are compared field by field with the rows the bench would have built;
3. copies the database as a template (CREATE DATABASE ... TEMPLATE): every timed run starts
   from an identical copy.

Timed, for each --workers K: the database is recreated from the template, K processes are
started (bench/registrations.py with --child: django.setup, connect, then wait), and at the
same instant all of them run registrations_process() until nothing is left (a processor that
finds only lanes busy in the other one polls again, as beat would run it again). Wall time
until the last one is done. Then every registration is checked to be processed exactly once
(status counts, one processing-log entry, one logbook entry, one route-card line per job
feedback, one job activity per start, one report-as-finished line per report, ledger rows =
journal lines) and every order's quantities and consumption against what the simulation
reported.

Then the batch sweep: for each --batches B, the database recreated from the template again and
one processor runs registrations_process(batch=B) until nothing is left, checked the same way
(the 1-process run above already was the default batch, 500, and stands for it).

What each run costs (cost.py): every processor reports its own CPU seconds (utime+stime, the
processing loop only) and its PostgreSQL backend's (pg_backend_pid() on its connection, then
/proc/<pid>/stat before and after: PostgreSQL runs on this machine), and counts the
statements (execute_wrapper) and COMMITs registrations_process sends. Printed per 1,000
registrations with the cores the run kept busy (CPU seconds per wall second) and the rate it
would reach if CPU were all it waited on, every core its own; the bare INSERT's client and
backend CPU is measured the same way. PostgreSQL's own helpers (WAL writer, checkpointer,
autovacuum) are not counted.

In the same run: the rows the processor inserted (every table that grew, history tables
included) are read back and inserted bare into scratch copies of their tables, one
transaction: psycopg COPY into copies without indexes (LIKE ... INCLUDING DEFAULTS), and
psycopg executemany (pipeline) INSERT into copies with their indexes and checks (LIKE ...
INCLUDING ALL). Ratio processing time : bare insert time, measured side by side.

Finally the statements per registration and where the time goes, per kind, on a sample of
whole lanes processed in-process (execute_wrapper; --profile adds cProfile on another
sample), and a JSON line with the figures.

The modules: main (the command line and the run), config, databases (drop, create, copy,
table states), plant, shifts (the simulated floor), stored (the rows registration_accept
stores), processes (the timed processors), cost (CPU from /proc, statements counted, the cost
table), checks, bare (the bare inserts), sample (the in-process sample and its statement
timer).
"""
