"""The flushing engine (execution.flushing): pure, no database.

1. The flushing matrix: every principle x every event x resource consumption setting x
   report-as-finished consume flag, with the exact quantity of every line.
2. Scrap, over-production, input-location caps, manual corrections, refused input.
3. Rounding never drifts (Hypothesis).
4. The three scenarios of the source document, at the engine level.
"""

from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution.flushing import (
    Consumption,
    EventKind,
    FlushingError,
    FlushResult,
    LineState,
    ManualConsumption,
    MaterialLine,
    OperationFeedback,
    OrderContext,
    PutAtInputLocation,
    Release,
    ReportAsFinished,
    StagedAtRelease,
    Start,
    flush,
    line_operation,
    required_quantity,
)
from inventory.choices import FlushingPrinciple
from orders.choices import BomLinePrinciple, ConsumptionSetting

D = Decimal
P = FlushingPrinciple
CS = ConsumptionSetting
K = EventKind

MANUAL, START, OP_FIN, PROD_FIN, AT_LOC = (
    P.MANUAL,
    P.START,
    P.OPERATION_FINISH,
    P.PRODUCTION_FINISH,
    P.AVAILABLE_AT_LOCATION,
)
ALL_PRINCIPLES = (MANUAL, START, OP_FIN, PROD_FIN, AT_LOC)


# --- a tiny processor: what the real one does around the engine ---------------------------


class Order:
    """Keeps the line states and the cumulative quantities, as the processor would."""

    def __init__(self, lines, *, quantity, operations=(10, 20)):
        self.context = OrderContext(order_quantity=D(quantity), operation_numbers=operations)
        self.lines = list(lines)
        self.states: dict = {}
        self.posted: list[Consumption] = []
        self.op_output: dict = {}
        self.finished = D(0)
        self.started: dict = {}
        self.last_event = None

    def apply(self, event) -> FlushResult:
        result = flush(order=self.context, lines=self.lines, states=self.states, event=event)
        self.last_event = event
        self.states = dict(result.states)
        self.posted.extend(result.consumptions)
        return result

    def feedback(self, op, good, scrap=0, setting=CS.ON_OPERATION_FEEDBACK) -> FlushResult:
        self.op_output[op] = self.op_output.get(op, D(0)) + good + scrap
        return self.apply(
            OperationFeedback(
                operation_number=op,
                good=D(good),
                scrap=D(scrap),
                cumulative_output=self.op_output[op],
                consumption_setting=setting,
            )
        )

    def finish(self, good, scrap=0, setting=None, consume=True) -> FlushResult:
        self.finished += good + scrap
        return self.apply(
            ReportAsFinished(
                good=D(good),
                scrap=D(scrap),
                cumulative_output=self.finished,
                consumption_setting=setting,
                consume=consume,
            )
        )

    def start(self, op, started) -> FlushResult:
        self.started[op] = self.started.get(op, D(0)) + started
        return self.apply(
            Start(operation_number=op, started=D(started), cumulative_started=self.started[op])
        )

    def total(self, line_id) -> Decimal:
        return sum((c.quantity for c in self.posted if c.line_id == line_id), D(0))


def line(line_id, principle, *, qty="2", allowance="5", op=10, places=1, component=None):
    """A line with an explicit principle, or ("none", default) for the item-default fallback."""
    if isinstance(principle, tuple):
        own, default = principle
    else:
        own, default = principle, P.MANUAL
    return MaterialLine(
        line_id=line_id,
        component=component or f"C-{line_id}",
        quantity_per=D(qty),
        scrap_allowance_pct=D(allowance),
        flushing_principle=own,
        item_default_principle=default,
        operation_number=op,
        decimal_places=places,
    )


def by_line(result: FlushResult) -> dict:
    return {c.line_id: (c.event, c.quantity) for c in result.consumptions}


# --- 1. the flushing matrix -----------------------------------------------------------------
#
# One order of 10, route 10 -> 20. Every principle twice: set on the line (at operation 10;
# production finish without operation) and as "none" falling back to the item default, without
# an operation number (= the first operation, 10). Ratio 2 x (1 + 5%) = 2.1 per unit, unit with
# one decimal. Output events report good 8 + scrap 2 = 10 -> 21.0 per consumed line.

