"""Accounts: buyer sign-up, log-in (case-insensitive email, throttling), log-out, password
reset and the preferences page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from buyers.models import BuyerProfile
from buyers.services import buyer_sign_up
from fair.exceptions import ApplicationError
from fair.models import Category, User
from tests.factories import PASSWORD, make_buyer, make_user

DUPLICATE_EMAIL_FORM_MESSAGE = (
    "An account with this email address already exists. Log in, or reset the password if you "
    "forgot it."
)
INVALID_LOGIN_MESSAGE = "That email and password do not match an account. Check both and try again."
LOCKOUT_HEADING = "Too many failed log-in attempts"
FAILURE_LIMIT = 10


def sign_up_data(**overrides) -> dict:
    data = {
        "email": "anne@example.test",
        "full_name": "Anne Buyer",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "company": "Buyer Co",
        "country": "SA",
        "buyer_type": "importer",
        "interests": [],
    }
    data.update(overrides)
    return data


def log_in(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def logged_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def age_login_attempts(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes))


# --- Sign-up ---


@pytest.mark.django_db
def test_sign_up_valid_form_creates_user_and_profile_and_logs_in(client):
    interests = list(Category.objects.filter(kind=Category.Kind.CATEGORY).order_by("position")[:2])

    response = client.post(
        reverse("signup"), sign_up_data(interests=[category.pk for category in interests])
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email="anne@example.test")
    assert user.full_name == "Anne Buyer"
    assert user.language == "en"
    assert user.check_password(PASSWORD)
    profile = BuyerProfile.objects.get(user=user)
    assert profile.company == "Buyer Co"
    assert profile.country.code == "SA"
    assert profile.buyer_type == "importer"
    assert set(profile.interests.values_list("pk", flat=True)) == {c.pk for c in interests}
    assert profile.show_identity_in_rooms is False
    assert profile.share_contact_in_negotiations is False
    assert logged_in_user_id(client) == str(user.pk)


@pytest.mark.django_db
def test_sign_up_consents_ticked_stores_them_on(client):
    response = client.post(
        reverse("signup"),
        sign_up_data(show_identity_in_rooms="on", share_contact_in_negotiations="on"),
    )

    assert response.status_code == 302
    profile = BuyerProfile.objects.get(user__email="anne@example.test")
    assert profile.show_identity_in_rooms is True
    assert profile.share_contact_in_negotiations is True


@pytest.mark.django_db
def test_sign_up_same_email_other_letter_case_is_refused_and_creates_nothing(client):
    make_buyer(email="anne@example.test")
    users_before, profiles_before = User.objects.count(), BuyerProfile.objects.count()

    response = client.post(reverse("signup"), sign_up_data(email="ANNE@Example.Test"))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [DUPLICATE_EMAIL_FORM_MESSAGE]
    assert "An account with this email address already exists" in response.content.decode()
    assert User.objects.count() == users_before
    assert BuyerProfile.objects.count() == profiles_before
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_sign_up_mismatched_passwords_is_refused_with_message(client):
    response = client.post(reverse("signup"), sign_up_data(password2=PASSWORD + "x"))

    assert response.status_code == 200
    assert response.context["form"].errors == {"password2": ["The two passwords differ."]}
    assert "The two passwords differ." in response.content.decode()
    assert User.objects.filter(email__iexact="anne@example.test").exists() is False


@pytest.mark.django_db
def test_sign_up_common_password_is_refused_with_message(client):
    response = client.post(
        reverse("signup"), sign_up_data(password1="qwertyuiop", password2="qwertyuiop")
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"password1": ["This password is too common."]}
    assert "This password is too common." in response.content.decode()
    assert User.objects.filter(email__iexact="anne@example.test").exists() is False


@pytest.mark.django_db
def test_create_user_same_email_other_letter_case_raises_integrity_error():
    make_user(email="anne@example.test")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="Anne@EXAMPLE.test", password=PASSWORD, full_name="Other")

    assert User.objects.filter(email__iexact="anne@example.test").count() == 1


@pytest.mark.django_db
def test_user_save_same_email_other_letter_case_hits_database_constraint():
    make_user(email="anne@example.test")

    with pytest.raises(IntegrityError, match="fair_user_email_ci_unique"), transaction.atomic():
        User(email="ANNE@example.test", full_name="Other").save()

    assert User.objects.filter(email__iexact="anne@example.test").count() == 1


@pytest.mark.django_db
def test_create_user_different_emails_both_created():
    make_user(email="anne@example.test")

    make_user(email="anne2@example.test")

    assert User.objects.filter(email__istartswith="anne").count() == 2


@pytest.mark.django_db
def test_buyer_sign_up_duplicate_email_raises_application_error():
    make_buyer(email="anne@example.test")
    users_before, profiles_before = User.objects.count(), BuyerProfile.objects.count()

    with pytest.raises(ApplicationError) as error:
        buyer_sign_up(
            email="ANNE@example.test",
            password=PASSWORD,
            full_name="Other Anne",
            company="Other Co",
            country="AE",
            buyer_type="retailer",
        )

    assert error.value.code == "duplicate_email"
    assert error.value.message == "An account with this email address already exists."
    assert User.objects.count() == users_before
    assert BuyerProfile.objects.count() == profiles_before


@pytest.mark.django_db
def test_buyer_sign_up_new_email_creates_user_and_profile():
    user = buyer_sign_up(
        email="new@example.test",
        password=PASSWORD,
        full_name="  New Buyer ",
        company=" New Co ",
        country="AE",
        buyer_type="retailer",
    )

    assert user.full_name == "New Buyer"
    assert user.buyer_profile.company == "New Co"
    assert user.buyer_profile.buyer_type == "retailer"


# --- Log-in ---


@pytest.mark.django_db
def test_login_email_in_other_letter_case_logs_in(client):
    user = make_buyer(email="anne@example.test")

    response = log_in(client, "ANNE@Example.TEST", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(user.pk)


@pytest.mark.django_db
def test_login_wrong_password_is_refused_with_message(client):
    make_buyer(email="anne@example.test")

    response = log_in(client, "anne@example.test", "wrong-password-1")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [INVALID_LOGIN_MESSAGE]
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_login_ten_wrong_passwords_locks_account_even_for_right_password(client):
    make_buyer(email="anne@example.test")

    statuses = [
        log_in(client, "anne@example.test", f"wrong-password-{n}").status_code
        for n in range(FAILURE_LIMIT)
    ]
    response = log_in(client, "anne@example.test", PASSWORD)

    # The 10th wrong password already answers with the lockout page.
    assert statuses == [200] * (FAILURE_LIMIT - 1) + [429]
    assert response.status_code == 429
    assert LOCKOUT_HEADING in response.content.decode()
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_login_nine_wrong_passwords_still_lets_owner_in(client):
    user = make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT - 1):
        log_in(client, "anne@example.test", f"wrong-password-{n}")

    response = log_in(client, "anne@example.test", PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


@pytest.mark.django_db
def test_login_failures_in_mixed_letter_case_count_against_one_account(client):
    make_buyer(email="anne@example.test")
    spellings = ["anne@example.test", "ANNE@example.test", "Anne@Example.Test"]
    for n in range(FAILURE_LIMIT):
        # A different address each time: only the per-account counter can add up to 10.
        log_in(client, spellings[n % 3], f"wrong-password-{n}", address=f"10.0.1.{n + 1}")

    response = log_in(client, "anne@example.test", PASSWORD, address="10.0.2.1")

    assert response.status_code == 429
    assert LOCKOUT_HEADING in response.content.decode()


@pytest.mark.django_db
def test_login_lockout_after_fifteen_minutes_lets_owner_in(client):
    user = make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT + 1):
        log_in(client, "anne@example.test", f"wrong-password-{n}")
    age_login_attempts(minutes=16)

    response = log_in(client, "anne@example.test", PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)
    assert AccessAttempt.objects.count() == 0


@pytest.mark.django_db
def test_login_lockout_before_fifteen_minutes_still_refuses_owner(client):
    make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT + 1):
        log_in(client, "anne@example.test", f"wrong-password-{n}")
    age_login_attempts(minutes=14)

    response = log_in(client, "anne@example.test", PASSWORD)

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


@pytest.mark.django_db
def test_login_wrong_passwords_for_many_accounts_from_one_address_locks_address(client):
    user = make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT):
        log_in(client, f"victim{n}@example.test", "wrong-password", address="10.0.3.3")

    response = log_in(client, "anne@example.test", PASSWORD, address="10.0.3.3")
    other_address = log_in(client, "anne@example.test", PASSWORD, address="10.0.3.4")

    assert response.status_code == 429
    assert LOCKOUT_HEADING in response.content.decode()
    assert other_address.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


@pytest.mark.django_db
def test_login_success_before_limit_resets_failure_count(client):
    user = make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT - 1):
        log_in(client, "anne@example.test", f"wrong-password-{n}")
    assert log_in(client, "anne@example.test", PASSWORD).status_code == 302
    client.logout()
    for n in range(FAILURE_LIMIT - 1):
        log_in(client, "anne@example.test", f"wrong-password-again-{n}")

    response = log_in(client, "anne@example.test", PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


# --- Log-out ---


@pytest.mark.django_db
def test_logout_get_does_not_log_out(client, buyer):
    client.force_login(buyer)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert logged_in_user_id(client) == str(buyer.pk)


@pytest.mark.django_db
def test_logout_post_logs_out(client, buyer):
    client.force_login(buyer)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) is None


# --- Password reset ---

RESET_LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


def normalised_page(html: str) -> str:
    """The page without what differs per request: CSRF tokens and the footer's clock."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)
    return re.sub(r'<time datetime="[^"]*">[^<]*</time>', "NOW", html)


