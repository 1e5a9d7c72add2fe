"""What inventory tells the apps above it (execution, integration), inside the posting's
transaction.

inventory may not import them, yet stock put at a resource's input location is what the
"Available at location" flushing principle consumes on (execution), and every issue or
return of an order is consumption the ERP must hear of (integration). A receiver runs in
the posting's transaction: what it writes (a consumption posting, an outbox batch) commits
with the ledger rows or not at all, and a receiver that raises rolls the posting back.
"""

from django.dispatch import Signal

# stock_posted(sender=InventoryTransaction, entries: list[InventoryTransaction])
# Sent once per posting (every stock movement service), right after its ledger rows are
# written and the order's reservations relieved. A row with a positive quantity is stock
# that arrived at its location. A receiver that posts again (execution consuming an arrival)
# sends stock_posted again, nested, before the receivers after it see this posting.
# A receiver runs with the posting's on-hand rows locked: rows of the apps above that it locks
# (execution: the orders consuming an arrival) come earlier in the product's lock order
# (docs/execution.md, "Lock order"), so whoever posts locks them first.
# Receivers run in connection order (INSTALLED_APPS: execution, then integration). That
# order changes nothing today: a posting holds one kind of movement (a transfer: out and in),
# so no posting has both arrivals for execution and order issues or returns for integration.
stock_posted = Signal()
