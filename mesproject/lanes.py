"""The lane queue: one definition for every queue of work the product processes in order
(raw registrations, the hub's packages on a scale unit, the outbox to the ERP).

Rows wait in lanes (an order, a worker, a stream). Within a lane they are taken strictly in
sequence: a row is the head of its lane while no earlier row of the lane is still open
(waiting, or failed). A failed row holds its lane, and only its lane, until someone
processes it again or cancels it (docs/execution.md, "The lane queue").

Each row is worked in its own transaction, which also moves its status, so a worker killed
midway leaves every row either done or still waiting (exactly once). Two workers at once: on
PostgreSQL a transaction-scoped advisory lock per lane keeps a lane to one worker at a time,
and the row is claimed with SELECT ... FOR UPDATE SKIP LOCKED; on SQLite every write
transaction is exclusive anyway. The "still waiting, and the head of its lane" check runs
inside that transaction.

The model's status is a django-fsm field; its transitions are the model's own. What the work
is, and what a failure means beyond holding the lane (retries, a dead-letter queue), stays
with the queue's owner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django_fsm import TransitionNotAllowed, can_proceed

from .errors import ApplicationError

logger = logging.getLogger(__name__)

# What a worked row may fail with (its savepoint rolled back, the row marked failed).
FAILURES = (ApplicationError, IntegrityError, ValueError, LookupError)


@dataclass(frozen=True)
class LaneQueue:
    """The queue over one model. lane: the field naming a row's lane; sequence: the fields
    ordering a lane; waiting: statuses that may be claimed; holding: statuses of a failure
    that holds its lane."""

    model: type[Model]
    lane: str
    sequence: tuple[str, ...]
    waiting: tuple[str, ...]
    holding: tuple[str, ...]
    status: str = "status"
    # Rows whose lane is this value are in no lane: nothing holds them, they hold nothing.
    no_lane: str | None = None

    @property
    def open(self) -> tuple[str, ...]:
        return (*self.waiting, *self.holding)

    @property
    def rows(self) -> QuerySet:
        return self.model._default_manager.all()

    # --- Reading the lanes ----------------------------------------------------------------

    def _before(self, row) -> Q:
        """Rows before `row` in sequence order (a row, or OuterRef in a subquery)."""
        value = (lambda name: OuterRef(name)) if row is None else (lambda n: getattr(row, n))
        before = Q()
        for i, name in enumerate(self.sequence):
            step = Q(**{f"{name}__lt": value(name)})
            for earlier in self.sequence[:i]:
                step &= Q(**{earlier: value(earlier)})
            before |= step
        return before

    def earlier(self, row=None) -> QuerySet:
        """The open rows of `row`'s lane before it: while there is one, `row` waits. Without a
        row, the subquery for OuterRef (see heads)."""
        lane = OuterRef(self.lane) if row is None else getattr(row, self.lane)
        return self.rows.filter(**{self.lane: lane, f"{self.status}__in": self.open}).filter(
            self._before(row)
        )

    def held_lanes(self) -> QuerySet:
        """The lanes a failure holds (a values queryset, usable as a subquery)."""
        held = self.rows.filter(**{f"{self.status}__in": self.holding})
        if self.no_lane is not None:
            held = held.exclude(**{self.lane: self.no_lane})
        return held.values(self.lane)

    def pending(self, limit: int | None = None, **where) -> list[tuple[int, str]]:
        """(id, lane) of the waiting rows of lanes no failure holds, in sequence order
        across lanes too. A lane may appear more than once: claim takes its rows in turn."""
        rows = (
            self.rows.filter(**{f"{self.status}__in": self.waiting}, **where)
            .exclude(**{f"{self.lane}__in": self.held_lanes()})
            .order_by(*self.sequence)
            .values_list("pk", self.lane)
        )
        return list(rows if limit is None else rows[:limit])

    def heads(self, limit: int, order_by: Iterable[str], statuses=None, **where) -> list[int]:
        """Ids of the claimable rows (`statuses`, the waiting ones by default) that are the
        first open row of their lane."""
        return list(
            self.rows.filter(**{f"{self.status}__in": statuses or self.waiting}, **where)
            .exclude(Exists(self.earlier()))
            .order_by(*order_by)
            .values_list("pk", flat=True)[:limit]
        )

    # --- Claiming and working a row --------------------------------------------------------

    def lock_lane(self, lane: str) -> bool:
        """The lane, for this transaction; False when another worker has it."""
        if connection.vendor != "postgresql" or lane == self.no_lane:
            return True  # SQLite: write transactions are exclusive already
        key = f"{self.model._meta.label_lower}:{lane}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [key])
            return cursor.fetchone()[0]

    def claim(self, pk: int, *, lane: str | None = None, statuses=None, **where):
        """Inside the caller's transaction: the row, locked, if it is still claimable
        (`statuses`, the waiting ones by default) and the head of its lane; else None (its
        lane busy with another worker, an earlier row open, already done)."""
        if lane is None:
            lane = self.rows.filter(pk=pk).values_list(self.lane, flat=True).first()
        if lane is None or not self.lock_lane(lane):
            return None
        row = (
            self.rows.select_for_update(skip_locked=True)
            .filter(pk=pk, **{f"{self.status}__in": statuses or self.waiting}, **where)
            .first()
        )
        if row is None or (lane != self.no_lane and self.earlier(row).exists()):
            return None
        return row

    def lock(self, row):
        """The row, locked (a supervisor's process again or cancel)."""
        return self.rows.select_for_update().get(pk=row.pk)


def attempt(
    work: Callable[[], object], *, failures=FAILURES, unexpected: str = ""
) -> tuple[object, Exception | None]:
    """Run `work` in a savepoint: (its result, None), or (None, the failure) with everything
    it wrote rolled back. A database in trouble is raised (the row stays waiting, to retry);
    with `unexpected` (the row's name), any other error is a failure too, logged with its
    trace, so that a bug holds one lane instead of stopping the queue."""
    try:
        with transaction.atomic():
            return work(), None
    except failures as exc:
        return None, exc
    except DatabaseError:
        raise
    except Exception as exc:
        if not unexpected:
            raise
        logger.exception("%s failed unexpectedly", unexpected)
        return None, exc


def failure_text(exc: Exception) -> tuple[str, str]:
    """(message, code) of a failure, as kept on the failed row."""
    if isinstance(exc, ApplicationError):
        return exc.message, exc.code
    return f"{type(exc).__name__}: {exc}", "processing_error"


def move(row, transition: str, refuse: Callable[[], Exception], *args, **kwargs) -> None:
    """Run the row's django-fsm `transition`; a status it does not start from answers
    refuse() (the caller's coded error) instead of TransitionNotAllowed."""
    method = getattr(row, transition)
    if not can_proceed(method):
        raise refuse()
    try:
        method(*args, **kwargs)
    except TransitionNotAllowed as exc:  # a condition said no
        raise refuse() from exc
