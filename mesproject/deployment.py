"""The deployment's role (hub or scale unit) and the rules that follow from it for every app:
data that originates on the hub is read-only on a scale unit, and the back office (approval,
transfer) stays on the hub."""

from django.conf import settings

from .errors import NotAllowed


def is_scale_unit() -> bool:
    return settings.MES_ROLE == "scale_unit"


def refuse_hub_owned(what: str) -> None:
    """Raise on a scale unit: `what` comes from the hub and is changed there only."""
    if is_scale_unit():
        raise NotAllowed(
            f"{what} comes from the hub and is read-only on scale unit "
            f"{settings.MES_SCALE_UNIT_ID}: change it on the hub ({settings.MES_HUB_URL}).",
            code="hub_owned",
            fields={"scale_unit": settings.MES_SCALE_UNIT_ID},
        )


def refuse_off_hub(what: str) -> None:
    """Raise on a scale unit: `what` belongs to the hub's back office (the Finalize phase:
    approval, transfer, inventory and financial updates)."""
    if is_scale_unit():
        raise NotAllowed(
            f"{what} is done on the hub ({settings.MES_HUB_URL}), where the registrations of "
            f"scale unit {settings.MES_SCALE_UNIT_ID} arrive.",
            code="hub_only",
            fields={"scale_unit": settings.MES_SCALE_UNIT_ID},
        )