MATRIX_LINES = [line(p.value, p, op=None if p == PROD_FIN else 10) for p in ALL_PRINCIPLES] + [
    line(f"none->{p.value}", (BomLinePrinciple.NONE, p), op=None) for p in ALL_PRINCIPLES
]
FULL = D("21.0")


def matrix_order() -> Order:
    return Order(MATRIX_LINES, quantity=10)


def fb(op, setting):
    return OperationFeedback(
        operation_number=op,
        good=D(8),
        scrap=D(2),
        cumulative_output=D(10),
        consumption_setting=setting,
    )


def raf(setting, consume):
    return ReportAsFinished(
        good=D(8), scrap=D(2), cumulative_output=D(10), consumption_setting=setting, consume=consume
    )


# case id -> (event, principles whose lines are consumed, and by which event kind)
MATRIX = {
    "release": (Release(), set()),
    "start op 10": (Start(operation_number=10, started=D(10), cumulative_started=D(10)), {START}),
    "start op 20": (Start(operation_number=20, started=D(10), cumulative_started=D(10)), set()),
    "start order (all operations)": (Start(started=D(10), cumulative_started=D(10)), {START}),
    "feedback op 10 @ on-operation-feedback": (fb(10, CS.ON_OPERATION_FEEDBACK), {OP_FIN}),
    "feedback op 10 @ on-report-as-finished": (fb(10, CS.ON_REPORT_AS_FINISHED), set()),
    "feedback op 10 @ never": (fb(10, CS.NEVER), set()),
    "feedback op 20 @ on-operation-feedback": (fb(20, CS.ON_OPERATION_FEEDBACK), set()),
    "feedback op 20 @ on-report-as-finished": (fb(20, CS.ON_REPORT_AS_FINISHED), set()),
    "feedback op 20 @ never": (fb(20, CS.NEVER), set()),
    "raf @ on-operation-feedback, consume": (raf(CS.ON_OPERATION_FEEDBACK, True), {PROD_FIN}),
    "raf @ on-operation-feedback, no consume": (raf(CS.ON_OPERATION_FEEDBACK, False), set()),
    "raf @ on-report-as-finished, consume": (
        raf(CS.ON_REPORT_AS_FINISHED, True),
        {OP_FIN, PROD_FIN},
    ),
    "raf @ on-report-as-finished, no consume": (raf(CS.ON_REPORT_AS_FINISHED, False), set()),
    "raf @ never, consume": (raf(CS.NEVER, True), set()),
    "raf @ never, no consume": (raf(CS.NEVER, False), set()),
    "raf @ no resource (scanner/robot), consume": (raf(None, True), {PROD_FIN}),
    "raf @ no resource (scanner/robot), no consume": (raf(None, False), set()),
}


@pytest.mark.parametrize("case", list(MATRIX))
def test_matrix_output_events(case):
    event, consumed_principles = MATRIX[case]
    order = matrix_order()
    result = order.apply(event)

    expected = {
        ln.line_id: (event.kind, FULL) for ln in MATRIX_LINES if ln.principle in consumed_principles
    }
    assert by_line(result) == expected
    assert result.not_consumed is None
    for c in result.consumptions:
        assert (c.covered_from, c.covered_to) == (D(0), D(10))
        assert c.principle in consumed_principles
    assert result.changed_line_ids == set(expected)
    for ln in MATRIX_LINES:
        state = result.states[ln.line_id]
        if ln.line_id in expected:
            assert state == LineState(covered_output=D(10), consumed=FULL)
        else:
            assert state == LineState()

    # The same output again (a second terminal, a replay): nothing more, ever.
    again = order.apply(event)
    assert again.consumptions == ()
    assert dict(again.states) == dict(result.states)


