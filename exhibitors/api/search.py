"""Public catalogue search API (anyone; the anonymous throttle applies): the same
``exhibitors.search.products_search`` as the search page."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from exhibitors.models import CURRENCIES
from exhibitors.search import PAGE_SIZE, SORTS, SearchParams, products_search, products_suggest
from fair.api.schema import ApiAutoSchema


class ProductSearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    category = serializers.SlugField(
        required=False, default="", help_text="A section or top-level category slug."
    )
    country = serializers.CharField(required=False, max_length=2, default="")
    currency = serializers.ChoiceField(
        choices=CURRENCIES,
        required=False,
        default="USD",
        help_text="Price filters compare prices in this currency only (no conversion).",
    )
    price_min = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=None
    )
    price_max = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, default=None
    )
    moq_max = serializers.IntegerField(min_value=1, required=False, default=None)
    certification = serializers.CharField(required=False, max_length=40, default="")
    new_launch = serializers.BooleanField(required=False, default=False)
    live = serializers.BooleanField(required=False, default=False)
    sort = serializers.ChoiceField(choices=SORTS, required=False, default="relevance")
    page = serializers.IntegerField(min_value=1, required=False, default=1)


class SearchProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField(source="category.slug")
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    moq = serializers.IntegerField()
    moq_unit = serializers.CharField()
    is_new_launch = serializers.BooleanField()
    certifications = serializers.ListField(child=serializers.CharField())
    exhibitor_slug = serializers.CharField(source="exhibitor.slug")
    exhibitor_name = serializers.CharField(source="exhibitor.display_name")
    exhibitor_country = serializers.CharField(source="exhibitor.country.code")
    thumbnail = serializers.SerializerMethodField()

    def get_thumbnail(self, product) -> str | None:
        images = getattr(product, "ordered_images", None) or []
        if not images:
            return None
        image = images[0]
        url = image.thumbnail.url if image.thumbnail else image.image.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class FacetOutputSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FacetsOutputSerializer(serializers.Serializer):
    categories = FacetOutputSerializer(many=True)
    countries = FacetOutputSerializer(many=True)
    new_launch = serializers.IntegerField()
    live = serializers.IntegerField()
    is_estimate = serializers.BooleanField()


class SearchExhibitorOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    display_name = serializers.CharField()
    country = serializers.CharField(source="country.code")
    is_live = serializers.BooleanField()


class ProductSearchOutputSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    total_is_estimate = serializers.BooleanField(help_text="More matches than counted.")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    corrected_query = serializers.CharField(allow_null=True)
    timed_out = serializers.BooleanField()
    results = SearchProductOutputSerializer(many=True, source="products")
    exhibitors = SearchExhibitorOutputSerializer(many=True)
    facets = FacetsOutputSerializer()


class ProductSearchApi(APIView):
    """Search published products of approved exhibitors, with facet counts, exhibitor
    name matches and typo correction (``corrected_query``). A search that takes too long
    answers 200 with ``timed_out: true`` and no results."""

    permission_classes = [permissions.AllowAny]
    schema = ApiAutoSchema()

    @extend_schema(
        tags=["search"],
        parameters=[ProductSearchInputSerializer],
        responses=ProductSearchOutputSerializer,
    )
    def get(self, request):
        params_in = ProductSearchInputSerializer(data=request.query_params)
        params_in.is_valid(raise_exception=True)
        result = products_search(SearchParams(**params_in.validated_data))
        data = ProductSearchOutputSerializer(
            {**result.__dict__, "page_size": PAGE_SIZE}, context={"request": request}
        ).data
        return Response(data)


class ProductSuggestApi(APIView):
    """Autocomplete for a search box: public product names and completed words."""

    permission_classes = [permissions.AllowAny]
    schema = ApiAutoSchema()

    @extend_schema(
        tags=["search"],
        parameters=[OpenApiParameter("q", str, description="What was typed so far.")],
        responses=inline_serializer(
            "ProductSuggestOutput",
            {"suggestions": serializers.ListField(child=serializers.CharField())},
        ),
    )
    def get(self, request):
        return Response({"suggestions": products_suggest(request.query_params.get("q", ""))})
