"""Bulk import of products from CSV or XLSX files.

Shape of an import:

1. ``import_job_start`` (a service) checks the caller (owners and admins only), the file's
   name and size, stores the file privately under a generated name, creates an ``ImportJob``
   and queues ``import_job_run`` once the transaction commits.
2. ``import_job_run`` (a Celery task) parses the whole file first. Every file-level problem
   (encoding, header, size, row count, a zip bomb, a file that is not what its name says)
   is found here, before any write: the job fails with a message and nothing changes.
3. Rows are then validated with the model's own validators and constraints and written in
   chunks of ``CHUNK_ROWS``: new SKUs with ``bulk_create``, changed ones with
   ``bulk_update``, unchanged ones not at all. A row is one product, so it is imported whole
   or not at all; invalid rows are reported (row, column, message) and the valid rows of the
   same file are still imported.

Each chunk's writes and the job's counters commit together, so a redelivered task (workers
ack late) resumes after the last committed chunk with exact counts, and re-running a
finished job does nothing."""

from __future__ import annotations

import copy
import csv
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from celery import shared_task
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exhibitors.models import Exhibitor, ImportJob, Incoterm, Product
from exhibitors.selectors import access_exhibitor
from fair.exceptions import ApplicationError, NotFound
from fair.models import Category, User

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
        gettext_lazy("One of %(terms)s (empty: FOB).") % {"terms": ", ".join(Incoterm.values)},
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
# Empty cells mean the model's default (new products and updates alike), so a file says the
# whole truth about the columns it has; columns it does not have are left as they are.
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}


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


# --- Reading files ---------------------------------------------------------------------------


def _normalise_header(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_").replace("-", "_")


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a person typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _rows_from_records(records) -> ParsedFile:
    """Header detection, comment and blank rows, row limit: shared by CSV and XLSX.
    ``records`` yields (row number, [cell text, ...])."""
    header: list[str] | None = None
    parsed: ParsedFile | None = None
    for number, cells in records:
        if not any(cells):
            continue
        if header is None:
            header = [_normalise_header(c) for c in cells]
            named = [c for c in header if c]
            if not any(c in COLUMN_NAMES for c in named):
                raise ImportFileError(
                    _(
                        "The first row must be the header row naming the columns (%(columns)s), "
                        "as in the template."
                    )
                    % {"columns": ", ".join(REQUIRED_COLUMNS)}
                )
            unknown = [c for c in named if c not in COLUMN_NAMES]
            if unknown:
                raise ImportFileError(
                    _("Unknown column(s) in the header row: %(columns)s. Use the template's names.")
                    % {"columns": ", ".join(unknown)}
                )
            duplicates = sorted({c for c in named if named.count(c) > 1})
            if duplicates:
                raise ImportFileError(
                    _("The header row names these columns twice: %(columns)s.")
                    % {"columns": ", ".join(duplicates)}
                )
            missing = [c for c in REQUIRED_COLUMNS if c not in named]
            if missing:
                raise ImportFileError(
                    _("The header row is missing the required column(s): %(columns)s.")
                    % {"columns": ", ".join(missing)}
                )
            parsed = ParsedFile(columns=named)
            continue
        if cells[0].startswith("#"):  # a comment row, as in the template
            continue
        row: dict[str, str] = {}
        for index, text in enumerate(cells):
            if not text:
                continue
            name = header[index] if index < len(header) else ""
            if not name:
                raise ImportFileError(
                    _("Row %(row)s has a value in column %(n)s, which has no name in the header.")
                    % {"row": number, "n": index + 1}
                )
            row[name] = text
        if len(parsed.rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)s product rows. Split it into smaller files.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        parsed.rows.append((number, row))
    if parsed is None:
        raise ImportFileError(_("The file is empty."))
    return parsed


def parse_csv(data: bytes) -> ParsedFile:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            _("This is an Excel workbook, not a CSV file: upload it with a .xlsx name.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            _(
                "The file is not UTF-8 text (line %(line)s cannot be read). In Excel, save it "
                "as “CSV UTF-8 (comma delimited)”, or upload the .xlsx workbook."
            )
            % {"line": line}
        ) from None
    if "\x00" in text:
        raise ImportFileError(_("This is not a CSV text file."))
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.lstrip().split("\n", 1)[0]
    # Excel in many European locales writes semicolons; tab-separated text also works.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records():
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, [c.strip() for c in cells]
        except csv.Error as error:
            raise ImportFileError(
                _("The CSV file is malformed near row %(row)s: %(error)s")
                % {"row": reader.line_num, "error": error}
            ) from None

    return _rows_from_records(records())