@pytest.mark.parametrize("target", [ln.line_id for ln in MATRIX_LINES])
@pytest.mark.parametrize("op", [10, 20])
def test_matrix_put_at_input_location(target, op):
    """Only an available-at-location line takes what is put, at its own operation, up to 21.0."""
    order = matrix_order()
    target_line = next(ln for ln in MATRIX_LINES if ln.line_id == target)
    result = order.apply(
        PutAtInputLocation(component=target_line.component, operation_number=op, quantity=D(25))
    )
    if target_line.principle == AT_LOC and op == 10:
        assert by_line(result) == {target: (K.PUT_AT_INPUT_LOCATION, FULL)}
        assert result.not_consumed == D(4)
        assert result.states[target] == LineState(covered_output=D(10), consumed=FULL)
    else:
        assert by_line(result) == {}
        assert result.not_consumed == D(25)


@pytest.mark.parametrize("target", [ln.line_id for ln in MATRIX_LINES])
def test_matrix_manual(target):
    """A manual event consumes the line it names, whatever its principle, as MANUAL."""
    order = matrix_order()
    result = order.apply(ManualConsumption(line_id=target, quantity=D("5.5")))
    assert by_line(result) == {target: (K.MANUAL, D("5.5"))}
    (consumption,) = result.consumptions
    assert (consumption.covered_from, consumption.covered_to) == (None, None)
    # Recorded as manual: the automatic coverage does not move.
    assert result.states[target] == LineState(manual_consumed=D("5.5"))


def test_matrix_manual_lines_only_ever_consume_manually():
    """Every automatic event, in turn, on the same order: the manual lines stay untouched."""
    order = matrix_order()
    for event, _ in MATRIX.values():
        order.apply(event)
    for ln in MATRIX_LINES:
        order.apply(
            PutAtInputLocation(component=ln.component, operation_number=10, quantity=D(100))
        )
    for ln in MATRIX_LINES:
        expected = D(0) if ln.principle == MANUAL else FULL
        assert order.total(ln.line_id) == expected, ln.line_id


def test_none_resolves_to_item_default_and_first_operation():
    ctx = OrderContext(order_quantity=D(1), operation_numbers=(30, 10, 20))
    fallback = line("x", (BomLinePrinciple.NONE, P.START), op=None)
    assert fallback.principle == P.START
    assert line_operation(fallback, ctx) == 30  # route order, not numeric order
    own = line("y", P.OPERATION_FINISH, op=20)
    assert line_operation(own, ctx) == 20
    # A production finish line belongs to the order, never to the first operation.
    assert line_operation(line("z", P.PRODUCTION_FINISH, op=None), ctx) is None


def test_production_finish_line_with_an_operation_is_still_consumed_only_at_raf():
    order = Order([line("pf", PROD_FIN, op=20)], quantity=10)
    assert order.feedback(20, 10).consumptions == ()
    assert order.start(20, 10).consumptions == ()
    assert by_line(order.finish(10)) == {"pf": (K.REPORT_AS_FINISHED, FULL)}


# --- 2. scrap, over-production, locations, manual, refusals ---------------------------------


def test_scrap_consumes_its_ratio():
    order = Order([line("of", OP_FIN)], quantity=10)
    assert by_line(order.feedback(10, good=0, scrap=4)) == {"of": (K.OPERATION_FEEDBACK, D("8.4"))}


def test_over_production_consumes_beyond_the_order_quantity():
    order = Order([line("of", OP_FIN), line("pf", PROD_FIN, op=None)], quantity=10)
    order.feedback(10, good=10)
    assert by_line(order.feedback(10, good=3)) == {"of": (K.OPERATION_FEEDBACK, D("6.3"))}
    order.finish(good=10)
    assert by_line(order.finish(good=2)) == {"pf": (K.REPORT_AS_FINISHED, D("4.2"))}
    assert order.total("of") == D("27.3")
    assert order.total("pf") == D("25.2")


def test_started_quantity_is_covered_once_across_operation_and_order_starts():
    order = Order([line("s", START)], quantity=10)
    assert by_line(order.start(10, 4)) == {"s": (K.START, D("8.4"))}
    # An order-level start of 10 covers only the 6 not started yet at operation 10.
    result = order.apply(Start(started=D(10), cumulative_started=D(10)))
    assert by_line(result) == {"s": (K.START, D("12.6"))}
    assert (result.consumptions[0].covered_from, result.consumptions[0].covered_to) == (4, 10)
    assert order.start(10, 6).consumptions == ()
    assert order.total("s") == FULL


