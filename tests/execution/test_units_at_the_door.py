"""A quantity in the order's unit must also fit the product's unit: the door refuses what
processing could not book (a quarter of a bike), instead of failing it later."""

from decimal import Decimal as D

import pytest

from execution.choices import RegistrationStatus
from execution.models import RawRegistration
from inventory.models import UnitConversion, UnitOfMeasure
from tests.execution.floor import make_floor

pytestmark = pytest.mark.django_db


def test_a_quantity_that_is_a_fraction_of_a_product_unit_is_refused_at_the_door():
    floor = make_floor()
    kg = UnitOfMeasure.objects.create(code="KG-T", name="kilogram", decimal_places=3)
    UnitConversion.objects.create(
        item=floor.product, from_unit=kg, to_unit=floor.product.unit, factor=D("2.5")
    )
    order = floor.order(4, unit=kg)  # 10 bikes
    worker = floor.workers[0]
    floor.clock_in(worker, 0)
    job = floor.job(order, 10)

    start = floor.post("start_job", at=1, expect=None, badge_id=worker, job=job, quantity="0.1")
    floor.post("start_job", at=2, badge_id=worker, job=job, quantity="0.8")  # two bikes
    progress = floor.post(
        "report_progress", at=3, expect=None, badge_id=worker, job=job, quantity_good="0.1"
    )
    scrap = floor.post(
        "report_progress",
        at=4,
        expect=None,
        badge_id=worker,
        job=job,
        quantity_scrap="0.1",
        reason_code=floor.scrap_reason,
    )
    floor.process()

    answers = [(r.status_code, r.json().get("code")) for r in (start, progress, scrap)]
    assert answers == [(400, "quantity_precision")] * 3
    assert not RawRegistration.objects.filter(status=RegistrationStatus.FAILED).exists()
