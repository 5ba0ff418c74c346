"""What a negotiation attachment may be, judged by its content (``fair.uploads`` rules, plus
spreadsheets): PDF, JPEG / PNG / WebP images, XLSX workbooks and CSV text, up to 20 MB.

The file's name only picks which check applies (an allow-list of extensions); the content
must then be that kind of file, so an executable renamed ``specs.pdf`` or a script renamed
``prices.csv`` is refused. In detail:

* **PDF**: ``fair.uploads.pdf_clean`` (header and end-of-file marker), then refused if it is
  encrypted or carries active content (JavaScript, launch actions, embedded files, rich media,
  XFA forms); names written with ``#xx`` escapes are decoded before looking. Downloads are
  always served as attachments, never rendered inline by us.
* **Images**: ``fair.uploads.image_clean``: decoded, at most 40 megapixels and 10 MB,
  re-encoded (EXIF and anything appended to the file are dropped).
* **XLSX**: a ZIP archive with ``[Content_Types].xml`` and ``xl/workbook.xml``; macro-enabled
  workbooks (``vbaProject.bin``) and archives that would expand past 100 MB, hold more than
  5,000 entries or compress more than 100 to 1 (zip bombs) are refused. Nothing is extracted.
* **CSV**: UTF-8 (a byte-order mark is allowed) or UTF-16 with a byte-order mark, without NUL
  bytes or other control characters, not starting like a script (``#!``) or markup (``<``).

The stored name is server-generated (``negotiations.models.attachment_upload_to``); the name
shown and used for downloads is ``safe_file_name``: control and bidirectional-override
characters removed, every character outside letters, digits, space, ``-_()`` replaced, inner
dots flattened (``evil.php.jpg`` becomes ``evil_php.jpg``), and the extension of the checked
content."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from fair.uploads import image_clean, pdf_clean

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_XLSX_EXPANDED_BYTES = 100 * 1024 * 1024
MAX_XLSX_ENTRIES = 5000
MAX_XLSX_RATIO = 100
MAX_NAME_LENGTH = 100

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
ALLOWED_EXTENSIONS = ("pdf", *IMAGE_EXTENSIONS, "xlsx", "csv")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}

# PDF names that start something when the file is opened, or hide other files.
_PDF_ACTIVE = (
    b"/javascript",
    b"/js",
    b"/launch",
    b"/embeddedfile",
    b"/embeddedfiles",
    b"/richmedia",
    b"/xfa",
    b"/encrypt",
)
_PDF_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Control characters other than tab, line feed, carriage return (and form feed, which some
# spreadsheet exports write).
_CSV_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BIDI_AND_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NAME_UNSAFE = re.compile(r"[^\w\- ()]+", re.UNICODE)


@dataclass(frozen=True)
class CleanAttachment:
    file: ContentFile
    extension: str
    content_type: str
    size: int
    sha256: str
    safe_name: str


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _read_all(upload) -> bytes:
    too_big = _("The file is larger than 20 MB. Please send a smaller one.")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        raise _refuse(too_big, "too_large")
    upload.seek(0)
    data = upload.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise _refuse(too_big, "too_large")
    if not data:
        raise _refuse(_("The file is empty."), "empty")
    return data


def extension_of(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def safe_file_name(original: str, extension: str) -> str:
    """A name safe to show and to send in ``Content-Disposition``: see the module docstring."""
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = _BIDI_AND_INVISIBLE.sub("", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _NAME_UNSAFE.sub("_", stem).strip(" _.")
    stem = re.sub(r"_+", "_", stem)[: MAX_NAME_LENGTH - len(extension) - 1].strip(" _")
    return f"{stem or 'attachment'}.{extension}"


def _pdf_check(data: bytes) -> None:
    pdf_clean(io.BytesIO(data))
    names = set()
    for raw in _PDF_NAME.findall(data):
        decoded = _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        names.add(decoded.lower())
    if any(name in names for name in _PDF_ACTIVE):
        raise _refuse(
            _(
                "This PDF is encrypted or contains scripts, actions or embedded files. "
                "Please send a plain PDF (print it to PDF again)."
            ),
            "active_pdf",
        )


def _xlsx_check(data: bytes) -> None:
    not_xlsx = _refuse(_("This file is not an Excel workbook (.xlsx)."), "not_xlsx")
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_XLSX_ENTRIES:
                raise not_xlsx
            names = {entry.filename for entry in entries}
            expanded = sum(entry.file_size for entry in entries)
            compressed = sum(entry.compress_size for entry in entries) or 1
            if expanded > MAX_XLSX_EXPANDED_BYTES or expanded / compressed > MAX_XLSX_RATIO:
                raise _refuse(_("This workbook expands to far too much data."), "zip_bomb")
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise not_xlsx
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise _refuse(
                    _("Workbooks with macros are not accepted. Save it as a plain .xlsx."),
                    "macro_workbook",
                )
            content_types = archive.read("[Content_Types].xml")
            if b"macroEnabled" in content_types:
                raise _refuse(
                    _("Workbooks with macros are not accepted. Save it as a plain .xlsx."),
                    "macro_workbook",
                )
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, NotImplementedError):
        raise not_xlsx from None


def _csv_check(data: bytes) -> None:
    not_csv = _refuse(
        _("This file is not a CSV text file. Save it as CSV (UTF-8) and send it again."),
        "not_csv",
    )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise not_csv from None
    head = text.lstrip()[:2]
    if _CSV_CONTROL.search(text) or head.startswith(("#!", "<", "MZ")):
        raise not_csv


def attachment_clean(upload, *, name: str) -> CleanAttachment:
    """Check an uploaded file (``name`` is the name the sender gave it) and return what to
    store. Raises ``ValidationError`` with a message a person understands."""
    extension = extension_of(name)
    if extension not in ALLOWED_EXTENSIONS:
        raise _refuse(
            _("Send a PDF, a JPEG, PNG or WebP image, an Excel workbook (.xlsx) or a CSV file."),
            "unsupported",
        )
    data = _read_all(upload)
    if extension == "pdf":
        _pdf_check(data)
    elif extension in IMAGE_EXTENSIONS:
        clean = image_clean(io.BytesIO(data), max_side=8000, quality=90)
        data = clean.file.read()
        extension = clean.file.name.rsplit(".", 1)[-1]
    elif extension == "xlsx":
        _xlsx_check(data)
    else:
        _csv_check(data)
    return CleanAttachment(
        file=ContentFile(data, name=f"{uuid.uuid4().hex}.{extension}"),
        extension=extension,
        content_type=CONTENT_TYPES[extension],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        safe_name=safe_file_name(name, extension),
    )
