"""What execution tells the apps above it (integration), inside the transaction of the change.

A receiver runs in the sender's transaction: what it writes (an outbox row, a scale-unit
package) commits with the change or not at all, and a receiver that raises rolls the
change back. Receivers only write; sending is left to background tasks.
"""

from django.dispatch import Signal

# A plan change that is not a transition (quantity, planning fields, material lines).
CHANGED = "changed"

# order_changed(sender=ProductionOrder, order: ProductionOrder, transition: str, actor: Actor)
# Sent once per manual or automatic transition (transition: an orders.choices.Transition
# value) and once per plan change (transition: CHANGED), after execution's own steps.
order_changed = Signal()

# registration_processed(sender=RawRegistration, processed: Processed)  (services/order_work.py)
# Sent once per registration the processor applies, after its journals, postings and order
# quantities were written and before it is marked processed; `processed` says what it wrote
# (journal lines, the order's status moves), so integration writes the ERP's messages from it
# without reading them back. A receiver that raises fails
# the registration (rolled back to its savepoint); a supervisor can process it again.
registration_processed = Signal()
