"""Session timeouts (SECURITY C3): organisers (and exhibitor owners/admins) are signed out
after 30 minutes idle and 12 hours in all; buyers keep the cookie's 14 days."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.urls import reverse

from fair.session_limits import AUTH_AT, PRIVILEGED, SEEN_AT
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db

PREFERENCES = "account_preferences"


def _age(client, *, seen_ago: float, auth_ago: float) -> None:
    session = client.session
    now = time.time()
    session[SEEN_AT] = int(now - seen_ago)
    session[AUTH_AT] = int(now - auth_ago)
    session.save()


def _signed_in(client) -> bool:
    response = client.get(reverse(PREFERENCES))
    return response.status_code == 200


def test_sign_in_marks_organisers_as_privileged_and_buyers_not(client):
    client.force_login(make_organiser())
    assert client.session[PRIVILEGED] is True
    client.logout()
    client.force_login(make_buyer())
    assert client.session[PRIVILEGED] is False


def test_organiser_idle_for_31_minutes_is_signed_out_with_a_message(client):
    client.force_login(make_organiser())
    _age(client, seen_ago=31 * 60, auth_ago=31 * 60)

    response = client.get(reverse(PREFERENCES), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "You were signed out after 30 minutes without activity." in response.content.decode()
    assert not _signed_in(client)


def test_organiser_active_within_30_minutes_stays_and_last_seen_moves(client):
    client.force_login(make_organiser())
    _age(client, seen_ago=29 * 60, auth_ago=5 * 3600)

    assert _signed_in(client)
    assert time.time() - client.session[SEEN_AT] < 5


def test_organiser_is_signed_out_after_12_hours_even_when_active(client):
    client.force_login(make_organiser())
    _age(client, seen_ago=10, auth_ago=12 * 3600 + 60)

    response = client.get(reverse(PREFERENCES), follow=True)

    assert "sessions of organisers and exhibitor admins last 12 hours" in response.content.decode()
    assert not _signed_in(client)


def test_buyer_idle_for_hours_stays_signed_in_within_the_cookie_age(client):
    client.force_login(make_buyer())
    _age(client, seen_ago=5 * 3600, auth_ago=13 * 24 * 3600)

    assert _signed_in(client)
    assert settings.SESSION_COOKIE_AGE <= 30 * 24 * 3600


def test_exhibitor_owners_and_admins_are_privileged_and_sales_staff_not(client):
    from tests.exhibitors.factories import add_member, make_exhibitor, owner_of

    exhibitor = make_exhibitor()
    for user, privileged in (
        (owner_of(exhibitor), True),
        (add_member(exhibitor, "admin"), True),
        (add_member(exhibitor, "sales"), False),
    ):
        client.force_login(user)
        assert client.session[PRIVILEGED] is privileged
        client.logout()
