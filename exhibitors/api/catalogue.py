"""The booth and the catalogue of the caller's company: read (any staff role), change (owner
or admin). Sales staff get 403 on every change; non-staff get 404; anonymous callers 403.

Uploads (booth images, product images, 3D models) are checked by content in the services
(``fair.uploads``); a refused file answers 400 with the reason under the field's name."""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from exhibitors.api.base import PAGE_PARAMETERS, ExhibitorsApiView, page_of, paginated_response
from exhibitors.api.serializers import (
    BoothStaffOutputSerializer,
    BoothUpdateInputSerializer,
    ProductImageOutputSerializer,
    ProductImageUpdateInputSerializer,
    ProductImageUploadInputSerializer,
    ProductInputSerializer,
    ProductModelUploadInputSerializer,
    ProductStaffOutputSerializer,
    PublishInputSerializer,
)
from exhibitors.models import ProductImage
from exhibitors.selectors import (
    access_exhibitor,
    access_product,
    booth_for_staff,
    products_of_exhibitor_for_staff,
)
from exhibitors.services import (
    booth_publish,
    booth_update,
    product_create,
    product_delete,
    product_image_add,
    product_image_remove,
    product_image_update,
    product_model_set,
    product_publish,
    product_update,
)

BOOTH_TAG = "my booth"
PRODUCT_TAG = "my products"
UPLOAD_PARSERS = [MultiPartParser, FormParser]


# --- Booth -------------------------------------------------------------------------------


class BoothDetailApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="booth_detail",
        tags=[BOOTH_TAG],
        summary="The booth, published or not (any staff role)",
        responses=BoothStaffOutputSerializer,
    )
    def get(self, request, exhibitor_id: int):
        exhibitor, _membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
        return Response(BoothStaffOutputSerializer(booth_for_staff(exhibitor=exhibitor)).data)


class BoothUpdateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="booth_update",
        tags=[BOOTH_TAG],
        summary="Edit the booth (owner or admin); images as multipart",
        description=(
            "Only the fields sent change. Images are checked by content and re-encoded; a "
            "refused image answers 400 under its field and nothing is saved."
        ),
        request=BoothUpdateInputSerializer(partial=True),
        responses=BoothStaffOutputSerializer,
    )
    def patch(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = BoothUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        files = {
            name: values.pop(name)
            for name in BoothUpdateInputSerializer.FILE_FIELDS
            if name in values
        }
        booth = booth_update(user=request.user, exhibitor_id=exhibitor_id, data=values, files=files)
        return Response(BoothStaffOutputSerializer(booth).data)


class BoothPublishApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="booth_publish",
        tags=[BOOTH_TAG],
        summary="Publish or unpublish the booth (owner or admin)",
        description="Publishing needs a tagline or a story, and an exhibition section.",
        request=PublishInputSerializer,
        responses=BoothStaffOutputSerializer,
    )
    def post(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = PublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booth = booth_publish(
            user=request.user,
            exhibitor_id=exhibitor_id,
            published=data.validated_data["published"],
        )
        return Response(BoothStaffOutputSerializer(booth).data)


# --- Products ----------------------------------------------------------------------------


def _with_images(product):
    """The product with its images loaded in order, for the output after a change."""
    product._prefetched_objects_cache = {}
    prefetch_related_objects(
        [product], Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
    )
    return product


class MyProductListApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="my_product_list",
        tags=[PRODUCT_TAG],
        summary="All products of the company, published or not (any staff role)",
        parameters=PAGE_PARAMETERS,
        responses=page_of(ProductStaffOutputSerializer),
    )
    def get(self, request, exhibitor_id: int):
        exhibitor, _membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
        products = products_of_exhibitor_for_staff(exhibitor=exhibitor).order_by(
            "-updated_at", "-id"
        )
        return paginated_response(
            request=request,
            view=self,
            queryset=products,
            serializer_class=ProductStaffOutputSerializer,
        )


class ProductCreateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="product_create",
        tags=[PRODUCT_TAG],
        summary="Add a product (owner or admin)",
        request=ProductInputSerializer,
        responses={201: ProductStaffOutputSerializer},
    )
    def post(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = ProductInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_create(
            user=request.user, exhibitor_id=exhibitor_id, data=data.validated_data
        )
        return Response(
            ProductStaffOutputSerializer(_with_images(product)).data,
            status=status.HTTP_201_CREATED,
        )


class ProductUpdateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="product_update",
        tags=[PRODUCT_TAG],
        summary="Edit a product (owner or admin); only the fields sent change",
        request=ProductInputSerializer(partial=True),
        responses=ProductStaffOutputSerializer,
    )
    def patch(self, request, product_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_product(user=request.user, product_id=product_id)
        data = ProductInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = product_update(user=request.user, product_id=product_id, data=data.validated_data)
        return Response(ProductStaffOutputSerializer(_with_images(product)).data)


class ProductPublishApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="product_publish",
        tags=[PRODUCT_TAG],
        summary="Publish or unpublish a product (owner or admin)",
        request=PublishInputSerializer,
        responses=ProductStaffOutputSerializer,
    )
    def post(self, request, product_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_product(user=request.user, product_id=product_id)
        data = PublishInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_publish(
            user=request.user, product_id=product_id, published=data.validated_data["published"]
        )
        return Response(ProductStaffOutputSerializer(_with_images(product)).data)


class ProductDeleteApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="product_delete",
        tags=[PRODUCT_TAG],
        summary="Delete a product with its images and 3D model (owner or admin)",
        request=None,
        responses={204: None},
    )
    def delete(self, request, product_id: int):
        product_delete(user=request.user, product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductImageUploadApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = UPLOAD_PARSERS
    error_field = "image"

    @extend_schema(
        operation_id="product_image_upload",
        tags=[PRODUCT_TAG],
        summary="Add an image to a product (owner or admin)",
        description=(
            "JPEG, PNG or WebP, checked by content, at most 10 MB and 40 megapixels; "
            "re-encoded without EXIF. The thumbnail is made in the background."
        ),
        request=ProductImageUploadInputSerializer,
        responses={201: ProductImageOutputSerializer},
    )
    def post(self, request, product_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_product(user=request.user, product_id=product_id)
        data = ProductImageUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = product_image_add(
            user=request.user,
            product_id=product_id,
            upload=data.validated_data["image"],
            alt_text=data.validated_data.get("alt_text", ""),
        )
        return Response(ProductImageOutputSerializer(image).data, status=status.HTTP_201_CREATED)


class ProductImageUpdateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="product_image_update",
        tags=[PRODUCT_TAG],
        summary="Change an image's alt text or position (owner or admin)",
        request=ProductImageUpdateInputSerializer,
        responses=ProductImageOutputSerializer,
    )
    def patch(self, request, image_id: int):
        data = ProductImageUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = product_image_update(
            user=request.user,
            image_id=image_id,
            alt_text=data.validated_data.get("alt_text"),
            position=data.validated_data.get("position"),
        )
        return Response(ProductImageOutputSerializer(image).data)


class ProductImageDeleteApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="product_image_delete",
        tags=[PRODUCT_TAG],
        summary="Delete a product image (owner or admin)",
        request=None,
        responses={204: None},
    )
    def delete(self, request, image_id: int):
        product_image_remove(user=request.user, image_id=image_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductModelUploadApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = UPLOAD_PARSERS
    error_field = "model_3d"

    @extend_schema(
        operation_id="product_model_upload",
        tags=[PRODUCT_TAG],
        summary="Set the product's 3D model (GLB; owner or admin)",
        request=ProductModelUploadInputSerializer,
        responses=ProductStaffOutputSerializer,
    )
    def post(self, request, product_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_product(user=request.user, product_id=product_id)
        data = ProductModelUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_model_set(
            user=request.user, product_id=product_id, upload=data.validated_data["model_3d"]
        )
        return Response(ProductStaffOutputSerializer(_with_images(product)).data)
