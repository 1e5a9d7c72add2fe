"""The production order state machine, driven through orders.services only."""

from decimal import Decimal

import pytest

from execution.services import material_requirement, order_parent_quantity
from mesproject.actors import Actor
from mesproject.errors import ApplicationError, NotAllowed
from orders import services
from orders.choices import MANUAL_TRANSITIONS, OrderStatus, Transition
from tests.factories import (
    ItemFactory,
    UnitOfMeasureFactory,
    advance_order,
    make_order,
    make_releasable_product,
)
from tests.orders.helpers import log_chain, reload, snapshot

pytestmark = pytest.mark.django_db

S = OrderStatus
T = Transition
D = Decimal

record = services.production_order_record_quantities
transition = services.production_order_transition

# Where each manual transition may start from (the source state model).
SOURCES = {
    T.RELEASE: {S.CREATED},
    T.UNRELEASE: {S.RELEASED},
    T.CANCEL: {S.CREATED, S.RELEASED, S.IN_PROGRESS, S.COMPLETED},
    T.CLOSE: {S.COMPLETED},
    T.REOPEN: {S.CLOSED},
    T.UNTERMINATE: {S.CANCELED},
}
WRONG_STATES = [(t, s) for t in MANUAL_TRANSITIONS for s in S.values if s not in SOURCES[t]]


@pytest.fixture
def planner(django_user_model):
    return django_user_model.objects.create_user(username="planner", password="x")


@pytest.fixture
def product():
    return make_releasable_product()


@pytest.fixture
def order(product):
    return make_order(product, quantity=10)


def refused(call, code: str, /, **kwargs) -> ApplicationError:
    """Call with kwargs (one is the order): refused with `code`, and nothing stored changed."""
    order = kwargs["order"]
    before = snapshot(order)
    with pytest.raises(ApplicationError) as info:
        call(**kwargs)
    assert info.value.code == code, info.value.message
    assert snapshot(order) == before
    return info.value


# --- Every manual transition from a state it does not start from ---------------------------


@pytest.mark.parametrize(("name", "status"), WRONG_STATES)
def test_manual_transition_refused_from_wrong_state(order, name, status):
    order = advance_order(order, status)
    error = refused(transition, f"{name}_refused", order=order, transition=name)
    assert isinstance(error, NotAllowed)
    assert "not possible from" in error.message
    assert error.fields["status"] == status
    assert reload(order).status == status


@pytest.mark.parametrize("name", ["start", "complete", "resume", "bogus"])
def test_automatic_or_unknown_transitions_cannot_be_asked_for(order, name):
    refused(transition, "invalid_transition", order=order, transition=name)


# --- Allowed manual transitions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        (T.RELEASE, S.CREATED, S.RELEASED),
        (T.UNRELEASE, S.RELEASED, S.CREATED),
        (T.CANCEL, S.CREATED, S.CANCELED),
        (T.CANCEL, S.RELEASED, S.CANCELED),
        (T.CANCEL, S.IN_PROGRESS, S.CANCELED),
        (T.CANCEL, S.COMPLETED, S.CANCELED),
        (T.CLOSE, S.COMPLETED, S.CLOSED),
        (T.REOPEN, S.CLOSED, S.COMPLETED),
        (T.UNTERMINATE, S.CANCELED, S.CREATED),
    ],
)
def test_manual_transition_allowed(order, planner, name, start, end):
    order = advance_order(order, start)
    logs_before = order.transition_log.count()
    quantities = snapshot(order)["order"]

    result = transition(order=order, transition=name, actor=Actor(user=planner), reason="planned")

    stored = reload(order)
    assert result.status == stored.status == end
    assert order.transition_log.count() == logs_before + 1
    log = order.transition_log.latest("id")
    assert (log.transition, log.from_status, log.to_status) == (name, start, end)
    assert (log.user, log.actor, log.reason) == (planner, "user:planner", "planned")
    # A manual transition moves the status, never the reported quantities.
    after = snapshot(order)["order"]
    for field in ("quantity_in_progress", "quantity_completed", "quantity_scrapped"):
        assert after[field] == quantities[field]


