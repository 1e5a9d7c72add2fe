"""What each role (mesproject/roles.py) may do: its Django group and the group's permissions.

Permissions are model permissions (`app_label.action_model`); the pages of later issues check
the same groups on the server.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from mesproject.roles import ERP_INTEGRATION, IT, OPERATOR, PLANNER, SUPERVISOR

_MASTER_DATA = {
    "inventory": ["unitofmeasure", "unitconversion", "item", "site", "warehouse", "location"],
    "orders": ["resource", "reasoncode", "bom", "bomline", "route", "routeoperation"],
}
_ORDERS = ["productionorder", "productionordermaterial", "productionorderstep"]
_JOURNALS = [
    "processinglogentry",
    "routecardline",
    "pickinglistline",
    "reportasfinishedline",
    "genealogylink",
    "logbookentry",
    "jobactivity",
    "materiallinestate",
]
_FLOOR_DATA = {
    "execution": ["payagreement", "worker", "terminal", "absencecode", "indirectactivity"]
}


def _codenames(actions, models_by_app):
    return [
        f"{app}.{action}_{model}"
        for app, models in models_by_app.items()
        for model in models
        for action in actions
    ]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    PLANNER: [
        *_codenames(["view", "add", "change"], _MASTER_DATA),
        *_codenames(["view"], _FLOOR_DATA),
        "execution.view_job",
        *_codenames(["view", "add", "change"], {"orders": _ORDERS}),
        "orders.view_ordertransitionlog",
        # The ERP messages of an order, shown on the planner's order page.
        "integration.view_outboxmessage",
    ],
    SUPERVISOR: [
        *_codenames(["view"], _MASTER_DATA),
        *_codenames(["view", "change"], {"orders": _ORDERS}),
        "orders.view_ordertransitionlog",
        *_codenames(["view", "add", "change"], _FLOOR_DATA),
        "execution.view_job",
        "execution.change_job",
        *_codenames(["view", "add", "change"], {"execution": ["rawregistration"]}),
        # Reverse a processed registration (execution/services/corrections.py).
        "execution.correct_rawregistration",
        *_codenames(["view"], {"execution": _JOURNALS}),
        *_codenames(["view", "change"], {"execution": ["attendanceday"]}),
        *_codenames(["view", "change"], {"integration": ["changerequest", "outboxmessage"]}),
        *_codenames(["view"], {"integration": ["notification", "reconciliationrun"]}),
        # On a scale unit: the packages from the hub (Process / Cancel) and the queue to it.
        *_codenames(["view", "change"], {"integration": ["receivedpackage", "hubforward"]}),
    ],
    OPERATOR: ["execution.add_rawregistration"],
    # The ERP's integration user: work orders and the master data they need, the WIP
    # snapshot; no admin, no floor pages.
    ERP_INTEGRATION: [
        *_codenames(["view", "add", "change"], {"orders": ["productionorder", "bom", "route"]}),
        *_codenames(["view", "add", "change"], {"inventory": ["item"]}),
        "integration.add_erpwipsnapshot",
    ],
    IT: [
        *_codenames(["view"], _MASTER_DATA),
        *_codenames(["view"], {"orders": [*_ORDERS, "ordertransitionlog"]}),
        "integration.view_heartbeat",
        *_codenames(["view"], {"integration": ["scaleunit", "hubpackage"]}),
        *_codenames(["view", "change"], {"integration": ["receivedpackage", "hubforward"]}),
        *_codenames(["view", "change"], {"integration": ["outboxmessage"]}),
        *_codenames(
            ["view"],
            {
                "integration": [
                    "idempotencykey",
                    "notification",
                    "erpwipsnapshot",
                    "materialissuebatch",
                    "changerequest",
                ]
            },
        ),
        *_codenames(["view", "add"], {"integration": ["reconciliationrun"]}),
        # The adjustment journals the reconciliation writes, linked from its run page.
        "inventory.view_adjustmentjournal",
        *_codenames(["view", "add", "change"], {"integration": ["defectreasonmapping"]}),
        *_codenames(
            ["view", "add", "change"],
            {"django_celery_beat": ["periodictask", "intervalschedule", "crontabschedule"]},
        ),
    ],
}


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """Create or refresh every role group with exactly its permissions (idempotent)."""
    groups = {}
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
        groups[role] = group
    return groups
