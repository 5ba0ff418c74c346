"""Bulk imports of the caller's catalogue (owner or admin): upload a CSV or XLSX file, then
poll the job for its progress and its row-by-row error report. The stored file itself is
private and never offered for download here."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from exhibitors.api.base import PAGE_PARAMETERS, ExhibitorsApiView, page_of, paginated_response
from exhibitors.imports import access_import_job, import_job_start, import_jobs_of
from exhibitors.selectors import access_exhibitor

TAG = "my product imports"


class ImportJobInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A .csv (UTF-8) or .xlsx file in the template's columns, at most 5 MB."
    )


class ImportRowErrorOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class ImportJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    file_format = serializers.CharField()
    status = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    unchanged_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    errors = ImportRowErrorOutputSerializer(many=True)
    message = serializers.CharField(help_text="A file-level error, if any.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportJobCreateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    error_field = "file"

    @extend_schema(
        operation_id="import_job_create",
        tags=[TAG],
        summary="Start importing a product file (owner or admin)",
        description=(
            "The file is checked and imported in the background; poll the job. Rows with an "
            "existing SKU update that product; invalid rows are reported and not imported."
        ),
        request=ImportJobInputSerializer,
        responses={202: ImportJobOutputSerializer},
    )
    def post(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = ImportJobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_job_start(
            user=request.user, exhibitor_id=exhibitor_id, upload=data.validated_data["file"]
        )
        return Response(ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobListApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="import_job_list",
        tags=[TAG],
        summary="The company's imports, newest first (owner or admin)",
        parameters=PAGE_PARAMETERS,
        responses=page_of(ImportJobOutputSerializer),
    )
    def get(self, request, exhibitor_id: int):
        exhibitor, _membership = access_exhibitor(
            user=request.user, exhibitor_id=exhibitor_id, edit=True
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=import_jobs_of(exhibitor=exhibitor).order_by("-created_at", "-id"),
            serializer_class=ImportJobOutputSerializer,
        )


class ImportJobDetailApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="import_job_detail",
        tags=[TAG],
        summary="One import: progress, counts and row errors (owner or admin)",
        responses=ImportJobOutputSerializer,
    )
    def get(self, request, exhibitor_id: int, job_id: int):
        job, _membership = access_import_job(
            user=request.user, exhibitor_id=exhibitor_id, job_id=job_id
        )
        return Response(ImportJobOutputSerializer(job).data)
