"""A B2MML schedule from the ERP: each request becomes a work order, all of them or none."""

from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction

from integration.b2mml.schedule import schedule_parse
from integration.erp.services.work_orders import WorkOrderInput, work_order_create
from inventory.models import Item
from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from orders.models import ProductionOrder


@transaction.atomic
def b2mml_schedule_import(*, xml: bytes, actor: Actor) -> list[tuple[ProductionOrder, bool]]:
    """Create (or, while Created, update) the work order of every request of the document,
    under the rules of the JSON create; (order, created) per request, in document order.

    The whole document is parsed before anything is written; a refused request refuses the
    document, its error naming the request in fields.request_id.
    """
    return [_create(data, actor) for data in schedule_parse(xml)]


def _current_revision(part_number: str) -> str:
    """Empty for an unknown part: the create then refuses naming the part."""
    revision = Item.objects.filter(part_number=part_number).values_list("revision", flat=True)
    return revision.first() or ""


def _create(data: WorkOrderInput, actor: Actor) -> tuple[ProductionOrder, bool]:
    data = replace(data, revision=data.revision or _current_revision(data.part_number))
    try:
        return work_order_create(data=data, actor=actor)
    except ApplicationError as error:
        error.fields = {**error.fields, "request_id": data.wo_id}
        raise
    except ValidationError as error:
        # A value the model refuses (1.5 pieces): the same 400 the JSON create gives,
        # naming the request as well.
        fields = error.message_dict if hasattr(error, "error_dict") else {}
        raise ApplicationError(
            f"Request {data.wo_id}: {'; '.join(error.messages)}",
            code="invalid",
            fields={**fields, "request_id": data.wo_id},
        ) from error
