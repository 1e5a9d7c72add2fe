"""Every rule that changes production orders and their master data, one module per subject:
lifecycle (the state machine), bom_route (the BOM and route of a release), editing (create,
change), materials (material lines and steps). Callers use orders.services.

Each service is keyword-only and atomic, takes the order's row lock before it reads the
status, and refuses with an ApplicationError subclass that carries a machine-readable code.
"""

from .bom_route import find_release_master_data
from .editing import (
    CREATED_ONLY_FIELDS,
    EDITABLE,
    production_order_change_quantity,
    production_order_check_changes,
    production_order_check_new,
    production_order_create,
    production_order_update,
)
from .lifecycle import (
    RUNNING,
    allowed_transitions,
    lock_order,
    production_order_record_quantities,
    production_order_transition,
    refuse_transition,
    transition_blockers,
)
from .materials import (
    production_order_material_add,
    production_order_material_remove,
    production_order_split_into_steps,
)

__all__ = [
    "CREATED_ONLY_FIELDS",
    "EDITABLE",
    "RUNNING",
    "allowed_transitions",
    "find_release_master_data",
    "lock_order",
    "production_order_change_quantity",
    "production_order_check_changes",
    "production_order_check_new",
    "production_order_create",
    "production_order_material_add",
    "production_order_material_remove",
    "production_order_record_quantities",
    "production_order_split_into_steps",
    "production_order_transition",
    "production_order_update",
    "refuse_transition",
    "transition_blockers",
]
