"""Reading CSV and XLSX files (every file-level check happens here, before any write) and
writing the downloadable templates."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

from django.utils.translation import gettext as _

from exhibitors.imports.columns import (
    COLUMN_NAMES,
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_XLSX_ENTRIES,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    REQUIRED_COLUMNS,
    ImportFileError,
    ParsedFile,
)
from fair.models import Category

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
        raise ImportFileError(file_too_big_message())
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFileError(_("The file is empty."))
    if file_format == "xlsx":
        return parse_xlsx(data)
    return parse_csv(data)


def file_too_big_message() -> str:
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