def test_allowed_transitions_lists_manual_transitions_with_blockers(order):
    assert services.allowed_transitions(order=order) == [(T.RELEASE, []), (T.CANCEL, [])]
    order = advance_order(order, S.IN_PROGRESS)
    # In Progress: only cancel is possible by hand; the rest is automatic.
    assert services.allowed_transitions(order=order) == [(T.CANCEL, [])]


# --- Release ---------------------------------------------------------------------------------


def _deactivate_item(product):
    product.item.is_active = False
    product.item.save()


def _delete_bom(product):
    product.bom.lines.all().delete()
    product.bom.delete()


def _unapprove_bom(product):
    product.bom.approved = False
    product.bom.save()


def _delete_route(product):
    product.route.operations.all().delete()
    product.route.delete()


def _unapprove_route(product):
    product.route.approved = False
    product.route.save()


def _empty_route(product):
    product.route.operations.all().delete()


@pytest.mark.parametrize(
    ("breaks", "named"),
    [
        ([_deactivate_item], ["is not active"]),
        ([_delete_bom], ["no BOM for {pn} rev A"]),
        ([_unapprove_bom], ["BOM {pn} rev A is not approved"]),
        ([_delete_route], ["no route for {pn} rev A"]),
        ([_unapprove_route], ["route {pn} rev A is not approved"]),
        ([_empty_route], ["route {pn} rev A has no operations"]),
        (
            [_deactivate_item, _unapprove_bom, _delete_route],
            ["item {pn} is not active", "BOM {pn} rev A is not approved", "no route for {pn}"],
        ),
    ],
    ids=[
        "inactive-item",
        "no-bom",
        "bom-unapproved",
        "no-route",
        "route-unapproved",
        "route-no-operations",
        "several",
    ],
)
def test_release_refused_names_what_is_missing(product, order, breaks, named):
    for breaking in breaks:
        breaking(product)
    error = refused(transition, "release_refused", order=order, transition=T.RELEASE)
    pn = product.item.part_number
    for fragment in named:
        assert fragment.format(pn=pn) in error.message
    assert len(error.fields["reasons"]) == len(named)
    stored = reload(order)
    assert stored.status == S.CREATED
    assert (stored.bom, stored.route) == (None, None)
    assert not stored.materials.exists()


def test_release_refused_for_an_unknown_revision(product):
    order = make_order(product, revision="B")
    error = refused(transition, "release_refused", order=order, transition=T.RELEASE)
    pn = product.item.part_number
    assert f"no BOM for {pn} rev B" in error.message
    assert f"no route for {pn} rev B" in error.message


def test_release_explodes_the_bom_into_order_materials(product, order):
    services.production_order_transition(order=order, transition=T.RELEASE)

    stored = reload(order)
    assert (stored.bom, stored.route) == (product.bom, product.route)
    lines = list(product.bom.lines.order_by("line_number"))
    materials = list(stored.materials.order_by("line_number"))
    assert len(materials) == len(lines) == 3
    for line, material in zip(lines, materials, strict=True):
        assert material.line_number == line.line_number
        assert material.component_id == line.component_id
        assert material.quantity_per == line.quantity_per
        assert material.flushing_principle == line.flushing_principle
        assert material.bom_line_id == line.pk
    # The requirement is execution's to compute (it converts the order's unit once).
    parent = order_parent_quantity(stored)
    assert material_requirement(materials[2], parent) == D(30)


def test_release_again_after_unrelease_does_not_duplicate_materials(order):
    order = advance_order(order, S.RELEASED)
    transition(order=order, transition=T.UNRELEASE)
    transition(order=order, transition=T.RELEASE)
    assert order.materials.count() == 3


def test_release_keeps_a_material_added_before_and_still_explodes_the_bom(product, order):
    extra = ItemFactory()
    services.production_order_material_add(order=order, component=extra, quantity_per=D(2))

    services.production_order_transition(order=order, transition=T.RELEASE)

    lines = dict(order.materials.values_list("component_id", "line_number"))
    bom_lines = dict(product.bom.lines.values_list("component_id", "line_number"))
    assert set(lines) == set(bom_lines) | {extra.pk}
    # The planner's line keeps number 10; the BOM's line 10 moves after the last one.
    assert sorted(lines.values()) == [10, 20, 30, 40]
    assert lines[extra.pk] == 10


