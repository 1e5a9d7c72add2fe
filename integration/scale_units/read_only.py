"""On a scale unit, what the hub owns is read-only in the admin too (the services refuse it
anyway): the pages show it, nobody adds, changes or deletes it here."""

from django.contrib import admin


def _no(*_args, **_kwargs) -> bool:
    return False


def protect_hub_owned_admin(site: admin.AdminSite = admin.site) -> list[type]:
    from execution.models import Job
    from integration.scale_units.services import HUB_OWNED

    protected = []
    for model in HUB_OWNED:
        model_admin = site._registry.get(model)
        # A job's place in the operational plan is the floor supervisor's, here as on the hub.
        if model_admin is None or model is Job:
            continue
        model_admin.has_add_permission = _no
        model_admin.has_change_permission = _no
        model_admin.has_delete_permission = _no
        model_admin.get_actions = lambda request: {}
        protected.append(model)
    return protected
