"""Every bench in bench/, one after the other, on PostgreSQL and Redis, and one table of what
they measured: each figure, its baseline measured in the same run, the ratio (how many times
slower than the baseline we are) and the SQL statements per unit of work.

    .venv/bin/python bench/run_all.py            # the default sizes: about 15-25 minutes
    .venv/bin/python bench/run_all.py --quick    # small sizes: about 3 minutes (BENCH_QUICK=1)
    .venv/bin/python bench/run_all.py --only reconciliation,list_pages
    .venv/bin/python bench/run_all.py --show     # the table of bench/results/latest.json

``make bench`` runs it (``make bench BENCH_QUICK=1`` the quick one). Each bench runs as a
subprocess (its own database, named mes_bench_*, dropped and created again; Redis db 7, where
no worker listens); its output goes to bench/results/logs/<timestamp>/<bench>.log and the
JSON line it prints last is parsed. The table is printed and written to
bench/results/bench-<timestamp>.json and bench/results/latest.json, the ratios drawn as a
horizontal bar chart in bench/results/latest.png (a run with --only replaces its benches'
rows in latest.json and keeps the others', each with the timestamp of its run). A bench that
fails (exit code, no JSON line, or its own checks not OK) is reported with the tail of its
log; the others are still printed, and the runner exits 1.

The modules: main (the command line), benches (what runs, at which sizes, on which
database), running (one bench as a subprocess), figures (the rows each bench's figures
make), table (the table, the chart, latest.json).
"""
