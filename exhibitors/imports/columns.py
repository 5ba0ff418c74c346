"""The import file's columns, limits and shared types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.translation import gettext_lazy

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# An honest 5 MB workbook unpacks to a few tens of MB; a zip bomb to gigabytes.
MAX_XLSX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_XLSX_ENTRIES = 500
CHUNK_ROWS = 100
MAX_STORED_ERRORS = 1000
MAX_SPECS = 60
MAX_CERTIFICATIONS = 30
# A job queued or running for longer than this is presumed lost and no longer blocks a new one.
STALE_JOB_AFTER = timedelta(hours=1)
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    help: str
    example: str


# The file's columns, in template order. Each is a Product field of the same name (category
# is the exhibition section's slug).
COLUMNS: tuple[Column, ...] = (
    Column(
        "sku",
        True,
        gettext_lazy(
            "Your own product code, unique in your catalogue. Letters, digits and . _ - / "
            "(up to 64). A row with a SKU you already have updates that product."
        ),
        "TV-55-4K",
    ),
    Column("name", True, gettext_lazy("Product name (up to 200 characters)."), "55-inch 4K TV"),
    Column(
        "category",
        True,
        gettext_lazy(
            "The exhibition section's code (see the Sections sheet), e.g. household-appliances."
        ),
        "household-appliances",
    ),
    Column("description", False, gettext_lazy("Free text for buyers."), "Slim bezel smart TV."),
    Column(
        "specs",
        False,
        gettext_lazy("Specifications as name=value pairs separated by semicolons."),
        "Screen size=55 in; Resolution=4K",
    ),
    Column(
        "keywords",
        False,
        gettext_lazy("Extra search words, separated by commas."),
        "television, smart tv",
    ),
    Column(
        "moq",
        False,
        gettext_lazy("Minimum order quantity, a whole number (empty: 1)."),
        "100",
    ),
    Column("moq_unit", False, gettext_lazy("Unit of the MOQ (empty: pieces)."), "pieces"),
    Column(
        "price_min",
        False,
        gettext_lazy("Lowest FOB unit price, e.g. 120.50 (a dot for decimals)."),
        "120.50",
    ),
    Column(
        "price_max",
        False,
        gettext_lazy("Highest FOB unit price, not below price_min."),
        "135",
    ),
    Column("currency", False, gettext_lazy("ISO 4217 code (empty: USD)."), "USD"),
    Column(
        "incoterm",
        False,
        gettext_lazy("One of EXW, FCA, FAS, FOB, CFR, CIF, CPT, CIP, DAP, DPU, DDP (empty: FOB)."),
        "FOB",
    ),
    Column("port_of_loading", False, gettext_lazy("Port the goods leave from."), "Shenzhen"),
    Column("lead_time_days", False, gettext_lazy("Lead time in days (0 to 720)."), "30"),
    Column(
        "hs_code",
        False,
        gettext_lazy("Harmonized System code, 6 to 10 digits, e.g. 8528.72 or 85287200."),
        "8528.72",
    ),
    Column(
        "certifications",
        False,
        gettext_lazy("Certifications separated by semicolons."),
        "CE; RoHS",
    ),
    Column("samples", False, gettext_lazy("none, free or paid (empty: none)."), "free"),
    Column("is_new_launch", False, gettext_lazy("yes or no (empty: no)."), "yes"),
    Column(
        "is_published",
        False,
        gettext_lazy("yes to show the product to buyers now, no to keep it a draft (empty: no)."),
        "no",
    ),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is changed)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ParsedFile:
    columns: list[str]
    # (row number as a spreadsheet shows it, {column: cell text})
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