def test_put_at_input_location_is_capped_at_what_the_line_still_needs():
    order = Order([line("loc", AT_LOC)], quantity=10)
    first = order.apply(PutAtInputLocation(component="C-loc", operation_number=10, quantity=D(10)))
    assert by_line(first) == {"loc": (K.PUT_AT_INPUT_LOCATION, D(10))}
    assert first.not_consumed == 0
    assert first.states["loc"].consumed == D(10)
    assert D("4.76") <= first.states["loc"].covered_output < D("4.77")  # 10 / 2.1
    second = order.apply(PutAtInputLocation(component="C-loc", operation_number=10, quantity=D(15)))
    assert by_line(second) == {"loc": (K.PUT_AT_INPUT_LOCATION, D(11))}
    assert second.not_consumed == D(4)
    assert second.states["loc"] == LineState(covered_output=D(10), consumed=FULL)
    third = order.apply(PutAtInputLocation(component="C-loc", operation_number=10, quantity=D(3)))
    assert third.consumptions == ()
    assert third.not_consumed == D(3)
    # Over-production raises the cap to the reported output.
    fourth = order.apply(
        PutAtInputLocation(
            component="C-loc", operation_number=10, quantity=D(3), reported_output=D(12)
        )
    )
    assert by_line(fourth) == {"loc": (K.PUT_AT_INPUT_LOCATION, D("3"))}
    fifth = order.apply(
        PutAtInputLocation(
            component="C-loc", operation_number=10, quantity=D(3), reported_output=D(12)
        )
    )
    assert by_line(fifth) == {"loc": (K.PUT_AT_INPUT_LOCATION, D("1.2"))}
    assert fifth.not_consumed == D("1.8")
    assert order.total("loc") == D("25.2")


def test_staged_at_release_consumes_like_a_put_recorded_as_release():
    order = Order([line("loc", AT_LOC), line("s", START)], quantity=10)
    staged = order.apply(StagedAtRelease(component="C-loc", operation_number=10, quantity=D(30)))
    assert by_line(staged) == {"loc": (K.RELEASE, FULL)}
    assert staged.not_consumed == D("9")
    # Another operation's input location offers nothing to the line.
    other = Order([line("loc", AT_LOC)], quantity=10).apply(
        StagedAtRelease(component="C-loc", operation_number=20, quantity=D(30))
    )
    assert other.consumptions == ()
    assert other.not_consumed == D(30)


def test_put_fills_lines_of_the_same_component_in_line_order():
    lines = [
        line("a", AT_LOC, component="GLUE", qty="1", allowance="0"),
        line("b", AT_LOC, component="GLUE", qty="0.5", allowance="0"),
        line("c", AT_LOC, component="GLUE", op=20),
    ]
    order = Order(lines, quantity=10)
    result = order.apply(PutAtInputLocation(component="GLUE", operation_number=10, quantity=D(12)))
    assert by_line(result) == {
        "a": (K.PUT_AT_INPUT_LOCATION, D(10)),
        "b": (K.PUT_AT_INPUT_LOCATION, D(2)),
    }
    assert result.not_consumed == 0


