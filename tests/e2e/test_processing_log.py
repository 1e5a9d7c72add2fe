"""A supervisor in the browser finds a failed registration in the processing log, fixes its
cause and processes it again; a real Celery worker process then processes it and the
registration it held."""

import time

import pytest
from playwright.sync_api import expect

from execution.choices import RegistrationStatus
from mesproject.roles import SUPERVISOR
from tests.execution.test_processing_log import Scenario
from tests.test_celery_worker import start_worker

from .conftest import screenshot, sign_in, user_with_role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_failed_registration_is_processed_again_from_the_log(page):
    scenario = Scenario()
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam")
    page.goto("/floor/processing-log/?status=failed")
    row = page.get_by_role("row").filter(has_text="insufficient_stock")
    expect(row).to_have_count(1)
    screenshot(page, "processing-log-failed")

    scenario.fix_the_cause()  # the missing stock arrives
    worker = start_worker()
    try:
        row.get_by_role("button", name="Process again").click()
        expect(page.locator(".message.success")).to_contain_text(
            "1 registration(s) queued to process again"
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if scenario.status(scenario.held) == RegistrationStatus.PROCESSED:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert scenario.status(scenario.failed) == RegistrationStatus.PROCESSED
    assert scenario.status(scenario.held) == RegistrationStatus.PROCESSED
    page.goto("/floor/processing-log/?status=failed")
    expect(page.locator("table.data caption")).to_contain_text("0 registrations")
