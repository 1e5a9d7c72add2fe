"""Never a 500 on the pages: each input that once made a server error is now a form error or
a message, and changes nothing (issue 15, item 7)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from execution.models import AttendanceDay
from integration.choices import MessageStatus
from integration.models import OutboxMessage
from mesproject.roles import IT, SUPERVISOR
from tests.integration.helpers import role_user

from .test_it import Stream

pytestmark = pytest.mark.django_db


def signed_in(client, role):
    client.force_login(role_user(role))
    client.raise_request_exception = False
    return client


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_dashboard_for_the_last_day_of_the_calendar_is_a_form_error(client):
    signed_in(client, SUPERVISOR)
    for day in ("9999-12-31", "0001-01-01"):
        response = client.get(reverse("dashboard:index"), {"date": day})
        assert response.status_code == 200
        assert "Enter a date between" in response.content.decode()


def test_attendance_calculate_for_the_last_day_of_the_calendar_is_refused(client):
    signed_in(client, SUPERVISOR)
    response = client.post(
        reverse("supervisor:attendance_calculate"), {"date": "9999-12-31"}, follow=True
    )
    assert response.status_code == 200
    assert any("Enter a date between" in m for m in flashed(response))
    assert not AttendanceDay.objects.exists()


@pytest.mark.parametrize(
    "payload, says",
    [
        ('{"qty": ' + "9" * 5000 + "}", "valid JSON"),
        ("[" * 5000 + "]" * 5000, "valid JSON"),
        ('{"wo_id": "WO\\u0000"}', "control character"),
    ],
)
def test_fixing_a_payload_with_json_the_server_cannot_hold_is_refused(client, payload, says):
    stream = Stream()
    signed_in(client, IT)
    before = OutboxMessage.objects.get(pk=stream.dead.pk).payload
    url = reverse("it:outbox_message_fix", args=[stream.dead.pk])
    response = client.post(url, {"payload": payload})
    assert response.status_code == 400
    assert any("not saved" in m for m in flashed(response))
    assert says in response.content.decode()
    message = OutboxMessage.objects.get(pk=stream.dead.pk)
    assert (message.payload, message.status) == (before, MessageStatus.DEAD_LETTER)


@pytest.mark.parametrize(
    "role, url, field",
    [
        (IT, "it:outbox_retry_selected", "message"),
        (SUPERVISOR, "floor:registrations_process_again", "registration"),
        (SUPERVISOR, "floor:registrations_cancel", "registration"),
        (SUPERVISOR, "supervisor:attendance_approve", "day"),
        (SUPERVISOR, "supervisor:attendance_unapprove", "day"),
        (SUPERVISOR, "supervisor:attendance_transfer", "day"),
        (SUPERVISOR, "supervisor:attendance_export", "day"),
        (SUPERVISOR, "notifications:read", "notification"),
    ],
)
@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "9" * 30])
def test_a_bulk_selection_of_no_real_id_is_ignored(client, role, url, field, value):
    signed_in(client, role)
    for body in ({field: value}, {"only": value}):
        response = client.post(reverse(url), body)
        assert response.status_code in (200, 302), (url, body, response.status_code)
