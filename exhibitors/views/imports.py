"""Bulk import pages: upload a CSV or XLSX catalogue file, download the templates, follow
an import's progress (htmx polls a fragment) and read its error report.

Owners and admins of the exhibitor only (``access_exhibitor(edit=True)``): sales staff get
403, anyone else 404."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from exhibitors.imports import (
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    access_import_job,
    import_job_start,
    import_jobs_of,
    template_csv,
    template_xlsx,
)
from exhibitors.models import ImportJob
from exhibitors.selectors import access_exhibitor
from fair.exceptions import ApplicationError

RECENT_IMPORTS = 20


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Catalogue file"),
        help_text=gettext_lazy("CSV (UTF-8) or Excel .xlsx, at most 5 MB and 10,000 rows."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(
        user=request.user, exhibitor_id=exhibitor_id, edit=True
    )
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_start(
                user=request.user, exhibitor_id=exhibitor.pk, upload=form.cleaned_data["file"]
            )
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect("exhibitors:import_detail", exhibitor_id=exhibitor.pk, job_id=job.pk)
    jobs = import_jobs_of(exhibitor=exhibitor)[:RECENT_IMPORTS]
    return render(
        request,
        "exhibitors/imports/list.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "form": form,
            "jobs": jobs,
            "columns": COLUMNS,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
            "max_rows": MAX_ROWS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def import_template(request: HttpRequest, exhibitor_id: int, file_format: str) -> HttpResponse:
    access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
    if file_format == "csv":
        content, content_type = template_csv(), "text/csv; charset=utf-8"
    elif file_format == "xlsx":
        content = template_xlsx()
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise Http404(_("No such template."))
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="cloudfair-products.{file_format}"'
    return response


def _job_context(job: ImportJob) -> dict:
    finished = job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED)
    percent = round(100 * job.processed_rows / job.total_rows) if job.total_rows else 0
    return {
        "job": job,
        "exhibitor": job.exhibitor,
        "finished": finished,
        "percent": percent,
        "errors_shown": len(job.errors),
        "errors_truncated": len(job.errors) < job.error_count,
    }


@login_required
@require_GET
def import_detail(request: HttpRequest, exhibitor_id: int, job_id: int) -> HttpResponse:
    job, membership = access_import_job(user=request.user, exhibitor_id=exhibitor_id, job_id=job_id)
    context = _job_context(job)
    context["membership"] = membership
    return render(request, "exhibitors/imports/detail.html", context)


@login_required
@require_GET
def import_progress(request: HttpRequest, exhibitor_id: int, job_id: int) -> HttpResponse:
    """The fragment htmx polls every second until the job has finished."""
    job, _membership = access_import_job(
        user=request.user, exhibitor_id=exhibitor_id, job_id=job_id
    )
    response = render(request, "exhibitors/imports/_progress.html", _job_context(job))
    response["Cache-Control"] = "no-store"
    return response
