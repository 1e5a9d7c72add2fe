"""Hub and scale units (docs/scale_units.md), split along its seams:

- hub.py: the hub's side, scale units and the packages written for the orders of the sites
  they run, the status page, and the guard that takes a site's registrations from its scale
  unit only;
- edge.py: the scale unit's side, applying the packages it took and queuing its
  registrations for the hub;
- link.py: the scale unit's HTTP calls to the hub, the sync round and the link's state;
- common.py: the hub-owned models and the running statuses both sides use.

Every public name is re-exported here, so callers write `scale_units.X` (with
`from integration.scale_units import services as scale_units`) or import X from here.
"""

from integration.scale_units.services.common import HUB_OWNED, RUNNING
from integration.scale_units.services.edge import (
    HUB_STATUSES,
    ORDER_HUB_FIELDS,
    SYNC_ACTOR,
    ApplySummary,
    PackageRefused,
    forward_record,
    package_apply_one,
    package_cancel,
    package_process_again,
    packages_apply,
    registration_payload,
)
from integration.scale_units.services.hub import (
    SENT_TRANSITIONS,
    Registered,
    order_package_effect,
    package_payload,
    package_reference_enqueue,
    packages_reference_refresh,
    packages_take,
    scale_unit_of,
    scale_unit_register,
    scale_units_status,
)
from integration.scale_units.services.link import (
    SYNC_LOCK,
    ForwardSummary,
    HubUnreachable,
    SyncSummary,
    backlog,
    forward_retry,
    hub_forward,
    hub_link,
    hub_pull,
    hub_sync,
)

__all__ = [
    "HUB_OWNED",
    "HUB_STATUSES",
    "ORDER_HUB_FIELDS",
    "RUNNING",
    "SENT_TRANSITIONS",
    "SYNC_ACTOR",
    "SYNC_LOCK",
    "ApplySummary",
    "ForwardSummary",
    "HubUnreachable",
    "PackageRefused",
    "Registered",
    "SyncSummary",
    "backlog",
    "forward_record",
    "forward_retry",
    "hub_forward",
    "hub_link",
    "hub_pull",
    "hub_sync",
    "order_package_effect",
    "package_apply_one",
    "package_cancel",
    "package_payload",
    "package_process_again",
    "package_reference_enqueue",
    "packages_apply",
    "packages_reference_refresh",
    "packages_take",
    "registration_payload",
    "scale_unit_of",
    "scale_unit_register",
    "scale_units_status",
]
