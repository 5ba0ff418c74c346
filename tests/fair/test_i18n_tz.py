"""Time zones and languages: every time is shown in the viewer's zone, every page in the
viewer's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from fair.middleware import SESSION_TIME_ZONE_KEY
from fair.models import Category, FairEdition
from tests.factories import make_user

LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture
def edition(db) -> FairEdition:
    return FairEdition.objects.create(
        name="CloudFair Summer 2026",
        slug="summer-2026",
        starts_at=datetime(2026, 6, 15, 11, 0, tzinfo=UTC),
        ends_at=datetime(2026, 6, 18, 11, 0, tzinfo=UTC),
    )


def text_of(html: str, testid: str) -> str:
    """The text inside the element marked ``data-testid=testid``, tags dropped, spaces folded."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element with data-testid={testid!r}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def footer_text(html: str) -> str:
    match = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S)
    assert match
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def edition_dates(client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return text_of(response.content.decode(), "edition-dates")


def opening_line(start: str, end: str) -> str:
    return f"Open from {start} to {end}, 24 hours a day."


# --- Time zones ---


@pytest.mark.django_db
def test_home_user_in_riyadh_sees_edition_start_at_1400(client, edition):
    client.force_login(make_user(time_zone="Asia/Riyadh"))

    dates = edition_dates(client)

    assert dates == opening_line("15 June 2026, 14:00", "18 June 2026, 14:00")


@pytest.mark.django_db
def test_home_user_in_new_york_sees_edition_start_at_0700(client, edition):
    client.force_login(make_user(time_zone="America/New_York"))

    dates = edition_dates(client)

    assert dates == opening_line("15 June 2026, 07:00", "18 June 2026, 07:00")


@pytest.mark.django_db
def test_home_user_without_zone_sees_browser_reported_zone(client, edition, settings):
    settings.FAIR_DEFAULT_TIME_ZONE = "Asia/Tokyo"
    client.force_login(make_user(time_zone=""))

    reported = client.post(reverse("time_zone_detected"), {"time_zone": "Asia/Shanghai"})
    response = client.get(reverse("home"))

    assert reported.status_code == 200
    assert reported.json() == {"time_zone": "Asia/Shanghai"}
    html = response.content.decode()
    assert text_of(html, "edition-dates") == opening_line(
        "15 June 2026, 19:00", "18 June 2026, 19:00"
    )
    assert text_of(html, "footer-time-zone") == "Times are shown in Asia/Shanghai"
    assert "(from your browser)" in footer_text(html)


@pytest.mark.django_db
def test_home_user_with_own_zone_ignores_browser_reported_zone(client, edition):
    client.force_login(make_user(time_zone="Asia/Riyadh"))
    client.post(reverse("time_zone_detected"), {"time_zone": "Asia/Shanghai"})

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert text_of(html, "edition-dates") == opening_line(
        "15 June 2026, 14:00", "18 June 2026, 14:00"
    )
    assert text_of(html, "footer-time-zone") == "Times are shown in Asia/Riyadh"
    assert "(from your profile)" in footer_text(html)


@pytest.mark.django_db
def test_time_zone_detected_invalid_zone_answers_400_and_stores_nothing(client, edition):
    response = client.post(reverse("time_zone_detected"), {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    assert response.content.decode() == "Unknown time zone."
    assert SESSION_TIME_ZONE_KEY not in client.session


@pytest.mark.django_db
def test_time_zone_detected_get_is_not_allowed(client):
    response = client.get(reverse("time_zone_detected"), {"time_zone": "Asia/Shanghai"})

    assert response.status_code == 405
    assert SESSION_TIME_ZONE_KEY not in client.session


@pytest.mark.django_db
def test_home_anonymous_sees_fair_default_zone(client, edition, settings):
    settings.FAIR_DEFAULT_TIME_ZONE = "Asia/Tokyo"

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert text_of(html, "edition-dates") == opening_line(
        "15 June 2026, 20:00", "18 June 2026, 20:00"
    )
    assert text_of(html, "footer-time-zone") == "Times are shown in Asia/Tokyo"
    assert "(the fair's home zone)" in footer_text(html)


@pytest.mark.django_db
def test_home_anonymous_after_browser_report_sees_browser_zone(client, edition, settings):
    settings.FAIR_DEFAULT_TIME_ZONE = "Asia/Tokyo"
    client.post(reverse("time_zone_detected"), {"time_zone": "America/New_York"})

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert text_of(html, "edition-dates") == opening_line(
        "15 June 2026, 07:00", "18 June 2026, 07:00"
    )
    assert text_of(html, "footer-time-zone") == "Times are shown in America/New_York"


# --- Languages ---


@pytest.mark.django_db
def test_home_user_with_russian_gets_russian_page(client, edition):
    client.force_login(make_user(language="ru", time_zone="Asia/Riyadh"))

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert '<html lang="ru" dir="ltr">' in html
    dates = text_of(html, "edition-dates")
    # Django's own Russian month name in the genitive (the template's ``E`` format); the
    # sentence around it comes from the project's catalogue, so only its language is checked.
    assert "15 июня 2026, 14:00" in dates
    assert "18 июня 2026, 14:00" in dates
    assert "Open from" not in dates


@pytest.mark.django_db
def test_home_user_with_arabic_gets_right_to_left_page(client, edition):
    client.force_login(make_user(language="ar", time_zone="Asia/Riyadh"))

    response = client.get(reverse("home"))

    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    dates = text_of(html, "edition-dates")
    assert "15 يونيو 2026, 14:00" in dates
    assert "18 يونيو 2026, 14:00" in dates
    assert "Open from" not in dates


@pytest.mark.django_db
def test_home_user_with_english_gets_english_page(client, edition):
    client.force_login(make_user(language="en", time_zone="Asia/Riyadh"))

    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ru")

    html = response.content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert text_of(html, "edition-dates") == opening_line(
        "15 June 2026, 14:00", "18 June 2026, 14:00"
    )


@pytest.mark.django_db
def test_language_set_signed_in_saves_cookie_and_account(client):
    user = make_user(language="en")
    client.force_login(user)

    response = client.post(reverse("language_set"), {"language": "es", "next": "/"})
    page = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == "/"
    cookie = response.cookies[LANGUAGE_COOKIE]
    assert cookie.value == "es"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    user.refresh_from_db()
    assert user.language == "es"
    assert '<html lang="es" dir="ltr">' in page.content.decode()


@pytest.mark.django_db
def test_language_set_anonymous_sets_cookie_only(client):
    response = client.post(reverse("language_set"), {"language": "fr", "next": "/"})
    page = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.cookies[LANGUAGE_COOKIE].value == "fr"
    assert '<html lang="fr" dir="ltr">' in page.content.decode()


@pytest.mark.django_db
def test_language_set_unknown_language_is_refused_with_message(client):
    user = make_user(language="en")
    client.force_login(user)

    response = client.post(reverse("language_set"), {"language": "xx", "next": "/"})
    page = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert LANGUAGE_COOKIE not in response.cookies
    user.refresh_from_db()
    assert user.language == "en"
    assert [str(m) for m in page.context["messages"]] == ["That language is not available."]
    assert "That language is not available." in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/steal", "//evil.example/", "http://testserver.evil.example/"],
)
def test_language_set_next_on_other_host_redirects_home(client, next_url):
    response = client.post(reverse("language_set"), {"language": "es", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[LANGUAGE_COOKIE].value == "es"


@pytest.mark.django_db
def test_language_set_next_on_same_site_redirects_there(client):
    response = client.post(reverse("language_set"), {"language": "es", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


@pytest.mark.django_db
def test_language_set_get_is_not_allowed(client):
    response = client.get(reverse("language_set"), {"language": "es"})

    assert response.status_code == 405
    assert LANGUAGE_COOKIE not in response.cookies


@pytest.mark.django_db
def test_category_display_name_in_arabic_returns_arabic_name():
    category = Category.objects.get(slug="household-appliances")

    with translation.override("ar"):
        name = category.display_name

    assert name == "الأجهزة المنزلية الكهربائية"


@pytest.mark.django_db
def test_category_display_name_in_untranslated_language_falls_back_to_english():
    category = Category.objects.get(slug="household-appliances")

    with translation.override("de"):
        name = category.display_name

    assert name == "Household Appliances"
