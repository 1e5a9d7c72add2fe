"""The nightly WIP reconciliation (integration.reconciliation.services.reconciliation_run) of
--pairs order/component pairs, against one aggregate SQL query computing the same comparison.

    .venv/bin/python bench/reconciliation.py [--pairs 100000] [--components 10]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_recon]
        [--redis-url redis://127.0.0.1:6379/7]
    quick: .venv/bin/python bench/reconciliation.py --pairs 10000

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it and seeds, untimed, with bulk inserts (psycopg COPY for the big tables):

- one site, one input location, --components component items (not lot-tracked) and a
  product; (pairs - pairs/1000) / components orders of the product, 98 % of them active
  (released, in progress, completed) and 2 % closed, which the ERP still lists; and a fifth
  as many closed or canceled orders from before, with ledger rows the ERP does not list (the
  run must leave them out);
- the ledger: each pair one issue, a fifth of them a second one and one in twenty a return;
  each component received first (through inventory_receive) and its on-hand row lowered by
  what the bulk issues took, so on-hand still equals the sum of the ledger;
- waiting consumption the ERP cannot know yet: open material-issue batches (one pair in a
  hundred) and pending or dead-lettered material-issue outbox messages (another one in a
  hundred), plus delivered ones that must not count;
- the ERP snapshot (ErpWipSnapshot + ErpWipLine rows): per pair the MES figure (ledger minus
  waiting), except one pair in a hundred where the ERP books 5 more, one in two hundred 3
  less, one in a hundred a difference inside the threshold (0.2), one in a thousand missing
  from the snapshot, and pairs/1000 lines of orders or parts the MES does not know.

Timed, side by side on the same data (a warm-up of the baseline first, so both read from a
warm cache): the baseline, best of three (a single SELECT with CTEs: the snapshot's lines
FULL JOIN the ledger's sums per order reference and part of active or listed orders, minus
the open batches and messages, with the run's two thresholds; it answers the number of pairs
and the flagged ones in one row); then reconciliation_run itself, once, the way the nightly
task calls it (fetch, compare in Python, book the adjustment journal, write the variances
and the notifications), with its statements counted by an execute_wrapper and the moment
its compare phase ends taken from its on_progress callback.

Checked: the run compared as many pairs as the baseline and flagged exactly the same pairs
with the same ERP, MES and variance figures (percentages to 0.0001); its journal is posted;
a second run (a side figure) flags exactly the variances the first could not book; on-hand
still equals the ledger (inventory_verify). Prints a JSON line with the figures last.

The modules: main (the command line and the run), seeding (the plant, the ledger, the ERP's
snapshot), sides (the baseline SQL, reconciliation_run timed, their answers compared).
"""
