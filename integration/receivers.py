"""What integration does when execution announces a change (execution.signals) or inventory
a posting (inventory.signals), inside the sender's transaction. Connected on the hub only
(integration/apps.py): on a scale unit the ERP and the scale-unit link are the hub's.
"""

from execution.signals import CHANGED
from integration.erp.services import outbox, reversals, work_orders
from integration.scale_units import services as scale_units
from orders.choices import Transition

_ORDER_ENDS = (Transition.COMPLETE, Transition.CANCEL, Transition.CLOSE)


def order_changed(sender, *, order, transition: str, **_) -> None:
    """The ERP's messages and the scale unit's package for an order's transition or change."""
    if transition in (Transition.CANCEL, Transition.CLOSE):
        # First: the package below tells a scale unit that nothing waits any more.
        work_orders.force_close_withdraw(order=order)
    if transition in _ORDER_ENDS:
        # The consumption batched so far goes out before the messages that follow the end.
        outbox.material_issues_flush(order=order)
    if transition == Transition.CLOSE:
        outbox.order_genealogy_record(order=order)
    if transition in scale_units.SENT_TRANSITIONS or transition == CHANGED:
        scale_units.order_package_effect(order=order, transition=transition)


def stock_posted(sender, *, entries, **_) -> None:
    """The posting's consumption (issues minus returns of an order), into its ERP batches."""
    outbox.material_issue_record(entries=entries)


def registration_processed(sender, *, processed, **_) -> None:
    """What a processed registration tells the ERP (written from what processing wrote: one
    place), and the force close it may complete."""
    outbox.registration_outbox_effect(processed=processed)
    reversals.correction_outbox_effect(processed=processed)
    # Last: the order closes after the messages of the registration that let it close.
    work_orders.force_close_effect(registration=processed.registration)
