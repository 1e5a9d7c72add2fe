"""What integration does when inventory announces a posting (inventory.signals), inside the
sender's transaction. Connected on the hub only (integration/apps.py): on a scale unit the
ERP is the hub's.
"""

from .services import outbox


def stock_posted(sender, *, entries, **_) -> None:
    """The posting's consumption (issues minus returns of an order), into its ERP batches."""
    outbox.material_issue_record(entries=entries)