def _check_zip(data: bytes) -> None:
    """Refuse anything that is not a plausible workbook *before* openpyxl opens it: the
    central directory's declared sizes bound what zipfile will ever inflate (it stops at the
    declared size and fails the CRC), so summing them catches a zip bomb cheaply."""
    not_xlsx = _(
        "This file is not an Excel .xlsx workbook (it may be an old .xls file or another kind "
        "of file renamed). Save it as .xlsx or as CSV UTF-8."
    )
    if not data.startswith(b"PK\x03\x04"):
        raise ImportFileError(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise ImportFileError(not_xlsx) from None
    if len(entries) > MAX_XLSX_ENTRIES:
        raise ImportFileError(
            _("The workbook holds %(n)s parts; at most %(max)s are accepted.")
            % {"n": len(entries), "max": MAX_XLSX_ENTRIES}
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise ImportFileError(
            _(
                "The workbook unpacks to %(mb)s MB, more than the %(max)s MB accepted. Remove "
                "unused sheets or images, or upload a CSV file."
            )
            % {"mb": total // (1024 * 1024), "max": MAX_XLSX_UNCOMPRESSED_BYTES // (1024 * 1024)}
        )
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise ImportFileError(not_xlsx)


def parse_xlsx(data: bytes) -> ParsedFile:
    import openpyxl  # imported here: only imports need it

    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise ImportFileError(
            _("The workbook could not be read. Open it in Excel, save it again and retry.")
        ) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportFileError(_("The workbook has no sheet."))

        # The sheet's declared dimensions may lie (files written by other tools): read the
        # rows that are actually there.
        sheet.reset_dimensions()

        def records():
            try:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, [_cell_text(v) for v in values]
            except ImportFileError:
                raise
            except Exception:
                raise ImportFileError(
                    _("The workbook could not be read. Open it in Excel, save it again and retry.")
                ) from None

        return _rows_from_records(records())
    finally:
        workbook.close()


def parse_file(data: bytes, file_format: str) -> ParsedFile:
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_file_too_big_message())
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFileError(_("The file is empty."))
    if file_format == "xlsx":
        return parse_xlsx(data)
    return parse_csv(data)


def _file_too_big_message() -> str:
    return _("The file is larger than %(mb)s MB. Split it into smaller files.") % {
        "mb": MAX_FILE_BYTES // (1024 * 1024)
    }


# --- Templates -------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The CSV template: the header, then two comment rows (explanations, examples) that the
    importer skips. UTF-8 with a BOM so Excel opens it with the right encoding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    helps = [str(c.help) for c in COLUMNS]
    writer.writerow([f"# {helps[0]}", *helps[1:]])
    examples = [c.example for c in COLUMNS]
    writer.writerow([f"# {examples[0]}", *examples[1:]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The XLSX template: a Products sheet (the header; SKU and HS code columns formatted as
    text so Excel keeps leading zeros and trailing decimals), a Columns sheet explaining each
    column and a Sections sheet listing the exhibition sections' codes."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Products")[:31]
    sheet.append(list(COLUMN_NAMES))
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.name) + 4)
        if column.name in ("sku", "hs_code", "price_min", "price_max"):
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet(_("Columns")[:31])
    help_sheet.append([_("Column"), _("Required"), _("What to write"), _("Example")])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        help_sheet.append(
            [
                column.name,
                _("yes") if column.required else _("no"),
                str(column.help),
                column.example,
            ]
        )
    help_sheet.column_dimensions["C"].width = 90
    help_sheet.column_dimensions["D"].width = 36

    sections_sheet = workbook.create_sheet(_("Sections")[:31])
    sections_sheet.append([_("category code"), _("Product category"), _("Exhibition section")])
    for cell in sections_sheet[1]:
        cell.font = Font(bold=True)
    for section in (
        Category.objects.filter(kind=Category.Kind.SECTION)
        .select_related("parent")
        .order_by("parent__position", "position")
    ):
        sections_sheet.append([section.slug, section.parent.display_name, section.display_name])
    sections_sheet.column_dimensions["A"].width = 36
    sections_sheet.column_dimensions["B"].width = 36
    sections_sheet.column_dimensions["C"].width = 36

    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- Rows to products ------------------------------------------------------------------------


def _parse_int(text: str) -> int:
    value = Decimal(text.replace(" ", ""))
    if value != value.to_integral_value():
        raise ValueError
    return int(value)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError


def _parse_specs(text: str) -> list[list[str]]:
    specs = []
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            name, sep, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValidationError(
                _("Write each specification as name=value, separated by semicolons: “%(part)s”.")
                % {"part": part[:60]}
            )
        if len(name) > 80 or len(value) > 200:
            raise ValidationError(
                _("A specification name has at most 80 characters and a value at most 200.")
            )
        specs.append([name, value])
    if len(specs) > MAX_SPECS:
        raise ValidationError(_("At most %(max)s specifications.") % {"max": MAX_SPECS})
    return specs


def _parse_certifications(text: str) -> list[str]:
    items = [item.strip() for item in text.replace("\n", ";").split(";") if item.strip()]
    if len(items) > MAX_CERTIFICATIONS:
        raise ValidationError(_("At most %(max)s certifications.") % {"max": MAX_CERTIFICATIONS})
    if any(len(item) > 120 for item in items):
        raise ValidationError(_("A certification has at most 120 characters."))
    return items


def _field_default(name: str):
    model_field = Product._meta.get_field(name)
    return model_field.get_default()


def _convert(column: str, text: str, sections: dict[str, Category], categories: set[str]):
    """The Python value of one cell. Raises ValidationError (shown for this column)."""
    text = text.strip()
    if column == "category":
        if not text:
            raise ValidationError(_("This column is required."))
        slug = text.lower()
        section = sections.get(slug)
        if section is None:
            if slug in categories:
                raise ValidationError(
                    _("“%(value)s” is a product category; give one of its exhibition sections.")
                    % {"value": text}
                )
            raise ValidationError(
                _("Unknown exhibition section “%(value)s” (see the template's Sections sheet).")
                % {"value": text[:80]}
            )
        return section
    if column in ("sku", "name") and not text:
        raise ValidationError(_("This column is required."))
    if not text:
        return _field_default(column)
    try:
        if column in ("moq", "lead_time_days"):
            return _parse_int(text)
        if column in ("price_min", "price_max"):
            value = Decimal(text.replace(" ", ""))
            if not value.is_finite():
                raise ValueError
            return value
        if column in ("is_new_launch", "is_published"):
            return _parse_bool(text)
    except (InvalidOperation, ValueError):
        if column in ("is_new_launch", "is_published"):
            raise ValidationError(_("Write yes or no.")) from None
        if column in ("moq", "lead_time_days"):
            raise ValidationError(_("Enter a whole number.")) from None
        raise ValidationError(_("Enter a number such as 12.50 (a dot for decimals).")) from None
    if column == "specs":
        return _parse_specs(text)
    if column == "certifications":
        return _parse_certifications(text)
    if column in ("currency", "incoterm"):
        return text.upper()
    if column == "samples":
        return text.lower()
    return text


_FIELD_OF_COLUMN = {name: name for name in COLUMN_NAMES}
# Validated by the importer itself (one lookup for all rows) instead of one query per row.
_FULL_CLEAN_EXCLUDE = ["exhibitor", "category", "model_3d", "search_vector"]


def _sku_unique_constraint(constraint) -> bool:
    fields = getattr(constraint, "fields", ())
    return set(fields) == {"exhibitor", "sku"}


_ROW_CONSTRAINTS = [c for c in Product._meta.constraints if not _sku_unique_constraint(c)]


def _errors_of(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        result = []
        for name, messages in error.message_dict.items():
            column = name if name in COLUMN_NAMES else ""
            result.extend((column, message) for message in messages)
        return result
    return [("", message) for message in error.messages]


def build_row(
    *,
    exhibitor: Exhibitor,
    columns: list[str],
    cells: dict[str, str],
    existing: Product | None,
    sections: dict[str, Category],
    categories: set[str],
) -> tuple[Product | None, list[tuple[str, str]]]:
    """The product a row describes (a modified copy of ``existing``, or a new one), fully
    validated, or the row's errors as (column, message)."""
    product = copy.copy(existing) if existing is not None else Product(exhibitor=exhibitor)
    errors: list[tuple[str, str]] = []
    failed: set[str] = set()
    for column in columns:
        try:
            value = _convert(column, cells.get(column, ""), sections, categories)
        except ValidationError as error:
            errors.extend((column, message) for message in error.messages)
            failed.add(column)
            continue
        setattr(product, _FIELD_OF_COLUMN[column], value)
    exclude = [*_FULL_CLEAN_EXCLUDE, *failed]
    try:
        product.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.extend(_errors_of(error))
    if not errors:
        for constraint in _ROW_CONSTRAINTS:
            try:
                constraint.validate(Product, product, exclude=set(exclude))
            except ValidationError as error:
                errors.extend(_errors_of(error))
    # Deduplicate (clean() and a constraint may say the same thing).
    unique_errors = list(dict.fromkeys(errors))
    return (None, unique_errors) if unique_errors else (product, [])


def _changed_fields(existing: Product, candidate: Product, columns: list[str]) -> list[str]:
    changed = []
    for column in columns:
        name = _FIELD_OF_COLUMN[column]
        attname = Product._meta.get_field(name).attname
        if getattr(existing, attname) != getattr(candidate, attname):
            changed.append(name)
    return changed


# --- Service and task ------------------------------------------------------------------------


def import_format_of(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FORMATS:
        raise ApplicationError(
            _("Upload a .csv or .xlsx file (old .xls workbooks: save them as .xlsx first)."),
            code="import_format",
        )
    return extension


@transaction.atomic
def import_job_start(*, user: User, exhibitor_id: int, upload) -> ImportJob:
    """Store an uploaded catalogue file and queue its import (after commit). Owners and
    admins only (sales staff: Forbidden; others: NotFound). One import at a time per
    exhibitor: the exhibitor row is locked while checking."""
    exhibitor, _membership = access_exhibitor(
        user=user, exhibitor_id=exhibitor_id, edit=True, for_update=True
    )
    original_name = (getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255]
    file_format = import_format_of(original_name)
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise ApplicationError(_file_too_big_message(), code="import_too_large")
    upload.seek(0)
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ApplicationError(_file_too_big_message(), code="import_too_large")
    if not data:
        raise ApplicationError(_("The file is empty."), code="import_empty")
    busy = ImportJob.objects.filter(
        exhibitor=exhibitor,
        status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        created_at__gt=timezone.now() - STALE_JOB_AFTER,
    ).exists()
    if busy:
        raise ApplicationError(
            _("An import is already running for your catalogue. Wait until it has finished."),
            code="import_busy",
        )
    job = ImportJob(
        exhibitor=exhibitor,
        created_by=user,
        original_name=original_name,
        file_format=file_format,
    )
    job.file.save(f"{uuid.uuid4().hex}.{file_format}", ContentFile(data), save=False)
    job.save()
    import_job_run.delay_on_commit(job_id=job.pk)
    return job


def import_jobs_of(*, exhibitor: Exhibitor):
    return ImportJob.objects.filter(exhibitor=exhibitor).order_by("-created_at")


def access_import_job(*, user: User, exhibitor_id: int, job_id: int) -> tuple[ImportJob, object]:
    """An import job of an exhibitor the caller may edit; a job of another exhibitor is
    NotFound, as is a missing one."""
    exhibitor, membership = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    job = ImportJob.objects.filter(pk=job_id, exhibitor=exhibitor).first()
    if job is None:
        raise NotFound("No such import.")
    job.exhibitor = exhibitor
    return job, membership


def _fail(job: ImportJob, message: str) -> None:
    job.status = ImportJob.Status.FAILED
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def _write_chunk(
    *,
    job: ImportJob,
    creates: list[Product],
    updates: list[Product],
    update_fields: set[str],
) -> None:
    if creates:
        Product.objects.bulk_create(creates, batch_size=500)
    if updates:
        now = timezone.now()
        for product in updates:
            product.updated_at = now
        Product.objects.bulk_update(updates, sorted(update_fields | {"updated_at"}), batch_size=500)


def import_job_process(*, job_id: int) -> ImportJob | None:
    """Run (or resume) an import job; see the module docstring."""
    job = ImportJob.objects.select_related("exhibitor", "created_by").filter(pk=job_id).first()
    if job is None or job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
        return job
    language = job.created_by.language if job.created_by else None
    with translation.override(language):
        _process(job)
    return job


def _process(job: ImportJob) -> None:
    if job.status == ImportJob.Status.QUEUED:
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        with job.file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        _fail(job, _("The uploaded file is gone. Upload it again."))
        return
    try:
        parsed = parse_file(data, job.file_format)
    except ImportFileError as error:
        _fail(job, error.message)
        return
    if not parsed.rows:
        _fail(job, _("The file has a header row but no product rows."))
        return
    if job.total_rows != len(parsed.rows):
        job.total_rows = len(parsed.rows)
        job.save(update_fields=["total_rows"])

    exhibitor = job.exhibitor
    categories = list(Category.objects.only("id", "slug", "kind", "parent_id"))
    sections = {c.slug: c for c in categories if c.kind == Category.Kind.SECTION}
    category_slugs = {c.slug for c in categories if c.kind == Category.Kind.CATEGORY}
    skus = {cells.get("sku", "").strip() for _number, cells in parsed.rows}
    existing = {p.sku: p for p in Product.objects.filter(exhibitor=exhibitor, sku__in=skus - {""})}
    first_row_of_sku: dict[str, int] = {}
    for number, cells in parsed.rows:
        first_row_of_sku.setdefault(cells.get("sku", "").strip(), number)

    start = job.processed_rows  # > 0 when a redelivered task resumes
    for offset in range(start, len(parsed.rows), CHUNK_ROWS):
        chunk = parsed.rows[offset : offset + CHUNK_ROWS]
        _process_chunk(
            job=job,
            exhibitor=exhibitor,
            columns=parsed.columns,
            chunk=chunk,
            existing=existing,
            sections=sections,
            categories=category_slugs,
            first_row_of_sku=first_row_of_sku,
        )
    job.status = ImportJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])


def _process_chunk(
    *,
    job: ImportJob,
    exhibitor: Exhibitor,
    columns: list[str],
    chunk: list[tuple[int, dict[str, str]]],
    existing: dict[str, Product],
    sections: dict[str, Category],
    categories: set[str],
    first_row_of_sku: dict[str, int],
) -> None:
    creates: list[tuple[int, Product]] = []
    updates: list[tuple[int, Product]] = []
    update_fields: set[str] = set()
    unchanged = 0
    errors: list[dict] = []
    for number, cells in chunk:
        sku = cells.get("sku", "").strip()
        if sku and first_row_of_sku[sku] != number:
            errors.append(
                {
                    "row": number,
                    "column": "sku",
                    "message": _("This SKU is already used in row %(row)s of this file.")
                    % {"row": first_row_of_sku[sku]},
                }
            )
            continue
        current = existing.get(sku)
        product, row_errors = build_row(
            exhibitor=exhibitor,
            columns=columns,
            cells=cells,
            existing=current,
            sections=sections,
            categories=categories,
        )
        if row_errors:
            errors.extend({"row": number, "column": c, "message": m} for c, m in row_errors)
            continue
        if current is None:
            creates.append((number, product))
            continue
        changed = _changed_fields(current, product, columns)
        if not changed:
            unchanged += 1
            continue
        update_fields.update(changed)
        updates.append((number, product))

    created = [p for _n, p in creates]
    updated = [p for _n, p in updates]
    try:
        with transaction.atomic():
            _write_chunk(job=job, creates=created, updates=updated, update_fields=update_fields)
            _record_chunk(job, len(chunk), len(created), len(updated), unchanged, errors)
    except IntegrityError:
        # Someone else wrote one of these SKUs meanwhile: redo the chunk row by row.
        created, updated, more_errors = _write_rows_one_by_one(creates, updates, update_fields)
        errors.extend(more_errors)
        errors.sort(key=lambda e: e["row"])
        with transaction.atomic():
            _record_chunk(job, len(chunk), len(created), len(updated), unchanged, errors)
    for product in created + updated:
        existing[product.sku] = product


def _write_rows_one_by_one(creates, updates, update_fields):
    created, updated, errors = [], [], []
    for _number, product in creates:
        product.pk = None  # the failed bulk insert was rolled back
        product._state.adding = True
    for number, product in creates + updates:
        try:
            with transaction.atomic():
                if product._state.adding:
                    product.save(force_insert=True)
                    created.append(product)
                else:
                    product.updated_at = timezone.now()
                    product.save(update_fields=sorted(update_fields | {"updated_at"}))
                    updated.append(product)
        except IntegrityError:
            product.pk = None if product._state.adding else product.pk
            errors.append(
                {
                    "row": number,
                    "column": "sku",
                    "message": _("Someone else changed this SKU meanwhile. Import the file again."),
                }
            )
    return created, updated, errors


def _record_chunk(
    job: ImportJob, rows: int, created: int, updated: int, unchanged: int, errors: list[dict]
) -> None:
    job.processed_rows += rows
    job.created_count += created
    job.updated_count += updated
    job.unchanged_count += unchanged
    job.error_count += len({e["row"] for e in errors})
    room = MAX_STORED_ERRORS - len(job.errors)
    if room > 0:
        job.errors = [*job.errors, *errors[:room]]
    job.save(
        update_fields=[
            "processed_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error_count",
            "errors",
        ]
    )


@shared_task(name="exhibitors.imports.import_job_run")
def import_job_run(*, job_id: int) -> str | None:
    """Import one uploaded catalogue file (idempotent: a finished job is left alone; a
    redelivered running job resumes after its last committed chunk)."""
    job = import_job_process(job_id=job_id)
    return job.status if job else None
