"""Bulk import of products from CSV or XLSX files.

Shape of an import:

1. ``import_job_start`` (a service) checks the caller (owners and admins only), the file's
   name and size, stores the file privately under a generated name, creates an ``ImportJob``
   and queues ``import_job_run`` once the transaction commits.
2. ``import_job_run`` (a Celery task) parses the whole file first. Every file-level problem
   (encoding, header, size, row count, a zip bomb, a file that is not what its name says)
   is found here, before any write: the job fails with a message and nothing changes.
3. Rows are then validated with the model's own validators (``full_clean``; the database
   enforces the constraints on write) and written in chunks of ``CHUNK_ROWS``: new SKUs
   with ``bulk_create``, changed ones with one ``UPDATE ... FROM (VALUES ...)`` per chunk,
   unchanged ones not at all. A row is one product, so it is imported whole
   or not at all; invalid rows are reported (row, column, message) and the valid rows of the
   same file are still imported.

Each chunk's writes and the job's counters commit together, so a redelivered task (workers
ack late) resumes after the last committed chunk with exact counts, and re-running a
finished job does nothing.

Modules: ``columns`` (the file's columns and limits), ``files`` (reading CSV/XLSX, the
templates), ``rows`` (cells to a validated product), ``jobs`` (service, task, writes)."""

from exhibitors.imports.columns import (
    COLUMN_NAMES,
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    Column,
    ImportFileError,
    ParsedFile,
)
from exhibitors.imports.files import parse_file, template_csv, template_xlsx
from exhibitors.imports.jobs import (
    access_import_job,
    import_job_process,
    import_job_run,
    import_job_start,
    import_jobs_of,
)

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Column",
    "ImportFileError",
    "ParsedFile",
    "access_import_job",
    "import_job_process",
    "import_job_run",
    "import_job_start",
    "import_jobs_of",
    "parse_file",
    "template_csv",
    "template_xlsx",
]
