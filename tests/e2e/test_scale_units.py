"""Hub and scale units in the browser: IT reads the scale units' status on the hub; on a
scale unit, the supervisor reads the backlog and cancels a package that failed."""

import json
import uuid

import pytest
from django.core import serializers
from django.utils import timezone
from playwright.sync_api import expect

from execution.models import Job
from integration.choices import PackageStatus
from integration.models import HubForward, ReceivedPackage
from integration.scale_units.services import scale_unit_register
from mesproject.roles import IT, SUPERVISOR
from mesproject.workplace.roles import roles_ensure
from tests.execution.floor import make_floor

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sees_each_scale_unit_and_its_backlog(page):
    roles_ensure()
    floor = make_floor(workers=1, stock=0)
    scale_unit_register(code="PLANT2", name="Plant 2", sites=[floor.site])
    user_with_role(IT, "it-ops")
    sign_in(page, "it-ops")
    page.get_by_role("link", name="Scale units").click()
    expect(page.get_by_role("heading", name="Scale units")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="PLANT2")
    expect(row).to_contain_text(floor.site.code)
    expect(row).to_contain_text("never")  # it has not called yet
    screenshot(page, "scale-units-status")


@pytest.mark.urls("tests.integration.scale_unit_urls")
def test_supervisor_on_a_scale_unit_cancels_a_failed_package(page, settings):
    settings.MES_ROLE = "scale_unit"
    settings.MES_SCALE_UNIT_ID = "PLANT2"
    settings.MES_HUB_URL = "http://127.0.0.1:9"
    settings.MES_HUB_TOKEN = "unused"
    orphan = Job(pk=10_000_002, order_id=9_999_997, operation_number=10)
    failed = ReceivedPackage.objects.create(
        hub_id=7,
        kind="order",
        order_number="PO-LOST",
        reason="release",
        payload={"objects": json.loads(serializers.serialize("json", [orphan]))},
        status=PackageStatus.FAILED,
        error="Order PO-LOST is not on this scale unit.",
        created_on_hub_at=timezone.now(),
    )
    for _ in range(3):
        HubForward.objects.create(
            registration_uuid=uuid.uuid4(),
            kind="clock_in",
            occurred_at=timezone.now(),
            payload={},
        )
    user_with_role(SUPERVISOR, "line-boss")
    sign_in(page, "line-boss")
    page.get_by_role("link", name="Hub link").click()
    expect(page.locator("#backlog-to-hub")).to_contain_text("3")
    row = page.get_by_role("row").filter(has_text="PO-LOST")
    expect(row).to_contain_text("Failed")
    screenshot(page, "scale-unit-hub-link")
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Package #7 canceled.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="PO-LOST")).to_contain_text("Canceled")
    assert ReceivedPackage.objects.get(pk=failed.pk).status == PackageStatus.CANCELED