# --- Unrelease -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "report", [{"in_progress": D(1)}, {"good": D(1)}, {"scrap": D(1)}, {"work_started": True}]
)
def test_unrelease_refused_once_work_was_reported(order, report):
    order = advance_order(order, S.RELEASED)
    record(order=order, **report)
    error = refused(transition, "unrelease_refused", order=order, transition=T.UNRELEASE)
    assert reload(order).status == S.IN_PROGRESS
    assert error.fields["status"] == S.IN_PROGRESS


def test_unrelease_guard_names_reported_quantities(order):
    # Reports always start the order, so this guard backs the state check up: a Released
    # order carrying quantities (say, from an import) still may not be unreleased.
    order = advance_order(order, S.RELEASED)
    order.quantity_scrapped = D(1)
    assert services.transition_blockers(order=order, transition=T.UNRELEASE) == [
        "quantities have already been reported on the order"
    ]


# --- Cancel ----------------------------------------------------------------------------------


def test_cancel_keeps_what_was_posted(order):
    order = advance_order(order, S.RELEASED)
    record(order=order, in_progress=D(2), good=D(3), scrap=D(1))
    transition(order=order, transition=T.CANCEL, reason="customer canceled")
    stored = reload(order)
    assert stored.status == S.CANCELED
    assert (stored.quantity_in_progress, stored.quantity_completed, stored.quantity_scrapped) == (
        2,
        3,
        1,
    )
    assert stored.materials.count() == 3


# --- Close -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "quantity", "tolerance", "completed", "closes"),
    [
        ("pcs", "10", "0", "10", True),
        ("pcs", "10", "0", "11", False),
        ("pcs", "10", "10", "11", True),
        ("pcs", "10", "10", "12", False),
        ("kg", "10", "0", "10.000", True),
        ("kg", "10", "0", "10.001", False),
        ("kg", "10", "2.5", "10.25", True),
        ("kg", "10", "2.5", "10.251", False),
        ("kg", "3.333", "12.5", "3.749", True),
        ("kg", "3.333", "12.5", "3.750", False),
    ],
)
def test_close_tolerance_edges(unit, quantity, tolerance, completed, closes):
    uom = UnitOfMeasureFactory(code=unit, decimal_places=3 if unit == "kg" else 0)
    order = make_order(make_releasable_product(unit=uom), quantity=quantity, tolerance=tolerance)
    order = record(order=advance_order(order, S.RELEASED), good=D(completed))
    assert order.status == S.COMPLETED

    if closes:
        transition(order=order, transition=T.CLOSE)
        assert reload(order).status == S.CLOSED
    else:
        error = refused(transition, "close_refused", order=order, transition=T.CLOSE)
        assert "above the over-delivery tolerance" in error.message
        assert reload(order).status == S.COMPLETED


def test_close_refused_below_the_order_quantity(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(9))
    assert order.status == S.IN_PROGRESS
    refused(transition, "close_refused", order=order, transition=T.CLOSE)


def test_close_refused_while_something_is_in_progress(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(10), in_progress=D(1))
    assert order.status == S.IN_PROGRESS
    refused(transition, "close_refused", order=order, transition=T.CLOSE)


@pytest.mark.parametrize(
    ("completed", "in_progress", "reasons"),
    [
        (D(10), D(0), []),
        (D(9), D(0), ["completed quantity 9 is below the order quantity 10"]),
        (D(10), D(2), ["2 still in progress"]),
        (
            D(12),
            D(1),
            [
                "completed quantity 12 is above the over-delivery tolerance (11 at most)",
                "1 still in progress",
            ],
        ),
    ],
)
def test_close_guard_names_each_reason(product, completed, in_progress, reasons):
    # A Completed order whose quantities are looked at before they are saved: the guard
    # itself, apart from the automatic transitions that keep such orders In Progress.
    order = advance_order(make_order(product, quantity=10, tolerance=10), S.COMPLETED)
    order.quantity_completed, order.quantity_in_progress = completed, in_progress
    assert services.transition_blockers(order=order, transition=T.CLOSE) == reasons


