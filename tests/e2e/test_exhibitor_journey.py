"""The exhibitor's journey end to end, in Debian's Chromium against the real ASGI app served by
Daphne (fixtures: tests/e2e/conftest.py).

An exhibitor applies, is approved by an organiser in the Django admin, builds the booth with a
logo and a 360° panorama, adds a product with an image, imports a CSV with one bad row and
reads the error report; an anonymous visitor then finds that product by a misspelt search and
opens the booth. Three browser contexts (exhibitor, organiser, anonymous visitor), each with
its own cookies; each is checked for console errors and failed requests."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Locator, Page, expect

from exhibitors.models import Exhibitor, ImportJob, Product
from tests.e2e.conftest import BrowserProblems
from tests.factories import PASSWORD, make_organiser, make_user

pytestmark = pytest.mark.e2e

COMPANY = "Polar Star Appliances"
TAGLINE = "Cold chain appliances built in Ningbo since 1998"
PRODUCT = "Refrigerator double door 450L"
IMAGE_ALT = "Double door refrigerator, front view"
SECTION = "Electronics & Household Appliances › Household Appliances"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PRICE_ERROR = "The highest price must not be below the lowest."


def field(label: str) -> re.Pattern[str]:
    """A form field's exact label; Django's labels end with a ":" suffix."""
    return re.compile(rf"^{re.escape(label)}:?$")


def settled(page: Page, path: str) -> Page:
    """``visit()`` for a page of another browser context: open the first page of a browser
    session and wait for the time-zone report's reload (see ``visit`` in conftest.py)."""
    response = page.goto(path)
    assert response is not None and response.ok, f"GET {path}: {response and response.status}"
    expect(page.locator("body")).to_have_attribute(
        "data-time-zone-source", re.compile(r"^(browser|profile)$")
    )
    return page


def watched_page(context: BrowserContext) -> tuple[Page, BrowserProblems]:
    """A new page of ``context`` whose console errors, page errors and failed requests are
    collected, like the ``browser_problems`` fixture does for ``page``."""
    page = context.new_page()
    problems = BrowserProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    return page, problems


def expect_loaded(image: Locator) -> None:
    """The image file has arrived and decoded (a broken image is "visible" too). Waiting for
    it also keeps the test from leaving the page mid-download: the browser would abort the
    request, and ``browser_problems`` report it as failed (net::ERR_ABORTED)."""
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0)


def expect_panorama_shown(page: Page) -> None:
    """static/exhibitors/js/public.js has started Pannellum on ``[data-panorama]`` (which
    Pannellum makes its ``.pnlm-container``) and the panorama has loaded and been drawn."""
    viewer = page.locator("[data-panorama]")
    viewer.scroll_into_view_if_needed()  # public.js starts Pannellum when it comes into view
    expect(viewer).to_have_class(re.compile(r"\bpnlm-container\b"))
    expect(viewer).to_have_class(re.compile(r"\bpanorama-ready\b"))
    expect(viewer.locator(".pnlm-render-container")).to_have_count(1)
    expect(viewer.locator(".panorama-fallback")).to_have_count(0)
    expect(viewer.locator(".pnlm-load-box")).to_be_hidden()  # Pannellum's download is done
    expect(viewer.locator(".pnlm-error-msg")).to_be_hidden()  # and WebGL drew it


