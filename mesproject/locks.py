"""One row lock, taken the same way by every app (the product's lock order: docs/execution.md)."""

from django.db.models import Model, QuerySet


def lock_row(rows: type[Model] | QuerySet, pk: int, *, of: tuple[str, ...] = ()) -> Model:
    """Row `pk` of a model, or of a queryset that selects related rows with it, locked until
    the end of the transaction (a no-op lock on SQLite).

    FOR NO KEY UPDATE: rows that point at the locked one (a registration, a journal line) may
    still be committed meanwhile; their foreign-key check at COMMIT takes FOR KEY SHARE, which
    FOR UPDATE would block (tests/execution/test_row_locks.py). of=("self",): of a query that
    joins other tables, only this row is locked."""
    if isinstance(rows, type):
        rows = rows._default_manager.all()
    return rows.select_for_update(no_key=True, of=of).get(pk=pk)


def lock_rows(rows: type[Model] | QuerySet, ids) -> None:
    """Rows `ids` locked as lock_row locks one, in one query, in id order: two transactions
    locking overlapping sets queue instead of deadlocking."""
    ids = sorted(set(ids))
    if isinstance(rows, type):
        rows = rows._default_manager.all()
    if ids:
        locked = rows.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
        list(locked.values_list("pk", flat=True))
