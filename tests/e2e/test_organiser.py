"""The organisers' area end to end, in Debian's Chromium against Daphne: an organiser
approves a pending exhibitor in /organiser/, whose owner can then publish a booth; the
organiser's announcement appears at once on a buyer's page that is already open (over
/ws/notices/), and the organiser's dashboard shows live figures (over /ws/organiser/), its
charts' figures also as tables that follow every pushed change."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import dateformat, translation
from playwright.sync_api import Page, expect

from exhibitors.models import Exhibitor
from fair.dashboard import dashboard_snapshot
from fair.models import AuditEntry
from tests.e2e.test_exhibitor_journey import field, log_in, settled, watched_page
from tests.exhibitors.factories import make_exhibitor, owner_of
from tests.factories import make_buyer, make_organiser
from tests.negotiations.nego_factories import make_room

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


_SERVER_ROW = re.compile(
    r'<tr><th scope="row"><time datetime="[^"]+">([^<]*)</time></th><td>([^<]*)</td></tr>'
)
_ROW_CELLS = "rows => rows.map((row) => [...row.cells].map((cell) => cell.textContent))"
_CHART = (
    "canvas => { const chart = Chart.getChart(canvas);"
    " return [chart.data.labels, chart.data.datasets[0].data]; }"
)


def _server_rows(page_html: str, details_id: str) -> list[list[str]]:
    block = re.search(rf'id="{details_id}">(.*?)</details>', page_html, re.S)[1]
    return [[html.unescape(label), value] for label, value in _SERVER_ROW.findall(block)]


@pytest.mark.browser_context_args(timezone_id="Asia/Kolkata")
def test_dashboard_chart_tables_read_as_the_charts_and_follow_pushed_figures(
    visit, page: Page, browser_problems
):
    """In Russian, from a +05:30 zone (the fair's hours start at :30 there): the tables the
    server rendered read exactly as the script draws them and labels the charts; a pushed
    change updates table and chart together."""
    organiser = make_organiser(email="olga@organiser.example")
    organiser.language = "ru"
    organiser.save(update_fields=["language"])
    visit("/accounts/login/")
    log_in(page, organiser.email)
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    with page.expect_response(
        lambda response: response.url.endswith("/organiser/dashboard/")
    ) as got:
        page.goto("/organiser/dashboard/")
    served = got.value.text()
    dashboard = page.locator("[data-dashboard]")
    expect(dashboard).to_have_attribute("data-connection", "open")
    # (Chromium reports the zone by its older name.)
    expect(dashboard).to_have_attribute("data-zone", re.compile(r"^Asia/(Kolkata|Calcutta)$"))
    page.wait_for_function(
        "() => window.Chart"
        " && Chart.getChart(document.querySelector('[data-chart=negotiations_per_day]'))"
    )

    hours = page.locator("#streams-figures tbody tr")
    days = page.locator("#nego-figures tbody tr")
    hour_rows, day_rows = hours.evaluate_all(_ROW_CELLS), days.evaluate_all(_ROW_CELLS)
    # Without an edition: the last 48 hours (49 hour starts) and the last days, none opened.
    assert len(hour_rows) == 49
    assert all(re.fullmatch(r"\d{1,2} [а-я]+, \d{2}:30", label) for label, _ in hour_rows)
    today = datetime.now(ZoneInfo(settings.FAIR_DEFAULT_TIME_ZONE)).date()
    with translation.override("ru"):
        assert day_rows[-1] == [dateformat.format(today, "j E"), "0"]
    assert {value for _, value in day_rows} == {"0"}
    # What the server rendered is what the script renders, and what the charts show.
    assert _server_rows(served, "streams-figures") == hour_rows
    assert _server_rows(served, "nego-figures") == day_rows
    for canvas, rows in (("streams_per_hour", hour_rows), ("negotiations_per_day", day_rows)):
        labels, values = page.locator(f"[data-chart={canvas}]").evaluate(_CHART)
        assert labels == [label for label, _ in rows]
        assert [str(value) for value in values] == [value for _, value in rows]

    # Folded away until asked for; named by its caption; the chart is described by it.
    table = page.get_by_role(
        "table", name="Начатые переговоры по дням (дни по часовому поясу выставки)"
    )
    expect(table).to_be_hidden()
    page.locator("#nego-figures summary").click()
    expect(table).to_be_visible()
    expect(
        page.get_by_role("img", name="Диаграмма начатых переговоров по дням")
    ).to_have_accessible_description("Начатые переговоры по дням (дни по часовому поясу выставки)")

    # A room opens; the figures are recomputed and the server pushes them over the socket.
    make_room()
    dashboard_snapshot(force=True)
    expect(days.last.locator("td")).to_have_text("1", timeout=15_000)
    day_rows = days.evaluate_all(_ROW_CELLS)
    labels, values = page.locator("[data-chart=negotiations_per_day]").evaluate(_CHART)
    assert values[-1] == 1
    assert labels == [label for label, _ in day_rows]
    assert [str(value) for value in values] == [value for _, value in day_rows]
    # The socket stayed open: the change came over it (the page polls only while it is down).
    expect(dashboard).to_have_attribute("data-connection", "open")
    browser_problems.assert_none()