def test_manual_correction_returns_and_never_moves_automatic_coverage():
    order = Order([line("of", OP_FIN)], quantity=10)
    order.apply(ManualConsumption(line_id="of", quantity=D(5)))
    assert by_line(order.feedback(10, good=10)) == {"of": (K.OPERATION_FEEDBACK, FULL)}
    result = order.apply(ManualConsumption(line_id="of", quantity=D("-7.5")))
    assert by_line(result) == {"of": (K.MANUAL, D("-7.5"))}
    assert result.states["of"] == LineState(
        covered_output=D(10), consumed=FULL, manual_consumed=D("-2.5")
    )
    assert order.total("of") == D("18.5")
    with pytest.raises(FlushingError) as refused:
        order.apply(ManualConsumption(line_id="of", quantity=D("-18.6")))
    assert refused.value.code == "return_exceeds_consumed"
    assert order.apply(ManualConsumption(line_id="of", quantity=D(0))).consumptions == ()


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: ManualConsumption(line_id="nope", quantity=D(1)), "unknown_line"),
        (lambda: ManualConsumption(line_id="of", quantity=D("1.25")), "too_many_decimals"),
        (
            lambda: PutAtInputLocation(component="C-loc", operation_number=10, quantity=D("0.01")),
            "too_many_decimals",
        ),
        (
            lambda: PutAtInputLocation(component="C-loc", operation_number=99, quantity=D(1)),
            "unknown_operation",
        ),
        (
            lambda: OperationFeedback(operation_number=99, good=D(1), cumulative_output=D(1)),
            "unknown_operation",
        ),
        (
            lambda: Start(operation_number=99, started=D(1), cumulative_started=D(1)),
            "unknown_operation",
        ),
        (
            lambda: OperationFeedback(operation_number=10, good=D(5), cumulative_output=D(4)),
            "invalid_event",
        ),
        (lambda: ReportAsFinished(good=D(-1), cumulative_output=D(0)), "invalid_quantity"),
        (
            lambda: ReportAsFinished(good=D(1), cumulative_output=D(1), consumption_setting="x"),
            "invalid_event",
        ),
        (
            lambda: OperationFeedback(
                operation_number=10, good=D(1), cumulative_output=D(1), consumption_setting=None
            ),
            "invalid_event",
        ),
    ],
)
def test_refused_input_changes_nothing(build, code):
    order = Order([line("of", OP_FIN), line("loc", AT_LOC)], quantity=10)
    with pytest.raises(FlushingError) as refused:
        order.apply(build())
    assert refused.value.code == code
    assert order.states == {}
    assert order.posted == []


def test_floats_are_refused():
    with pytest.raises(TypeError):
        OperationFeedback(operation_number=10, good=1.0, cumulative_output=D(1))
    with pytest.raises(TypeError):
        MaterialLine(line_id="x", component="C", quantity_per=1.02)
    with pytest.raises(TypeError):
        LineState(consumed=0.1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quantity_per": D(0)},
        {"scrap_allowance_pct": D(101)},
        {"flushing_principle": "finish"},
        {"item_default_principle": "none"},
        {"decimal_places": 7},
    ],
)
def test_invalid_lines_are_refused(kwargs):
    with pytest.raises(FlushingError):
        replace(line("x", OP_FIN), **kwargs)


def test_duplicate_lines_are_refused():
    with pytest.raises(FlushingError) as refused:
        Order([line("x", OP_FIN), line("x", START)], quantity=1).apply(Release())
    assert refused.value.code == "duplicate_line"


def test_events_carry_their_kind_and_no_float_field():
    for event_class in (
        Release,
        Start,
        OperationFeedback,
        ReportAsFinished,
        ManualConsumption,
        PutAtInputLocation,
    ):
        assert isinstance(event_class.kind, EventKind)
        assert "kind" not in {f.name for f in fields(event_class)}


# --- 3. rounding never drifts ---------------------------------------------------------------


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_hundred_single_reports_of_a_1_02_ratio_total_102():
    order = Order([line("of", OP_FIN, qty="1.02", allowance="0", places=0)], quantity=100)
    for _ in range(100):
        order.feedback(10, good=1)
    assert order.total("of") == D(102)
    # Each report consumes round(k x 1.02) - round((k - 1) x 1.02): 1 piece, twice 2 pieces.
    assert sorted(c.quantity for c in order.posted) == [D(1)] * 98 + [D(2)] * 2


quantities_per = st.decimals(min_value=D("0.0001"), max_value=D("20"), places=4)
allowances = st.decimals(min_value=D(0), max_value=D(100), places=2)
small_outputs = st.decimals(min_value=D(0), max_value=D(5), places=1)


