"""The nightly ERP-vs-MES WIP reconciliation, and the ERP snapshot it compares against.

The ERP's books are the financial record: a variance beyond the threshold is booked into the
MES ledger (one adjustment journal per run, flagged for audit so someone looks for the
physical cause). The run's row is committed first (so it shows as running, and a crash has
a row to mark failed); its results, variances, journal and notifications are then written in
one transaction that first locks the snapshot, so a second run of the same night computes
after the first has committed, finds MES = ERP and writes nothing.

The package, along its seams: snapshot.py (the ERP's snapshot in), compare.py (the figures and
the pairs that differ), booking.py (the adjustment journal), runs.py (a run from start to
summary).
"""

from integration.reconciliation.services.runs import NO_SNAPSHOT, reconciliation_run, run_summary
from integration.reconciliation.services.snapshot import erp_wip_snapshot_receive

__all__ = ["NO_SNAPSHOT", "erp_wip_snapshot_receive", "reconciliation_run", "run_summary"]
