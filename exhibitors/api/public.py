"""Public read API: approved exhibitors, their published booths and published products.

Anyone may call these (the anonymous throttle applies). Pending, rejected and suspended
exhibitors and unpublished products answer 404 exactly like ids that do not exist."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response

from exhibitors.api.base import PAGE_PARAMETERS, ExhibitorsApiView, page_of, paginated_response
from exhibitors.api.serializers import (
    ExhibitorFilterInputSerializer,
    ExhibitorListOutputSerializer,
    ExhibitorPublicOutputSerializer,
    ProductPublicOutputSerializer,
    ProductSummaryOutputSerializer,
)
from exhibitors.models import ProductImage
from exhibitors.selectors import (
    exhibitor_public_get,
    exhibitors_public,
    product_public_get,
    products_public,
)

TAG = "exhibitors (public)"


def _images_in_order() -> Prefetch:
    return Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


def _directory(*, country=None, section=None, live=None, new_launches=None):
    """Approved exhibitors for the directory, filtered; three queries for a page (count,
    rows with booth and section, main categories) whatever its length."""
    exhibitors = (
        exhibitors_public()
        .select_related("booth", "booth__section")
        .prefetch_related("main_categories")
        .order_by("display_name", "id")
    )
    if country:
        exhibitors = exhibitors.filter(country=country)
    if section:
        # The section is part of the booth: an unpublished booth says nothing in public.
        exhibitors = exhibitors.filter(booth__is_published=True, booth__section__slug=section)
    if live is not None:
        exhibitors = exhibitors.filter(is_live=live)
    if new_launches:
        exhibitors = exhibitors.filter(
            Exists(products_public().filter(exhibitor=OuterRef("pk"), is_new_launch=True))
        )
    return exhibitors


class ExhibitorListApi(ExhibitorsApiView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="exhibitor_list",
        tags=[TAG],
        summary="Approved exhibitors (directory)",
        parameters=[
            OpenApiParameter("country", str, description="ISO 3166-1 alpha-2 code."),
            OpenApiParameter("section", str, description="Slug of an exhibition section."),
            OpenApiParameter("live", bool, description="Only exhibitors streaming now (true)."),
            OpenApiParameter(
                "new_launches", bool, description="Only exhibitors with new launches (true)."
            ),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(ExhibitorListOutputSerializer),
    )
    def get(self, request):
        filters = ExhibitorFilterInputSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            request=request,
            view=self,
            queryset=_directory(**filters.validated_data),
            serializer_class=ExhibitorListOutputSerializer,
        )


class ExhibitorDetailApi(ExhibitorsApiView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="exhibitor_detail",
        tags=[TAG],
        summary="One approved exhibitor with its published booth",
        description="The booth's contact details are shown to signed-in callers only.",
        responses=ExhibitorPublicOutputSerializer,
    )
    def get(self, request, slug: str):
        exhibitor = exhibitor_public_get(slug=slug)
        context = {"show_contact": request.user.is_authenticated}
        return Response(ExhibitorPublicOutputSerializer(exhibitor, context=context).data)


class ExhibitorProductListApi(ExhibitorsApiView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="exhibitor_product_list",
        tags=[TAG],
        summary="Published products of an approved exhibitor",
        parameters=PAGE_PARAMETERS,
        responses=page_of(ProductSummaryOutputSerializer),
    )
    def get(self, request, slug: str):
        exhibitor = exhibitor_public_get(slug=slug)
        products = (
            products_public()
            .filter(exhibitor=exhibitor)
            .select_related("category")
            .prefetch_related(_images_in_order())
            .order_by("-created_at", "-id")
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=products,
            serializer_class=ProductSummaryOutputSerializer,
        )


class ProductDetailApi(ExhibitorsApiView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="product_detail",
        tags=[TAG],
        summary="One published product of an approved exhibitor",
        responses=ProductPublicOutputSerializer,
    )
    def get(self, request, product_id: int):
        product = product_public_get(product_id=product_id)
        return Response(ProductPublicOutputSerializer(product).data)