@settings(max_examples=150, deadline=None)
@given(
    qty=quantities_per,
    allowance=allowances,
    places=st.integers(min_value=0, max_value=3),
    reports=st.lists(
        st.tuples(st.sampled_from(["feedback", "raf", "replay"]), small_outputs, small_outputs),
        min_size=1,
        max_size=40,
    ),
)
def test_rounding_property(qty, allowance, places, reports):
    """Whatever the sequence of small reports (from the operation terminal, from the Feedback
    RaF of the same output, replays), the line has consumed exactly the rounded requirement of
    the highest output covered, after every event: never more, never less."""
    ln = line("of", OP_FIN, qty=str(qty), allowance=str(allowance), places=places)
    order = Order([ln], quantity=1, operations=(10,))
    ratio = qty * (100 + allowance) / 100
    for source, good, scrap in reports:
        if source == "feedback":
            order.feedback(10, good, scrap)
        elif source == "raf":
            order.finish(good, scrap, setting=CS.ON_REPORT_AS_FINISHED)
        elif order.last_event is not None:
            # The same registration processed twice: nothing more.
            assert order.apply(order.last_event).consumptions == ()
        covered = max(order.op_output.get(10, D(0)), order.finished)
        assert order.total("of") == rounded(covered * ratio, places)
        assert order.states.get("of", LineState()).covered_output == covered
    for c in order.posted:
        assert c.quantity > 0
        assert c.quantity == rounded(c.quantity, places)


@settings(max_examples=100, deadline=None)
@given(
    qty=quantities_per,
    allowance=allowances,
    places=st.integers(min_value=0, max_value=3),
    reports=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=60),
)
def test_rounding_sum_of_small_reports_is_the_rounded_total(qty, allowance, places, reports):
    ln = line("pf", PROD_FIN, qty=str(qty), allowance=str(allowance), places=places, op=None)
    order = Order([ln], quantity=1)
    for good in reports:
        order.finish(good)
    assert order.total("pf") == required_quantity(ln, D(sum(reports)))
    assert order.total("pf") == rounded(sum(reports) * qty * (100 + allowance) / 100, places)


# --- 4. the three scenarios of the source document ------------------------------------------


@dataclass(frozen=True)
class Report:
    """One shop-floor registration, before the processor turns it into an engine event."""

    source: str  # "op" (job terminal operation feedback), "raf", "start"
    op: int | None
    good: int
    scrap: int = 0
    setting: str | None = None
    consume: bool = True


def play(order: Order, reports) -> None:
    for r in reports:
        if r.source == "op":
            order.feedback(r.op, r.good, r.scrap, setting=r.setting)
        elif r.source == "raf":
            order.finish(r.good, r.scrap, setting=r.setting, consume=r.consume)
        else:
            order.start(r.op, r.good)


SCENARIO_1_LINES = [
    line("sheet", START, qty="1", allowance="0", places=0),  # cut at job start of op 10
    line("steel", OP_FIN, qty="2", allowance="0", op=None, places=3),  # first operation
    line("paint", OP_FIN, qty="0.15", allowance="10", op=20, places=3),
    line("screw", OP_FIN, qty="4", allowance="2", op=30, places=0),
    line("label", PROD_FIN, qty="1", allowance="0", op=None, places=0),
    line("grease", MANUAL, qty="0.01", op=30, places=3),
]


def scenario_1_reports(last_setting):
    """Job terminals at 10, 20, 30 report good and scrap in chunks; a scanner at the end of
    the line reports good quantities only (it knows no scrap)."""
    terminals = []
    for op, chunks in {
        10: [(50, 2), (50, 2)],  # 104 through op 10
        20: [(60, 1), (38, 1)],  # 100
        30: [(40, 0), (57, 1)],  # 98
    }.items():
        setting = CS.ON_OPERATION_FEEDBACK if op != 30 else last_setting
        terminals += [Report("op", op, g, s, setting=setting) for g, s in chunks]
    starts = [Report("start", 10, 60), Report("start", 10, 44)]
    return terminals, starts


