"""Plumbing shared by the exhibitors API views: error answers and pagination.

Services raise ``fair.exceptions`` errors (turned into 400 / 403 / 404 by the project's
exception handler and by DRF) and Django ``ValidationError`` for bad field values (a model's
``full_clean``, an upload refused by its content). DRF would answer the latter with a 500, so
every view here turns it into a 400 with the messages keyed by field, like DRF's own
validation errors."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from fair.api.schema import ApiAutoSchema


def validation_error_detail(error: DjangoValidationError, *, field: str | None = None) -> dict:
    """``{field: [messages]}`` for a Django ValidationError. An error without fields is
    reported under ``field`` (e.g. ``image`` for a refused upload) or, failing that, under
    DRF's ``non_field_errors``."""
    non_field_key = api_settings.NON_FIELD_ERRORS_KEY
    if hasattr(error, "error_dict"):
        return {
            (non_field_key if name == NON_FIELD_ERRORS else name): messages
            for name, messages in error.message_dict.items()
        }
    return {field or non_field_key: error.messages}


# No docstring on purpose: drf-spectacular would show it as every subclass's description.
class ExhibitorsApiView(APIView):
    schema = ApiAutoSchema()
    #: Where a Django ValidationError without field names is reported.
    error_field: str | None = None

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(validation_error_detail(exc, field=self.error_field))
        elif isinstance(exc, Http404):
            # One answer for "missing" and "not yours", whichever selector raised it: the
            # messages differ ("No such product." / "No such exhibitor.") and would tell an
            # outsider that another company's product id exists.
            exc = exceptions.NotFound()
        return super().handle_exception(exc)


class ApiPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Items per page (default 20, at most 100)."),
]


def paginated_response(*, request, view, queryset, serializer_class, context=None) -> Response:
    paginator = ApiPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {}).data
    return paginator.get_paginated_response(data)


def page_of(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The OpenAPI shape of a page of ``serializer_class`` items (``ApiPagination``)."""
    name = serializer_class.__name__.removesuffix("OutputSerializer") + "PageSerializer"
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
            "__module__": __name__,
        },
    )
