"""Two-step verification (SECURITY B7): organisers must set up and enter an authenticator
code before anything else; a code works once; more than 5 wrong codes lock verification."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.urls import reverse

from fair.mfa import SESSION_MFA_AT, _secret
from fair.models import TotpDevice
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.MFA_REQUIRED = True
    from django.core.cache import cache

    cache.clear()


def _code(user, at: float | None = None) -> str:
    device = TotpDevice.objects.get(user=user)
    return pyotp.TOTP(_secret(device)).at(at or time.time())


def _set_up(client, organiser) -> None:
    client.get(reverse("mfa_setup"))
    response = client.post(reverse("mfa_setup"), {"code": _code(organiser), "next": "/"})
    assert response.status_code == 302


def test_organiser_without_a_device_is_sent_to_set_up_first(client):
    organiser = make_organiser()
    client.force_login(organiser)

    response = client.get(reverse("organiser:dashboard"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_setup')}?next=%2Forganiser%2Fdashboard%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code, inline
    assert page["Cache-Control"].startswith("max-age=0")
    api = client.get(reverse("api_me"))
    assert api.status_code == 403


def test_setup_with_a_right_code_opens_the_organisers_area(client):
    organiser = make_organiser()
    client.force_login(organiser)
    client.get(reverse("mfa_setup"))

    wrong = client.post(reverse("mfa_setup"), {"code": "000000"})
    assert "That code is not right." in wrong.content.decode()
    assert TotpDevice.objects.get(user=organiser).confirmed_at is None

    response = client.post(
        reverse("mfa_setup"), {"code": _code(organiser), "next": "/organiser/dashboard/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/organiser/dashboard/"
    assert TotpDevice.objects.get(user=organiser).confirmed_at is not None
    assert SESSION_MFA_AT in client.session
    assert client.get(reverse("organiser:dashboard")).status_code == 200


def test_next_sign_in_asks_for_a_code_and_a_code_works_once(client):
    organiser = make_organiser()
    client.force_login(organiser)
    _set_up(client, organiser)
    client.logout()

    client.force_login(organiser)
    assert client.get(reverse("organiser:dashboard"))["Location"].startswith(reverse("mfa_verify"))
    # The code of the next step (the set-up used this one): accepted once...
    code = _code(organiser, time.time() + 30)
    assert client.post(reverse("mfa_verify"), {"code": code}).status_code == 302
    client.logout()
    client.force_login(organiser)
    # ...and refused the second time.
    again = client.post(reverse("mfa_verify"), {"code": code})
    assert again.status_code == 200
    assert "This code was already used." in again.content.decode()
    assert client.get(reverse("organiser:dashboard")).status_code == 302


def test_six_wrong_codes_lock_verification_even_for_the_right_code(client):
    organiser = make_organiser()
    client.force_login(organiser)
    _set_up(client, organiser)
    client.logout()
    client.force_login(organiser)

    for _ in range(5):
        response = client.post(reverse("mfa_verify"), {"code": "123456"})
        assert "That code is not right." in response.content.decode()
    locked = client.post(reverse("mfa_verify"), {"code": _code(organiser, time.time() + 30)})

    assert "Too many wrong codes. Try again in 15 minutes." in locked.content.decode()
    assert client.get(reverse("organiser:dashboard")).status_code == 302


def test_buyers_are_never_asked_for_a_code(client):
    client.force_login(make_buyer())
    assert client.get(reverse("account_preferences")).status_code == 200
    assert not TotpDevice.objects.exists()


def test_mfa_off_asks_nobody(client, settings):
    settings.MFA_REQUIRED = False
    client.force_login(make_organiser())
    assert client.get(reverse("organiser:dashboard")).status_code == 200


def test_setup_form_posts_pass_the_csrf_origin_check_a_browser_makes():
    """A browser sends ``Origin: null`` on a form post from a page with
    ``Referrer-Policy: no-referrer``, which Django's CSRF check refuses: the set-up page must
    keep the site's policy so the same-origin post goes through."""
    from django.test import Client

    organiser = make_organiser()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(organiser)
    page = browser.get(reverse("mfa_setup"))
    assert page.get("Referrer-Policy", "") != "no-referrer"
    origin = "null" if page.get("Referrer-Policy") == "no-referrer" else "http://testserver"

    response = browser.post(
        reverse("mfa_setup"),
        {"code": _code(organiser), "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
        HTTP_ORIGIN=origin,
    )

    assert response.status_code == 302
    assert TotpDevice.objects.get(user=organiser).confirmed_at is not None