SCENARIO_1_EXPECTED = {
    "sheet": D(104),  # started
    "steel": D(208),  # 104 through op 10 x 2
    "paint": D("16.500"),  # 100 x 0.15 x 1.1
    "screw": D(400),  # 98 x 4 x 1.02 = 399.84 -> 400
    "label": D(97),  # finished good
    "grease": D(0),  # manual only
}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scenario_1_job_terminals_everywhere_plus_a_scanner(data):
    """Every operation consumes at its job terminal; the scanner's report as finished (no
    resource) consumes only the production finish lines. Any arrival order: every line exactly
    its BOM quantity, never double, never short."""
    terminals, starts = scenario_1_reports(CS.ON_OPERATION_FEEDBACK)
    scanner = [Report("raf", None, 47), Report("raf", None, 50)]
    reports = data.draw(st.permutations(terminals + starts + scanner))
    order = Order(SCENARIO_1_LINES, quantity=100, operations=(10, 20, 30))
    play(order, reports)
    assert {ln.line_id: order.total(ln.line_id) for ln in SCENARIO_1_LINES} == SCENARIO_1_EXPECTED
    by_kind = {c.line_id: c.event for c in order.posted}
    assert by_kind["label"] == K.REPORT_AS_FINISHED
    assert {by_kind[x] for x in ("steel", "paint", "screw")} == {K.OPERATION_FEEDBACK}


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scenario_1_feedback_raf_at_the_last_operation(data):
    """The last terminal is set to consume on report as finished ("Feedback RaF"): its operation
    feedback consumes nothing and its report as finished covers every operation finish line not
    yet covered. Operations 10 and 20 still consume at their own feedback; whichever comes
    first covers the output, the other consumes only the rest."""
    terminals, starts = scenario_1_reports(CS.ON_REPORT_AS_FINISHED)
    feedback_raf = [
        Report("raf", None, 40, 0, setting=CS.ON_REPORT_AS_FINISHED),
        Report("raf", None, 57, 1, setting=CS.ON_REPORT_AS_FINISHED),
    ]
    reports = data.draw(st.permutations(terminals + starts + feedback_raf))
    order = Order(SCENARIO_1_LINES, quantity=100, operations=(10, 20, 30))
    play(order, reports)
    expected = dict(SCENARIO_1_EXPECTED, label=D(98))  # the terminal's RaF reports scrap too
    assert {ln.line_id: order.total(ln.line_id) for ln in SCENARIO_1_LINES} == expected
    screws = [c for c in order.posted if c.line_id == "screw"]
    assert {c.event for c in screws} == {K.REPORT_AS_FINISHED}


def test_scenario_1_the_scanner_alone_never_double_consumes_operation_lines():
    """The double-consumption trap: the scanner reporting everything as finished, after the job
    terminals consumed, adds only the packaging / production finish lines."""
    order = Order(SCENARIO_1_LINES, quantity=100, operations=(10, 20, 30))
    terminals, starts = scenario_1_reports(CS.ON_OPERATION_FEEDBACK)
    play(order, terminals + starts)
    before = {ln.line_id: order.total(ln.line_id) for ln in SCENARIO_1_LINES}
    result = order.finish(97)
    assert by_line(result) == {"label": (K.REPORT_AS_FINISHED, D(97))}
    assert {k: v for k, v in before.items() if k != "label"} == {
        k: v for k, v in SCENARIO_1_EXPECTED.items() if k != "label"
    }


SCENARIO_2_LINES = [
    line("granulate", OP_FIN, qty="0.25", allowance="4", op=None, places=3),  # op 10
    line("insert", OP_FIN, qty="2", allowance="0", op=20, places=0),
    line("box", PROD_FIN, qty="0.1", allowance="0", op=None, places=0),  # 10 per box
    line("foil", PROD_FIN, qty="0.02", allowance="5", op=None, places=2),
]


@pytest.mark.parametrize("robot_first", [False, True])
def test_scenario_2_packaging_robot_reports_as_finished_without_an_operation(robot_first):
    """Operations 10 and 20 run on job terminals; packing (30) is a robot the MES does not
    manage: a sensor reports full boxes as finished, no operation, no resource. The packaging
    materials are production finish: consumed by the robot's report only, even though they
    have no operation number (never credited to the first operation)."""
    order = Order(SCENARIO_2_LINES, quantity=200, operations=(10, 20))
    terminals = [
        Report("op", 10, 205, 3, setting=CS.ON_OPERATION_FEEDBACK),
        Report("op", 20, 200, 5, setting=CS.ON_OPERATION_FEEDBACK),
    ]
    robot = [Report("raf", None, 100), Report("raf", None, 100)]
    if robot_first:
        play(order, robot)
        assert {c.line_id for c in order.posted} == {"box", "foil"}
        play(order, terminals)
    else:
        play(order, terminals)
        assert {c.line_id for c in order.posted} == {"granulate", "insert"}
        play(order, robot)
    assert {ln.line_id: order.total(ln.line_id) for ln in SCENARIO_2_LINES} == {
        "granulate": D("54.080"),  # 208 x 0.25 x 1.04
        "insert": D(410),  # 205 x 2
        "box": D(20),
        "foil": D("4.20"),  # 200 x 0.02 x 1.05
    }
    assert {c.event for c in order.posted if c.line_id in ("box", "foil")} == {K.REPORT_AS_FINISHED}


