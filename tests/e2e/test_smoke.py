"""Browser smoke tests: the pages every visitor meets first, in Debian's Chromium against the
real ASGI app served by Daphne (fixtures: tests/e2e/conftest.py).

Each test starts from an empty database plus the rows data migrations load (categories, the
organisers group), in a fresh browser context; what it needs beyond that it creates itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from buyers.models import BuyerProfile
from fair.models import Category, User
from tests.factories import PASSWORD, make_buyer

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "amber-lantern-orchard-42"


def field(label: str) -> re.Pattern[str]:
    """A form field's exact label; Django's labels end with a ":" suffix."""
    return re.compile(rf"^{re.escape(label)}:?$")


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label(field("Email")).fill(email)
    page.get_by_label(field("Password")).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_home_anonymous_loads_without_browser_errors(visit, browser_problems):
    page = visit("/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    categories = page.get_by_role("region", name="Product categories")
    expect(categories.get_by_text("Household Appliances", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    browser_problems.assert_none()


def test_signup_buyer_form_creates_account_and_signs_in(visit, browser_problems):
    page = visit("/accounts/signup/")

    page.get_by_label(field("Work email")).fill("nadia@importer.example")
    page.get_by_label(field("Full name")).fill("Nadia Al-Harbi")
    page.get_by_label(field("Password")).fill(NEW_PASSWORD)
    page.get_by_label(field("Password again")).fill(NEW_PASSWORD)
    page.get_by_label(field("Company")).fill("Harbi Trading")
    page.get_by_label(field("Country")).select_option("SA")
    page.get_by_label(field("Buyer type")).select_option("retailer")
    page.get_by_role("checkbox", name="Electronics & Household Appliances").check()
    # Privacy by default: both consents start unticked, and this buyer leaves them so.
    expect(page.get_by_role("checkbox", name="show my name and company")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="share my contact details")).not_to_be_checked()
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url("/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_test_id("account-link")).to_have_text("Nadia")
    browser_problems.assert_none()

    user = User.objects.get(email="nadia@importer.example")
    assert user.full_name == "Nadia Al-Harbi"
    assert user.check_password(NEW_PASSWORD)
    profile = BuyerProfile.objects.get(user=user)
    assert profile.company == "Harbi Trading"
    assert profile.country == "SA"
    assert profile.buyer_type == BuyerProfile.BuyerType.RETAILER
    assert list(profile.interests.values_list("slug", flat=True)) == ["electronics-appliances"]
    assert profile.show_identity_in_rooms is False
    assert profile.share_contact_in_negotiations is False


def test_login_after_logout_signs_in_again(visit, browser_problems):
    buyer = make_buyer(email="omar@buyer.example", full_name="Omar Haddad")
    page = visit("/accounts/login/")
    log_in(page, buyer.email, PASSWORD)
    account_link = page.get_by_test_id("account-link")
    expect(account_link).to_have_text("Omar")

    page.get_by_role("button", name="Log out").click()

    expect(account_link).to_have_count(0)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Log in")).to_be_visible()

    page.goto("/accounts/login/")
    log_in(page, buyer.email, PASSWORD)

    expect(page).to_have_url("/")
    expect(account_link).to_have_text("Omar")
    browser_problems.assert_none()


def test_login_wrong_password_shows_error_and_stays_on_login_page(visit, browser_problems):
    buyer = make_buyer(email="lena@buyer.example")
    page = visit("/accounts/login/")

    log_in(page, buyer.email, "not-the-password-at-all")

    expect(page.get_by_role("alert")).to_contain_text(
        "That email and password do not match an account"
    )
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_test_id("account-link")).to_have_count(0)
    browser_problems.assert_none()


@pytest.mark.browser_context_args(timezone_id="Asia/Riyadh")
def test_time_zone_first_visit_reports_browser_zone_to_footer(visit, browser_problems):
    page = visit("/")

    footer_zone = page.get_by_test_id("footer-time-zone")
    expect(footer_zone).to_contain_text("Asia/Riyadh")
    expect(page.locator("footer")).to_contain_text("from your browser")
    browser_problems.assert_none()


def test_language_switcher_choosing_russian_sets_html_lang(visit, browser_problems):
    page = visit("/")

    page.get_by_label(field("Language")).select_option(label="Русский")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page).to_have_url("/")
    # The category tree follows the language (its names come from the data migration).
    household = Category.objects.get(slug="household-appliances").names["ru"]
    expect(page.get_by_text(household, exact=True)).to_be_visible()
    browser_problems.assert_none()


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_language_switcher_without_javascript_change_button_sets_html_lang(page: Page):
    page.goto("/")  # no script, so no time-zone report and reload: visit() is not needed

    page.get_by_label(field("Language")).select_option(label="Русский")
    page.get_by_role("button", name="Change").click()

    expect(page.locator("html")).to_have_attribute("lang", "ru")
