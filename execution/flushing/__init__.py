"""The flushing engine: which material lines of a production order an event consumes, and how much.

Pure: no database, no models. The registration processor loads the order's material lines
(`MaterialLine`) and their consumption state (`LineState`), calls `flush()` for one shop-floor
event, posts the returned `Consumption`s to the inventory ledger and persists the new states.

Where a line is consumed (docs/flushing.md has the full table):

- ``start``: on START of the line's operation (an order-level START: every start line), for
  the started quantity.
- ``operation_finish``: on OPERATION_FEEDBACK of the line's operation from a resource set to
  consume on operation feedback; or on REPORT_AS_FINISHED from a resource set to consume on
  report as finished ("Feedback RaF"), which covers every operation finish line.
- ``production_finish``: on REPORT_AS_FINISHED of the order, unless the report is made without
  consumption or comes from a resource that never consumes.
- ``available_at_location``: on PUT_AT_INPUT_LOCATION of the component at the line's operation,
  and on RELEASE for what is already there (StagedAtRelease), capped at what the line still
  needs.
- ``manual``: only by MANUAL events (which may also target any other line, as a correction).

No double consumption: every line keeps the output it has already covered (a high-water mark)
and the component quantity consumed automatically. Output-driven events carry the cumulative
output at that point; a line consumes only for output above its mark, and always the
difference between the rounded cumulative requirement and what it has already consumed, so
rounding never drifts.

The package: `quantities` (the exact Decimal arithmetic and the checks every value passes),
`lines` (the order and its material lines, their state, which operation a line belongs to
and what an output requires of it), `events` (what happened on the floor) and `engine`
(`flush` and what it returns). Callers import from here.
"""

from .engine import Consumption, FlushResult, flush
from .events import (
    EventKind,
    FlushingEvent,
    ManualConsumption,
    OperationFeedback,
    PutAtInputLocation,
    Release,
    ReportAsFinished,
    StagedAtRelease,
    Start,
)
from .lines import LineState, MaterialLine, OrderContext, line_operation, required_quantity
from .quantities import ComponentId, FlushingError, LineId

__all__ = [
    "ComponentId",
    "Consumption",
    "EventKind",
    "FlushResult",
    "FlushingError",
    "FlushingEvent",
    "LineId",
    "LineState",
    "ManualConsumption",
    "MaterialLine",
    "OperationFeedback",
    "OrderContext",
    "PutAtInputLocation",
    "Release",
    "ReportAsFinished",
    "StagedAtRelease",
    "Start",
    "flush",
    "line_operation",
    "required_quantity",
]