def test_scenario_2_robot_without_consumption_never_blocks_the_label():
    """The order or terminal option "report as finished without consumption": the robot's
    report consumes nothing (labelling must never fail on a missing screw in the ledger);
    the job terminals still consume their operations' materials."""
    order = Order(SCENARIO_2_LINES, quantity=200, operations=(10, 20))
    play(order, [Report("op", 10, 200, setting=CS.ON_OPERATION_FEEDBACK)])
    result = order.finish(200, consume=False)
    assert result.consumptions == ()
    assert result.states["box"] == LineState()
    assert {c.line_id for c in order.posted} == {"granulate"}


def test_scenario_3_three_orders_exchanging_semi_finished_goods():
    """Three orders of one operation each, semi-finished goods handed from machine to machine
    through unlabelled locations. Each order consumes its own BOM exactly once, at its own
    feedback or report as finished, whatever its terminal's setting."""
    # Order A: mixing. Its terminal does "Feedback RaF": feedback consumes nothing, the report
    # as finished from that resource consumes the operation finish lines.
    mixing = Order(
        [
            line("flour", OP_FIN, qty="0.5", allowance="2", op=None, places=3),
            line("yeast", START, qty="0.01", allowance="0", op=None, places=3),
        ],
        quantity=1000,
        operations=(10,),
    )
    play(
        mixing,
        [
            Report("start", 10, 1000),
            Report("op", 10, 600, 0, setting=CS.ON_REPORT_AS_FINISHED),
            Report("raf", None, 600, 0, setting=CS.ON_REPORT_AS_FINISHED),
            Report("op", 10, 400, 10, setting=CS.ON_REPORT_AS_FINISHED),
            Report("raf", None, 400, 10, setting=CS.ON_REPORT_AS_FINISHED),
        ],
    )
    assert mixing.total("flour") == D("515.100")  # 1010 x 0.5 x 1.02
    assert mixing.total("yeast") == D("10.000")
    assert {c.event for c in mixing.posted if c.line_id == "flour"} == {K.REPORT_AS_FINISHED}

    # Order B: baking. Consumes the dough (A's output) on operation feedback; its own report
    # as finished from the same resource consumes nothing more.
    baking = Order(
        [
            line("dough", OP_FIN, qty="1", allowance="0", op=None, places=3),
            line("tray-oil", AT_LOC, qty="0.002", allowance="0", op=None, places=3),
        ],
        quantity=1000,
        operations=(10,),
    )
    play(
        baking,
        [
            Report("op", 10, 990, 10, setting=CS.ON_OPERATION_FEEDBACK),
            Report("raf", None, 990, 10, setting=CS.ON_OPERATION_FEEDBACK),
        ],
    )
    put = baking.apply(
        PutAtInputLocation(component="C-tray-oil", operation_number=10, quantity=D(5))
    )
    assert put.not_consumed == D(3)
    assert baking.total("dough") == D(1000)
    assert baking.total("tray-oil") == D(2)

    # Order C: packing. The terminal consumes the bread on feedback; a scanner reports the
    # finished bags and consumes the bags (production finish) only.
    packing = Order(
        [
            line("bread", OP_FIN, qty="1", allowance="0", op=None, places=3),
            line("bag", PROD_FIN, qty="1", allowance="1", op=None, places=0),
        ],
        quantity=990,
        operations=(10,),
    )
    play(
        packing,
        [
            Report("raf", None, 500),
            Report("op", 10, 985, 5, setting=CS.ON_OPERATION_FEEDBACK),
            Report("raf", None, 485),
        ],
    )
    assert packing.total("bread") == D(990)
    assert packing.total("bag") == D(995)  # 985 finished x 1.01 = 994.85 -> 995 pieces
