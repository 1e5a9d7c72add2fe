"""Signing in and the header every page shares."""

import pytest
from playwright.sync_api import expect

from integration.services.notifications import notify
from mesproject.roles import IT, SUPERVISOR

from .conftest import screenshot, sign_in, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_password_is_refused_and_a_right_one_signs_in(page):
    user_with_role(SUPERVISOR, "sam")
    sign_in(page, "sam", "wrong")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    screenshot(page, "sign-in")
    sign_in(page, "sam")
    page.goto("/notifications/")
    expect(page.get_by_text("Signed in as")).to_contain_text("sam")


def test_the_header_counts_unread_notifications_and_they_can_be_read(page):
    user_with_role(IT, "ivy")
    notify(kind="dead_letter", roles=[IT], title="Message 7 of WO-1 in the dead-letter queue")
    notify(kind="dead_letter", roles=[SUPERVISOR], title="Not for IT")
    sign_in(page, "ivy")
    page.goto("/notifications/?unread=1")
    link = page.locator("#notifications-link")
    expect(link).to_contain_text("1")
    link.click()
    expect(page.get_by_role("table")).to_contain_text("Message 7 of WO-1")
    expect(page.get_by_role("table")).not_to_contain_text("Not for IT")
    screenshot(page, "notifications")
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator(".message.success")).to_contain_text("1 notification(s) marked as read")
    expect(page.locator("#notifications-link .count")).to_have_count(0)
