"""The import service, the Celery task and the chunked writes."""

from __future__ import annotations

import uuid

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exhibitors.imports.columns import (
    CHUNK_ROWS,
    FORMATS,
    MAX_FILE_BYTES,
    MAX_STORED_ERRORS,
    STALE_JOB_AFTER,
    ImportFileError,
)
from exhibitors.imports.files import file_too_big_message, parse_file
from exhibitors.imports.rows import build_row, changed_fields
from exhibitors.models import Exhibitor, ImportJob, Product
from exhibitors.selectors import access_exhibitor
from fair.exceptions import ApplicationError, NotFound
from fair.models import Category, User

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
        raise ApplicationError(file_too_big_message(), code="import_too_large")
    upload.seek(0)
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ApplicationError(file_too_big_message(), code="import_too_large")
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
        _bulk_update(updates, sorted(update_fields | {"updated_at"}))


def _bulk_update(products: list[Product], field_names: list[str]) -> None:
    """``UPDATE ... FROM (VALUES ...)`` on PostgreSQL: one statement per chunk, values
    prepared by the model fields themselves. Django's ``bulk_update`` builds a ``CASE WHEN``
    expression per row and field, which cost most of an update-heavy import's time."""
    connection = connections[router.db_for_write(Product)]
    if connection.vendor != "postgresql":
        Product.objects.bulk_update(products, field_names, batch_size=500)
        return
    quote = connection.ops.quote_name
    fields = [Product._meta.get_field(name) for name in field_names]
    pk = Product._meta.pk
    casts = [f"%s::{pk.db_type(connection)}", *(f"%s::{f.db_type(connection)}" for f in fields)]
    row_sql = "(" + ", ".join(casts) + ")"
    params: list = []
    for product in products:
        params.append(product.pk)
        params.extend(f.get_db_prep_save(getattr(product, f.attname), connection) for f in fields)
    columns = [quote(pk.column), *(quote(f.column) for f in fields)]
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    table = quote(Product._meta.db_table)
    sql = (
        f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 (names from the model only)
        f"FROM (VALUES {', '.join([row_sql] * len(products))}) AS v({', '.join(columns)}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
        changed = changed_fields(current, product, columns)
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


def _constraint_error(error: IntegrityError) -> tuple[str, str]:
    """(column, message) for a database constraint violation, in the model's words."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    for constraint in Product._meta.constraints:
        if constraint.name == name:
            fields = list(getattr(constraint, "fields", ()))
            column = "sku" if "sku" in fields else ""
            return column, str(constraint.get_violation_error_message())
    return "", _("The database refused this row: %(error)s") % {"error": str(error)[:200]}


def _write_rows_one_by_one(creates, updates, update_fields):
    """After a chunk's bulk write hit a constraint (a row that passed validation but not the
    database, or a SKU someone created meanwhile): write each row in its own savepoint and
    report the rows the database refuses."""
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
        except IntegrityError as error:
            if product._state.adding:
                product.pk = None
            column, message = _constraint_error(error)
            errors.append({"row": number, "column": column, "message": message})
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