@pytest.mark.django_db
def test_password_reset_known_address_sends_one_working_link(client):
    make_buyer(email="anne@example.test")

    response = client.post(reverse("password_reset"), {"email": "anne@example.test"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anne@example.test"]
    assert message.subject == "Reset your CloudFair password"
    link = RESET_LINK.search(message.body).group(1)
    confirm = client.get(link)
    assert confirm.status_code == 302
    set_password_url = confirm["Location"]
    assert set_password_url.endswith("/set-password/")
    new_password = "a-brand-new-passphrase-42"
    done = client.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    assert log_in(client, "anne@example.test", new_password).status_code == 302
    client.logout()
    assert log_in(client, "anne@example.test", PASSWORD).status_code == 200
    # The link works once.
    reused = client.get(link, follow=True)
    assert reused.context["validlink"] is False


@pytest.mark.django_db
def test_password_reset_unknown_address_answers_identically_and_sends_nothing(client):
    make_buyer(email="anne@example.test")
    known = client.post(reverse("password_reset"), {"email": "anne@example.test"}, follow=True)
    mail.outbox.clear()

    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.test"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert unknown.status_code == known.status_code == 200
    assert normalised_page(unknown.content.decode()) == normalised_page(known.content.decode())
    assert mail.outbox == []


# --- Preferences page ---


@pytest.mark.django_db
def test_preferences_page_saves_language_and_time_zone(client, buyer):
    client.force_login(buyer)

    response = client.post(
        reverse("account_preferences"),
        {"full_name": "Anne B.", "language": "ar", "time_zone": "Asia/Riyadh"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_preferences")
    assert response.cookies["django_language"].value == "ar"
    buyer.refresh_from_db()
    assert (buyer.full_name, buyer.language, buyer.time_zone) == ("Anne B.", "ar", "Asia/Riyadh")


@pytest.mark.django_db
def test_preferences_page_unknown_time_zone_is_refused_with_message(client, buyer):
    client.force_login(buyer)

    response = client.post(
        reverse("account_preferences"),
        {"full_name": "Anne B.", "language": "ar", "time_zone": "Mars/Olympus_Mons"},
    )

    assert response.status_code == 200
    message = "Select a valid choice. Mars/Olympus_Mons is not one of the available choices."
    assert response.context["form"].errors == {"time_zone": [message]}
    assert message in response.content.decode()
    buyer.refresh_from_db()
    assert (buyer.full_name, buyer.language, buyer.time_zone) == ("Anne Buyer", "en", "")


@pytest.mark.django_db
def test_preferences_page_anonymous_redirects_to_login(client):
    response = client.get(reverse("account_preferences"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('account_preferences')}"


@pytest.mark.django_db
def test_password_reset_lifts_account_lockout_at_once(client):
    make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT):
        log_in(client, "anne@example.test", f"wrong-password-{n}", address="10.0.0.9")
    assert log_in(client, "anne@example.test", PASSWORD, address="10.0.0.8").status_code == 429

    client.post(reverse("password_reset"), {"email": "anne@example.test"})
    link = RESET_LINK.search(mail.outbox[0].body).group(1)
    set_password_url = client.get(link)["Location"]
    new_password = "a-brand-new-passphrase-42"
    client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})

    assert log_in(client, "anne@example.test", new_password, address="10.0.0.8").status_code == 302


@pytest.mark.django_db
def test_login_failures_during_lockout_do_not_extend_it(client):
    make_buyer(email="anne@example.test")
    for n in range(FAILURE_LIMIT):
        log_in(client, "anne@example.test", f"wrong-password-{n}")
    age_login_attempts(minutes=14)
    # An attacker keeps trying while the account is locked ...
    assert log_in(client, "anne@example.test", "still-wrong").status_code == 429
    age_login_attempts(minutes=16)
    # ... and the owner is let in once 15 minutes have passed since the lock began.
    assert log_in(client, "anne@example.test", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_password_reset_link_uses_fair_site_domain_not_host_header(client, settings):
    settings.FAIR_SITE_DOMAIN = "fair.example.com"
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    make_buyer(email="anne@example.test")
    client.post(
        reverse("password_reset"), {"email": "anne@example.test"}, HTTP_HOST="other.example"
    )
    assert "://fair.example.com/accounts/reset/" in mail.outbox[0].body
    assert "other.example" not in mail.outbox[0].body


@pytest.mark.django_db
def test_logout_keeps_the_browser_time_zone_of_the_session(client, buyer):
    client.force_login(buyer)
    client.post(reverse("time_zone_detected"), {"time_zone": "Asia/Riyadh"})
    client.post(reverse("logout"))
    assert logged_in_user_id(client) is None
    assert client.session.get("time_zone") == "Asia/Riyadh"
    assert "Asia/Riyadh" in client.get(reverse("home")).content.decode()
