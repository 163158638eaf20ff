"""Login throttling (django-axes): 10 failures per username and address lock that pair."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"


def _login(client: Client, username: str, password: str, ip: str = ATTACKER, **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def _fail(client: Client, username: str, times: int, ip: str = ATTACKER):
    """Fail ``times`` times; the first nine show the form again, the tenth locks."""
    for n in range(1, times + 1):
        response = _login(client, username, "wrong-password", ip)
        assert response.status_code == (429 if n >= 10 else 200)
    return response


def test_ten_failures_lock_the_account_from_that_address_with_a_clear_message(
    make_clinician,
):
    user = make_clinician("throttled1")
    client = Client()
    tenth = _fail(client, user.username, 10)
    assert "Too many failed log-ins" in tenth.content.decode()
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed log-ins" in body
    assert "failed 10 times in a row" in body
    assert "refused for 15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_nine_failures_then_success_logs_in_and_resets_the_count(make_clinician):
    user = make_clinician("throttled2")
    client = Client()
    _fail(client, user.username, 9)
    assert _login(client, user.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    _fail(client, user.username, 9)
    # Without the reset these would be failures 10-18 and the login refused.
    assert _login(client, user.username, PASSWORD).status_code == 302


def test_lockout_does_not_reach_the_same_account_from_another_address(make_clinician):
    user = make_clinician("throttled3")
    _fail(Client(), user.username, 10)
    assert _login(Client(), user.username, PASSWORD, ATTACKER).status_code == 429
    elsewhere = Client()
    assert (
        _login(elsewhere, user.username, PASSWORD, "198.51.100.20").status_code == 302
    )
    assert elsewhere.session["_auth_user_id"] == str(user.pk)


def test_a_forged_forwarded_header_does_not_reset_the_count(make_clinician):
    user = make_clinician("throttled4")
    client = Client()
    for n in range(10):
        _login(
            client,
            user.username,
            "wrong-password",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = _login(
        client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200"
    )
    assert response.status_code == 429


def test_force_login_is_not_throttled(make_clinician, client):
    user = make_clinician("throttled5")
    _fail(Client(), user.username, 10, ip="127.0.0.1")
    client.force_login(user)
    assert client.get(reverse("home")).context["user"] == user