# --- Reopen ----------------------------------------------------------------------------------


def test_reopen_unfreezes_the_order(order):
    order = advance_order(order, S.CLOSED)
    transition(order=order, transition=T.REOPEN, reason="recount")
    services.production_order_change_quantity(order=order, quantity=D(12))
    stored = reload(order)
    assert stored.status == S.IN_PROGRESS
    assert stored.quantity == 12
    assert [t for t, _, _ in log_chain(order)][-2:] == [T.REOPEN, T.RESUME]


# --- Unterminate -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reports", "lands_on"),
    [
        ([], S.CREATED),
        ([{"work_started": True}], S.CREATED),
        ([{"in_progress": D(3)}], S.IN_PROGRESS),
        ([{"scrap": D(2)}], S.IN_PROGRESS),
        ([{"good": D(4)}], S.IN_PROGRESS),
        ([{"good": D(10), "in_progress": D(1)}], S.IN_PROGRESS),
        ([{"good": D(10)}], S.COMPLETED),
        ([{"good": D(12)}], S.COMPLETED),
        ([{"in_progress": D(2)}, {"in_progress": D(-2), "good": D(10)}], S.COMPLETED),
        ([{"in_progress": D(2)}, {"in_progress": D(-2)}], S.CREATED),
    ],
)
def test_unterminate_lands_where_the_quantities_say(order, reports, lands_on):
    order = advance_order(order, S.RELEASED)
    for report in reports:
        record(order=order, **report)
    transition(order=order, transition=T.CANCEL)

    result = transition(order=order, transition=T.UNTERMINATE)

    assert result.status == reload(order).status == lands_on
    log = order.transition_log.latest("id")
    assert (log.transition, log.from_status, log.to_status) == (T.UNTERMINATE, S.CANCELED, lands_on)


# --- Automatic transitions -------------------------------------------------------------------


def test_first_report_starts_the_order(order):
    order = advance_order(order, S.RELEASED)
    record(order=order, in_progress=D(2))
    assert reload(order).status == S.IN_PROGRESS
    assert log_chain(order)[-1] == (T.START, S.RELEASED, S.IN_PROGRESS)


def test_work_started_starts_the_order_without_quantities(order):
    order = advance_order(order, S.RELEASED)
    record(order=order, work_started=True)
    stored = reload(order)
    assert stored.status == S.IN_PROGRESS
    assert not stored.has_activity()
    assert log_chain(order)[-1] == (T.START, S.RELEASED, S.IN_PROGRESS)


def test_an_empty_report_leaves_a_released_order_released(order):
    order = advance_order(order, S.RELEASED)
    record(order=order)
    assert reload(order).status == S.RELEASED
    assert log_chain(order) == [(T.RELEASE, S.CREATED, S.RELEASED)]


def test_reaching_the_target_completes_the_order(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(6))
    assert order.status == S.IN_PROGRESS
    record(order=order, good=D(4))
    assert reload(order).status == S.COMPLETED
    assert log_chain(order)[-1] == (T.COMPLETE, S.IN_PROGRESS, S.COMPLETED)


def test_one_report_can_start_and_complete(order):
    record(order=advance_order(order, S.RELEASED), good=D(10))
    assert log_chain(order) == [
        (T.RELEASE, S.CREATED, S.RELEASED),
        (T.START, S.RELEASED, S.IN_PROGRESS),
        (T.COMPLETE, S.IN_PROGRESS, S.COMPLETED),
    ]


def test_completion_waits_until_nothing_is_in_progress(order):
    order = record(order=advance_order(order, S.RELEASED), in_progress=D(1), good=D(10))
    assert order.status == S.IN_PROGRESS
    assert record(order=order, in_progress=D(-1)).status == S.COMPLETED


def test_scrap_does_not_count_towards_completion(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(8), scrap=D(5))
    assert order.status == S.IN_PROGRESS


def test_raising_the_quantity_resumes_a_completed_order(order):
    order = advance_order(order, S.COMPLETED)
    services.production_order_change_quantity(order=order, quantity=D(15), reason="more")
    assert reload(order).status == S.IN_PROGRESS
    assert log_chain(order)[-1] == (T.RESUME, S.COMPLETED, S.IN_PROGRESS)


