"""Sign-in throttling (django-axes) on /accounts/login/ and /admin/login/, and the API's
throttle per role (429 with the uniform error body)."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from mesproject.roles import ERP_INTEGRATION, OPERATOR
from tests.api import new_key, token_client
from tests.integration.helpers import role_user

pytestmark = pytest.mark.django_db

RIGHT = "the-right-password"


def _user(**extra):
    return get_user_model().objects.create_user(
        f"user-{uuid.uuid4().hex[:8]}", password=RIGHT, **extra
    )


def _sign_in(client, url, username, password, ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_thirty_wrong_passwords_lock_the_right_one_out(client, settings, url):
    user = _user(is_staff=True)
    for _ in range(30):
        wrong = _sign_in(client, url, user.username, "guess")
        assert wrong.status_code in (200, 429)
    locked = _sign_in(client, url, user.username, RIGHT)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in locked" in page and "Too many wrong passwords" in page
    assert "_auth_user_id" not in client.session


def test_the_lock_starts_at_the_limit_and_holds_one_username_from_one_address(client, settings):
    user = _user()
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, url, user.username, "guess").status_code == 200
    assert _sign_in(client, url, user.username, "guess").status_code == 429
    assert _sign_in(client, url, user.username, RIGHT).status_code == 429
    # The same user from another device is not locked out by a guesser elsewhere.
    assert _sign_in(client, url, user.username, RIGHT, ip="10.0.0.2").status_code == 302


def test_a_right_password_resets_the_count(client, settings):
    user = _user()
    url = reverse("login")
    for _ in range(3):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _sign_in(client, url, user.username, "guess").status_code == 200
        assert _sign_in(client, url, user.username, RIGHT).status_code == 302
        client.logout()


# --- The API ---------------------------------------------------------------------------------


def _fresh_budget(user) -> None:
    # Redis outlives test databases, whose user ids repeat: start from an empty history.
    for role in ("operator", "erp-integration", "user", "terminal", "scale-unit"):
        cache.delete(f"throttle_{role}_{user.pk}")


def test_the_api_throttles_each_caller_at_its_roles_rate(settings):
    settings.MES_API_THROTTLE_RATES = {
        **settings.MES_API_THROTTLE_RATES,
        "operator": "3/min",
        "erp-integration": "5/min",
    }
    operator, erp = role_user(OPERATOR), role_user(ERP_INTEGRATION)
    _fresh_budget(operator)
    _fresh_budget(erp)
    terminal = token_client(operator)
    for _ in range(3):
        answer = terminal.post("/api/v1/registrations/", {}, format="json", headers=new_key())
        assert answer.status_code == 400
    throttled = terminal.post("/api/v1/registrations/", {}, format="json", headers=new_key())
    assert throttled.status_code == 429
    body = throttled.json()
    assert body["code"] == "throttled" and body["message"] and body["fields"] == {}
    assert int(throttled["Retry-After"]) > 0
    # Another caller, another role: its own budget.
    client = token_client(erp)
    answers = [client.get("/api/v1/work-orders/NO-SUCH/").status_code for _ in range(6)]
    assert answers == [404] * 5 + [429]


def test_a_throttled_write_is_not_kept_under_its_key(settings):
    settings.MES_API_THROTTLE_RATES = {**settings.MES_API_THROTTLE_RATES, "operator": "1/min"}
    operator = role_user(OPERATOR)
    _fresh_budget(operator)
    client = token_client(operator)
    first = client.post("/api/v1/registrations/", {}, format="json", headers=new_key())
    assert first.status_code == 400
    # The registration's own UUID is its idempotency key.
    body = {"registration_uuid": str(uuid.uuid4()), "kind": "clock_in"}
    assert client.post("/api/v1/registrations/", body, format="json").status_code == 429
    settings.MES_API_THROTTLE_RATES = {**settings.MES_API_THROTTLE_RATES, "operator": "9/min"}
    again = client.post("/api/v1/registrations/", body, format="json")
    assert again.status_code == 400 and "Idempotent-Replayed" not in again  # run, not replayed


def test_the_api_serves_calls_while_the_throttles_cache_is_down(settings):
    """Found by the soak: while Redis restarted, every throttled call answered 500. A throttle
    is a guard, not a dependency: without its cache the call is served."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    client = token_client(role_user(ERP_INTEGRATION))
    assert client.get("/api/v1/work-orders/NO-SUCH/").status_code == 404
