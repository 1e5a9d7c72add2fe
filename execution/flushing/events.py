"""The shop-floor events the engine is called with, each checked on construction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from orders.choices import ConsumptionSetting

from .quantities import ZERO, ComponentId, FlushingError, LineId, _decimal, _non_negative, _set


class EventKind(StrEnum):
    RELEASE = "release"
    START = "start"
    OPERATION_FEEDBACK = "operation_feedback"
    REPORT_AS_FINISHED = "report_as_finished"
    MANUAL = "manual"
    PUT_AT_INPUT_LOCATION = "put_at_input_location"


@dataclass(frozen=True, kw_only=True)
class Release:
    """Order release as such consumes nothing (what is already staged at an input location is
    offered to the lines as a `StagedAtRelease`)."""

    kind: ClassVar[EventKind] = EventKind.RELEASE


@dataclass(frozen=True, kw_only=True)
class Start:
    """Job start of one operation, or an order-level start (operation_number None: all)."""

    kind: ClassVar[EventKind] = EventKind.START
    started: Decimal
    # Started quantity at this operation (or of the order) including this start.
    cumulative_started: Decimal
    operation_number: int | None = None

    def __post_init__(self) -> None:
        _non_negative(self, "started", "cumulative_started")
        if self.cumulative_started < self.started:
            raise FlushingError(
                "cumulative_started cannot be less than started.", code="invalid_event"
            )


@dataclass(frozen=True, kw_only=True)
class OperationFeedback:
    """Good and scrap reported at one operation, on a resource with its consumption setting."""

    kind: ClassVar[EventKind] = EventKind.OPERATION_FEEDBACK
    operation_number: int
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    # Good + scrap reported at this operation so far, this report included.
    cumulative_output: Decimal
    consumption_setting: str = ConsumptionSetting.ON_OPERATION_FEEDBACK

    def __post_init__(self) -> None:
        _non_negative(self, "good", "scrap", "cumulative_output")
        _check_cumulative(self.good + self.scrap, self.cumulative_output)
        _check_setting(self.consumption_setting, allow_none=False)

    @property
    def output(self) -> Decimal:
        return self.good + self.scrap


@dataclass(frozen=True, kw_only=True)
class ReportAsFinished:
    """Finished output of the order, from a resource or from a non-operation device.

    consumption_setting: the reporting resource's setting; None for a device that is no
        resource of the route (a mobile scanner, a packaging robot's sensor).
    consume: False for "report as finished without consumption" (order or terminal option).
    """

    kind: ClassVar[EventKind] = EventKind.REPORT_AS_FINISHED
    good: Decimal = ZERO
    scrap: Decimal = ZERO
    # Good + scrap reported as finished for the order so far, this report included.
    cumulative_output: Decimal
    consumption_setting: str | None = None
    consume: bool = True

    def __post_init__(self) -> None:
        _non_negative(self, "good", "scrap", "cumulative_output")
        _check_cumulative(self.good + self.scrap, self.cumulative_output)
        _check_setting(self.consumption_setting, allow_none=True)

    @property
    def output(self) -> Decimal:
        return self.good + self.scrap


@dataclass(frozen=True, kw_only=True)
class ManualConsumption:
    """An explicit consumption of one line; a negative quantity returns to stock."""

    kind: ClassVar[EventKind] = EventKind.MANUAL
    line_id: LineId
    quantity: Decimal

    def __post_init__(self) -> None:
        _set(self, "quantity", _decimal(self.quantity, "quantity"))


@dataclass(frozen=True, kw_only=True)
class PutAtInputLocation:
    """A quantity of a component put at the input location of the resource of an operation.

    reported_output: the order's output reported so far, when it already exceeds the order
        quantity (over-production raises what location lines may take).
    """

    kind: ClassVar[EventKind] = EventKind.PUT_AT_INPUT_LOCATION
    component: ComponentId
    operation_number: int
    quantity: Decimal
    reported_output: Decimal = ZERO

    def __post_init__(self) -> None:
        _non_negative(self, "quantity", "reported_output")


@dataclass(frozen=True, kw_only=True)
class StagedAtRelease(PutAtInputLocation):
    """What already lies at the input location of an operation's resource when the order is
    released: consumed like a put there, recorded as consumed on release."""

    kind: ClassVar[EventKind] = EventKind.RELEASE


FlushingEvent = (
    Release | Start | OperationFeedback | ReportAsFinished | ManualConsumption | PutAtInputLocation
)


def _check_cumulative(quantity: Decimal, cumulative: Decimal) -> None:
    if cumulative < quantity:
        raise FlushingError(
            "cumulative_output cannot be less than this report's good + scrap.",
            code="invalid_event",
        )


def _check_setting(setting: str | None, *, allow_none: bool) -> None:
    if setting is None and allow_none:
        return
    if setting not in ConsumptionSetting.values:
        raise FlushingError(f"Unknown consumption setting {setting!r}.", code="invalid_event")