def test_lowering_the_quantity_to_what_is_done_completes_the_order(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(7))
    services.production_order_change_quantity(order=order, quantity=D(7))
    assert reload(order).status == S.COMPLETED


def test_work_started_again_resumes_a_completed_order(order):
    order = advance_order(order, S.COMPLETED)
    record(order=order, in_progress=D(1), work_started=True)
    assert reload(order).status == S.IN_PROGRESS
    assert log_chain(order)[-1] == (T.RESUME, S.COMPLETED, S.IN_PROGRESS)
    record(order=order, in_progress=D(-1), good=D(1))
    assert reload(order).status == S.COMPLETED


def test_a_good_correction_resumes_a_completed_order(order):
    order = advance_order(order, S.COMPLETED)
    record(order=order, good=D(-1), reason="miscount")
    assert reload(order).status == S.IN_PROGRESS


@pytest.mark.parametrize("status", [S.CREATED, S.CLOSED, S.CANCELED])
def test_no_report_on_an_order_that_is_not_running(order, status):
    order = advance_order(order, status)
    refused(record, "order_not_running", order=order, good=D(1))


@pytest.mark.parametrize(
    ("report", "code"),
    [
        ({"in_progress": D(-3)}, "quantity_negative"),
        ({"good": D(-6)}, "quantity_negative"),
        ({"scrap": D(-1)}, "quantity_negative"),
    ],
)
def test_reports_that_would_break_the_quantities_are_refused(order, report, code):
    order = record(order=advance_order(order, S.RELEASED), in_progress=D(2), good=D(5))
    refused(record, code, order=order, **report)


# --- Changes on running, frozen and restricted orders ---------------------------------------


def _change_quantity(order):
    services.production_order_change_quantity(order=order, quantity=D(20))


def _change_item(order):
    services.production_order_update(order=order, item=ItemFactory())


def _change_priority(order):
    services.production_order_update(order=order, priority=1)


def _add_material(order):
    services.production_order_material_add(order=order, component=ItemFactory(), quantity_per=1)


def _remove_material(order):
    services.production_order_material_remove(material=order.materials.first())


def _split(order):
    services.production_order_split_into_steps(order=order, step_size=D(5))


@pytest.mark.parametrize(
    "change",
    [_change_quantity, _change_item, _change_priority, _add_material, _remove_material, _split],
)
def test_a_closed_order_is_frozen(order, change):
    order = advance_order(order, S.CLOSED)
    error = refused(change, "order_frozen", order=order)
    assert isinstance(error, NotAllowed)


@pytest.mark.parametrize("change", [_change_quantity, _add_material, _remove_material])
def test_the_same_changes_pass_once_reopened(order, change):
    order = advance_order(order, S.CLOSED)
    transition(order=order, transition=T.REOPEN)
    change(order)


def test_quantity_below_produced_refused(order):
    order = record(order=advance_order(order, S.RELEASED), good=D(5))
    error = refused(
        services.production_order_change_quantity,
        "qty_below_produced",
        order=order,
        quantity=D(4),
    )
    assert error.fields == {"quantity_completed": "5.000000"}
    refused(services.production_order_update, "qty_below_produced", order=order, quantity=4)
    services.production_order_change_quantity(order=order, quantity=D(5))
    assert reload(order).quantity == 5


@pytest.mark.parametrize("quantity", [D(0), D(-1)])
def test_quantity_must_stay_positive(order, quantity):
    refused(
        services.production_order_change_quantity,
        "quantity_not_positive",
        order=order,
        quantity=quantity,
    )


def test_item_changes_only_while_created(order):
    order = advance_order(order, S.RELEASED)
    refused(_change_item, "order_not_created", order=order)


@pytest.mark.parametrize("change", [_add_material, _remove_material])
def test_restricted_order_refuses_material_changes(product, change):
    order = advance_order(make_order(product, restricted=True), S.RELEASED)
    refused(change, "order_restricted", order=order)


def test_unrestricted_order_accepts_material_changes(order):
    order = advance_order(order, S.RELEASED)
    material = services.production_order_material_add(
        order=order, component=ItemFactory(), quantity_per=D("0.5")
    )
    assert material.line_number == 40
    services.production_order_material_remove(material=order.materials.get(line_number=10))
    assert list(order.materials.values_list("line_number", flat=True)) == [20, 30, 40]