def log_in(page: Page, email: str) -> None:
    page.get_by_label(field("Email")).fill(email)
    page.get_by_label(field("Password")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def write_image(path: Path, size: tuple[int, int], color: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", size, color)
    # A few stripes, so the re-encoded file is a picture rather than a flat colour.
    for x in range(0, size[0], max(1, size[0] // 8)):
        for y in range(size[1]):
            image.putpixel((x, y), (255, 255, 255))
    image.save(path)
    return path


def write_import_csv(path: Path) -> Path:
    """Three products in the template's columns (exhibitors/imports/columns.py); the second
    (spreadsheet row 3: the header is row 1) has its highest price below its lowest."""
    rows = [
        ["sku", "name", "category", "description", "moq", "price_min", "price_max",
         "currency", "is_published"],
        ["FRZ-200", "Chest freezer 200L", "household-appliances", "Deep freezer.", "50",
         "150", "180", "USD", "yes"],
        ["MWO-25", "Microwave oven 25L", "household-appliances", "Grill and defrost.", "100",
         "60", "45", "USD", "yes"],
        ["AC-12K", "Split air conditioner 12000 BTU", "household-appliances", "Inverter.",
         "20", "210", "240", "USD", "no"],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_exhibitor_journey_apply_build_import_and_buyer_finds_product(
    visit, page: Page, browser_problems, new_context, tmp_path: Path
):
    owner = make_user(email="li.wei@polarstar.example", full_name="Li Wei")
    organiser = make_organiser(email="olivia@organiser.example")
    licence = tmp_path / "licence.pdf"
    licence.write_bytes(PDF)
    logo = write_image(tmp_path / "logo.png", (240, 240), (20, 90, 160))
    panorama = write_image(tmp_path / "showroom.jpg", (1024, 512), (120, 140, 90))
    product_photo = write_image(tmp_path / "fridge.jpg", (800, 600), (200, 200, 210))
    catalogue = write_import_csv(tmp_path / "catalogue.csv")

    # 1. The owner logs in (the apply page sends them to the log-in page) and applies.
    visit("/exhibit/apply/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/exhibit/apply/$"))
    log_in(page, owner.email)
    expect(page.get_by_role("heading", level=1, name="Apply as an exhibitor")).to_be_visible()
    page.get_by_label(field("Company name shown to buyers")).fill(COMPANY)
    page.get_by_label(field("Legal name")).fill(f"{COMPANY} Co., Ltd.")
    page.get_by_label(field("Country")).select_option("CN")
    page.get_by_label(field("City")).fill("Ningbo")
    page.get_by_role("checkbox", name="Electronics & Household Appliances").check()
    page.get_by_label(field("About the company")).fill(
        "We design and build refrigerators and freezers for importers in 40 countries."
    )
    page.get_by_label(field("Business licence")).set_input_files(licence)
    page.get_by_role("button", name="Send application").click()

    expect(page.get_by_role("heading", level=1, name=COMPANY)).to_be_visible()
    expect(
        page.get_by_text("Your application is waiting for the organisers' review")
    ).to_be_visible()
    expect(page.get_by_text("status: Pending review")).to_be_visible()
    exhibitor = Exhibitor.objects.get(display_name=COMPANY)
    assert exhibitor.status == Exhibitor.Status.PENDING
    assert exhibitor.business_licence
    home = f"/exhibit/{exhibitor.pk}/"
    expect(page).to_have_url(home)

    # 2. An organiser, in a browser of their own, approves the application in the admin.
    organiser_page, organiser_problems = watched_page(new_context())
    settled(organiser_page, "/accounts/login/")
    log_in(organiser_page, organiser.email)
    expect(organiser_page.get_by_test_id("account-link")).to_be_visible()
    response = organiser_page.goto("/admin/exhibitors/exhibitor/")
    assert response is not None and response.status == 200, (
        f"An organiser cannot open the exhibitors' admin list: HTTP {response and response.status}"
    )
    organiser_page.get_by_role("checkbox", name=re.compile(re.escape(COMPANY))).check()
    organiser_page.get_by_label(re.compile(r"^Action")).select_option(
        label="Approve the selected applications"
    )
    organiser_page.get_by_role("button", name="Go").click()
    # The admin says "1 exhibitors approved." (not pluralised); accept the plural fix too.
    expect(organiser_page.get_by_text(re.compile(r"^1 exhibitors? approved\.$"))).to_be_visible()
    expect(organiser_page.get_by_role("row", name=re.compile(re.escape(COMPANY)))).to_contain_text(
        "Approved"
    )

    page.reload()
    expect(page.get_by_text("status: Approved")).to_be_visible()
    expect(page.get_by_text("Your application is waiting")).to_have_count(0)

    # 3. The booth: texts, section, logo and panorama; preview; publish.
    page.get_by_role("link", name="Build your booth").click()
    expect(page.get_by_role("heading", level=1, name="Your booth")).to_be_visible()
    page.get_by_label(field("Tagline")).fill(TAGLINE)
    page.get_by_label(field("Company story")).fill(
        "Founded by two engineers in 1998.\n\nToday 600 people build 900,000 appliances a year."
    )
    page.get_by_label(field("Exhibition section")).select_option(label=SECTION)
    page.get_by_label(field("Logo")).set_input_files(logo)
    page.get_by_label(field("360° panorama")).set_input_files(panorama)
    page.get_by_role("button", name="Save booth").click()

    expect(page.get_by_text("Booth saved. Preview it before publishing.")).to_be_visible()
    current = page.get_by_role("region", name="Current images")
    expect_loaded(current.get_by_role("img", name="Logo"))
    expect_loaded(current.get_by_role("img", name="360° panorama"))

    page.get_by_role("link", name="Preview and publish").click()
    expect(page).to_have_url(f"/exhibit/{exhibitor.pk}/booth/preview/")
    booth_view = page.locator("article.booth")
    expect(booth_view.get_by_text(TAGLINE)).to_be_visible()
    expect_loaded(booth_view.get_by_role("img", name=f"{COMPANY} logo"))
    expect_panorama_shown(page)

    page.get_by_role("button", name="Publish booth").click()
    expect(page.get_by_text("Your booth is published.")).to_be_visible()
    expect(page.get_by_text("This booth is published.")).to_be_visible()
    expect_loaded(booth_view.get_by_role("img", name=f"{COMPANY} logo"))
    expect_panorama_shown(page)  # (the preview again)

    # 4. A product, then its picture with a description for screen readers.
    page.goto(home)
    page.get_by_role("link", name="Add a product").click()
    expect(page.get_by_role("heading", level=1, name="New product")).to_be_visible()
    page.get_by_label(field("Name")).fill(PRODUCT)
    page.get_by_label(field("SKU")).fill("RF-450-DD")
    page.get_by_label(field("Exhibition section")).select_option(label=SECTION)
    page.get_by_label(field("Description")).fill("Frost-free, A++ energy class, inverter.")
    page.get_by_label(field("Keywords")).fill("fridge, side by side")
    page.get_by_label(field("Minimum order quantity")).fill("100")
    page.get_by_label(field("Unit")).fill("units")
    page.get_by_label(field("FOB price from")).fill("310")
    page.get_by_label(field("FOB price to")).fill("355.50")
    page.get_by_label(field("Currency")).select_option("USD")
    page.get_by_label(field("Port of loading")).fill("Ningbo")
    page.get_by_label(field("Lead time (days)")).fill("35")
    page.get_by_label(field("Published")).check()
    page.get_by_role("button", name="Create product").click()

    expect(page.get_by_text("Product created. Now add its pictures.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Images of “{PRODUCT}”")
    page.get_by_label(field("Image")).set_input_files(product_photo)
    page.get_by_label(field("Description for screen readers")).fill(IMAGE_ALT)
    page.get_by_role("button", name="Upload image").click()
    expect(page.get_by_text("Image added.")).to_be_visible()
    expect_loaded(page.get_by_role("img", name=IMAGE_ALT))
    product = Product.objects.get(exhibitor=exhibitor, sku="RF-450-DD")
    assert product.is_published
    assert product.images.get().alt_text == IMAGE_ALT

    # 5. A CSV import with one bad row: two products created, the bad row reported.
    page.goto(home)
    page.get_by_role("link", name="Import products from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1, name="Import products")).to_be_visible()
    page.get_by_label(field("Catalogue file")).set_input_files(catalogue)
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", level=1, name="Import of catalogue.csv")).to_be_visible()
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_have_attribute("data-status", "succeeded")  # htmx polls until then
    expect(page.get_by_test_id("import-summary")).to_contain_text(
        "1 row had errors and was not imported"
    )
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    expect(page.get_by_test_id("count-errors")).to_have_text("1")
    errors = page.get_by_role("table", name="Rows not imported")
    expect(errors.get_by_role("row")).to_have_count(2)  # the header and one error
    error_cells = errors.get_by_role("row").nth(1).get_by_role("cell")
    expect(error_cells).to_have_text(["3", "price_max", PRICE_ERROR])
    job = ImportJob.objects.get(exhibitor=exhibitor)
    assert (job.created_count, job.error_count) == (2, 1)
    assert set(Product.objects.filter(exhibitor=exhibitor).values_list("sku", flat=True)) == {
        "RF-450-DD",
        "FRZ-200",
        "AC-12K",
    }

    # 6. An anonymous visitor misspells the product, finds it and walks to the booth.
    visitor, visitor_problems = watched_page(new_context())
    settled(visitor, "/search/?q=refrigirator")
    expect(visitor.get_by_test_id("search-correction")).to_contain_text(
        "Showing results for refrigerator"
    )
    results = visitor.get_by_test_id("search-results")
    card_link = results.get_by_role("link", name=re.compile(re.escape(PRODUCT)))
    expect(card_link).to_have_count(1)
    expect_loaded(results.get_by_role("img", name=IMAGE_ALT))
    card_link.click()

    expect(visitor).to_have_url(f"/products/{product.pk}/")
    expect(visitor.get_by_role("heading", level=1, name=PRODUCT)).to_be_visible()
    expect(visitor.get_by_test_id("price")).to_contain_text("USD 310.00 – 355.50 FOB")
    expect_loaded(visitor.get_by_role("figure").get_by_role("img", name=IMAGE_ALT))
    visitor.wait_for_load_state("networkidle")  # and the exhibitor's lazy-loaded logo
    visitor.get_by_role("link", name="Visit the booth").click()

    expect(visitor).to_have_url(f"/exhibitors/{exhibitor.slug}/")
    booth = visitor.get_by_test_id("booth")
    expect(booth.get_by_role("heading", level=1, name=COMPANY)).to_be_visible()
    expect(booth.get_by_text(TAGLINE)).to_be_visible()
    expect_loaded(booth.get_by_role("img", name=f"{COMPANY} logo"))

    # Each browser, on every page it opened: no console error, page error or failed request.
    for page_ in (page, organiser_page, visitor):
        page_.wait_for_load_state("networkidle")
    browser_problems.assert_none()  # the exhibitor's
    organiser_problems.assert_none()
    visitor_problems.assert_none()
