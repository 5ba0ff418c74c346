"""The organisers' area end to end, in Debian's Chromium against Daphne: an organiser
approves a pending exhibitor in /organiser/, whose owner can then publish a booth; the
organiser's announcement appears at once on a buyer's page that is already open (over
/ws/notices/), and the organiser's dashboard shows live figures (over /ws/organiser/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from exhibitors.models import Exhibitor
from fair.models import AuditEntry
from tests.e2e.test_exhibitor_journey import field, log_in, settled, watched_page
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser

pytestmark = pytest.mark.e2e

COMPANY = "Jade River Textiles"
SECTION = "Textiles & Garments › Home Textiles & Carpets"


def test_organiser_approves_announces_and_watches_the_dashboard(
    visit, page: Page, browser_problems, new_context
):
    organiser = make_organiser(email="olivia@organiser.example")
    buyer = make_buyer(email="khalid@buyer.example", full_name="Khalid Buyer")
    exhibitor = make_exhibitor(name=COMPANY, approved=False)
    owner = owner_of(exhibitor)
    assert exhibitor.status == Exhibitor.Status.PENDING

    # 1. The buyer has a page open (any page holds the notices socket).
    buyer_page, buyer_problems = watched_page(new_context())
    settled(buyer_page, "/accounts/login/")
    log_in(buyer_page, buyer.email)
    expect(buyer_page.get_by_test_id("account-link")).to_be_visible()
    expect(buyer_page.locator("html")).to_have_attribute("data-notices-socket", "open")

    # 2. The organiser finds the pending application in the queue and approves it.
    visit("/accounts/login/")
    log_in(page, organiser.email)
    page.get_by_role("link", name="Organisers").click()
    expect(page.get_by_role("heading", level=1, name="Live dashboard")).to_be_visible()
    expect(page.locator("[data-dashboard]")).to_have_attribute("data-connection", "open")
    page.get_by_role("navigation", name="Organisers").get_by_role("link", name="Exhibitors").click()
    page.get_by_role("link", name=COMPANY).click()
    expect(page.get_by_test_id("exhibitor-status")).to_have_text("Pending review")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("exhibitor-status")).to_have_text("Approved")
    exhibitor.refresh_from_db()
    assert exhibitor.status == Exhibitor.Status.APPROVED
    entry = AuditEntry.objects.get(action="exhibitor.approve", target_id=str(exhibitor.pk))
    assert entry.actor_id == organiser.pk

    # 3. The exhibitor's owner can now build and publish the booth.
    owner_page, owner_problems = watched_page(new_context())
    settled(owner_page, "/accounts/login/")
    log_in(owner_page, owner.email)
    owner_page.goto(f"/exhibit/{exhibitor.pk}/booth/")
    expect(owner_page.get_by_role("heading", level=1, name="Your booth")).to_be_visible()
    owner_page.get_by_label(field("Tagline")).fill("Cotton and linen for hotels since 2003")
    owner_page.get_by_label(field("Exhibition section")).select_option(label=SECTION)
    owner_page.get_by_role("button", name="Save booth").click()
    expect(owner_page.get_by_text("Booth saved. Preview it before publishing.")).to_be_visible()
    owner_page.get_by_role("link", name="Preview and publish").click()
    owner_page.get_by_role("button", name="Publish booth").click()
    expect(owner_page.get_by_text("Your booth is published.")).to_be_visible()

    # 4. An announcement to buyers appears on the buyer's open page without a reload.
    page.get_by_role("navigation", name="Organisers").get_by_role(
        "link", name="Announcements"
    ).click()
    page.get_by_label(field("Title")).fill("Matchmaking for hotel buyers at 15:00")
    page.get_by_label(field("Text")).fill("Meet 40 textile exhibitors in one hour.")
    page.get_by_label(field("Audience")).select_option("buyers")
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Announcement published.")).to_be_visible()

    banner = buyer_page.get_by_test_id("announcement")
    expect(banner).to_contain_text("Matchmaking for hotel buyers at 15:00")
    expect(banner).to_contain_text("Meet 40 textile exhibitors in one hour.")
    # The exhibitor's open page is not the audience.
    expect(owner_page.get_by_test_id("announcement")).to_have_count(0)

    # 5. The buyer closes it; it stays closed on the next page.
    banner.get_by_role("button", name=re.compile("^Close")).click()
    expect(banner).to_have_count(0)
    buyer_page.goto("/")
    expect(buyer_page.get_by_test_id("announcement")).to_have_count(0)

    for problems in (browser_problems, buyer_problems, owner_problems):
        problems.assert_none()