def test_an_order_cannot_consume_its_own_item(product, order):
    refused(
        services.production_order_material_add,
        "component_is_item",
        order=order,
        component=product.item,
        quantity_per=D(1),
    )


# --- Split into steps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "completed", "step_size", "steps"),
    [
        (100, 0, 20, [20, 20, 20, 20, 20]),
        (100, 0, 30, [30, 30, 30, 10]),
        (100, 0, 100, [100]),
        (100, 0, 150, [100]),
        (100, 40, 30, [30, 30]),
    ],
)
def test_split_into_steps(product, quantity, completed, step_size, steps):
    order = make_order(product, quantity=quantity)
    if completed:
        order = record(order=advance_order(order, S.RELEASED), good=D(completed))

    result = services.production_order_split_into_steps(order=order, step_size=D(step_size))

    assert [s.quantity for s in result] == steps
    stored = list(order.steps.order_by("sequence").values_list("sequence", "quantity"))
    assert stored == [(i + 1, D(q)) for i, q in enumerate(steps)]


def test_split_again_replaces_the_steps(order):
    services.production_order_split_into_steps(order=order, step_size=D(5))
    services.production_order_split_into_steps(order=order, step_size=D(4))
    assert list(order.steps.values_list("quantity", flat=True)) == [4, 4, 2]


def test_split_refused_when_nothing_remains(order):
    order = advance_order(order, S.COMPLETED)
    refused(_split, "nothing_remaining", order=order)


@pytest.mark.parametrize("step_size", [D(0), D(-20)])
def test_split_refuses_a_step_size_not_above_zero(order, step_size):
    refused(
        services.production_order_split_into_steps,
        "step_size_invalid",
        order=order,
        step_size=step_size,
    )


def test_split_refused_on_closed_and_canceled_orders(product):
    closed = advance_order(make_order(product), S.CLOSED)
    refused(_split, "order_frozen", order=closed)
    canceled = advance_order(make_order(product), S.CANCELED)
    refused(_split, "order_not_editable", order=canceled)


# --- Audit: transition log and history -------------------------------------------------------


def test_transition_writes_log_and_history_with_user_and_reason(order, planner):
    actor = Actor(user=planner)
    transition(order=order, transition=T.RELEASE, actor=actor, reason="material is in")

    log = order.transition_log.get()
    assert (log.transition, log.from_status, log.to_status) == (T.RELEASE, S.CREATED, S.RELEASED)
    assert (log.user, log.actor, log.reason) == (planner, "user:planner", "material is in")
    assert log.at is not None
    latest = order.history.latest("history_id")
    assert latest.status == S.RELEASED
    assert latest.history_change_reason == "material is in"
    assert latest.history_user == planner


def test_transition_without_reason_records_its_label(order):
    transition(order=order, transition=T.CANCEL)
    log = order.transition_log.get()
    assert (log.user, log.actor, log.reason) == (None, "process:system", "")
    assert order.history.latest("history_id").history_change_reason == "Cancel"


def test_automatic_transitions_are_logged_with_the_reporting_process(order):
    order = advance_order(order, S.RELEASED)
    record(order=order, good=D(10), actor=Actor(process="registrations"))
    logs = list(order.transition_log.order_by("id").values_list("transition", "actor"))
    assert logs[1:] == [(T.START, "process:registrations"), (T.COMPLETE, "process:registrations")]
    statuses = list(order.history.order_by("history_id").values_list("status", flat=True))
    assert statuses[-2:] == [S.IN_PROGRESS, S.COMPLETED]


def test_create_writes_history_but_no_transition_log(planner, product):
    order = make_order(product, actor=Actor(user=planner))
    assert not order.transition_log.exists()
    created = order.history.get()
    assert created.history_type == "+"
    assert created.history_change_reason == "created by user:planner"
    assert created.status == S.CREATED


def test_status_cannot_be_assigned_directly(order):
    with pytest.raises(AttributeError):
        order.status = S.CLOSED
    assert reload(order).status == S.CREATED
