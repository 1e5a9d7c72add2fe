"""Execution services: every rule of the app that changes state, one module per subject."""

from .arrivals import material_arrived_at_input
from .jobs import job_plan_change, order_create_jobs, order_remove_jobs, order_unrelease_blockers
from .materials import (
    RESERVING,
    material_requirement,
    material_source,
    order_free_reservations,
    order_parent_quantity,
    order_reference,
    order_release_blockers,
    order_reserve_materials,
    resource_put_material,
)
from .order_changes import (
    order_change,
    order_change_quantity,
    order_material_add,
    order_material_remove,
    order_resync,
    order_resync_jobs,
)

__all__ = [
    "RESERVING",
    "job_plan_change",
    "material_arrived_at_input",
    "material_requirement",
    "material_source",
    "order_change",
    "order_change_quantity",
    "order_create_jobs",
    "order_free_reservations",
    "order_material_add",
    "order_material_remove",
    "order_parent_quantity",
    "order_reference",
    "order_release_blockers",
    "order_remove_jobs",
    "order_reserve_materials",
    "order_resync",
    "order_resync_jobs",
    "order_unrelease_blockers",
    "resource_put_material",
]
