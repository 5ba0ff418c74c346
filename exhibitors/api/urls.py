"""API routes of the exhibitors app (mounted under /api/v1/ without a namespace).

One view per operation (HackSoft style): reads are GET, creations POST, edits PATCH, actions
(publish, invite, role) POST, deletions DELETE.

* ``exhibitors/``, ``products/``, ``search/``: public reads of approved exhibitors and
  published products
* ``exhibit/...``: the caller's own companies, booths, catalogues and imports (staff only)"""

from django.urls import path

from exhibitors.api import catalogue, company, import_jobs, public, search

urlpatterns = [
    # Public reads
    path("exhibitors/", public.ExhibitorListApi.as_view(), name="api_exhibitor_list"),
    path(
        "exhibitors/<slug:slug>/", public.ExhibitorDetailApi.as_view(), name="api_exhibitor_detail"
    ),
    path(
        "exhibitors/<slug:slug>/products/",
        public.ExhibitorProductListApi.as_view(),
        name="api_exhibitor_product_list",
    ),
    path(
        "products/<int:product_id>/", public.ProductDetailApi.as_view(), name="api_product_detail"
    ),
    # Search (views of exhibitors.api.search, part B)
    path("search/", search.ProductSearchApi.as_view(), name="api_search"),
    path("search/suggest/", search.ProductSuggestApi.as_view(), name="api_search_suggest"),
    # The caller's companies and staff
    path("exhibit/exhibitors/", company.MembershipListApi.as_view(), name="api_membership_list"),
    path(
        "exhibit/exhibitors/apply/", company.ExhibitorApplyApi.as_view(), name="api_exhibitor_apply"
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/",
        company.MyExhibitorDetailApi.as_view(),
        name="api_my_exhibitor_detail",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/update/",
        company.ExhibitorProfileUpdateApi.as_view(),
        name="api_exhibitor_update",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/staff/",
        company.StaffListApi.as_view(),
        name="api_staff_list",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/staff/invite/",
        company.StaffInviteApi.as_view(),
        name="api_staff_invite",
    ),
    path(
        "exhibit/staff/<int:member_id>/role/",
        company.StaffRoleChangeApi.as_view(),
        name="api_staff_role_change",
    ),
    path(
        "exhibit/staff/<int:member_id>/remove/",
        company.StaffRemoveApi.as_view(),
        name="api_staff_remove",
    ),
    # Booth
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/booth/",
        catalogue.BoothDetailApi.as_view(),
        name="api_booth_detail",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/booth/update/",
        catalogue.BoothUpdateApi.as_view(),
        name="api_booth_update",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/booth/publish/",
        catalogue.BoothPublishApi.as_view(),
        name="api_booth_publish",
    ),
    # Products
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/products/",
        catalogue.MyProductListApi.as_view(),
        name="api_my_product_list",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/products/create/",
        catalogue.ProductCreateApi.as_view(),
        name="api_product_create",
    ),
    path(
        "exhibit/products/<int:product_id>/update/",
        catalogue.ProductUpdateApi.as_view(),
        name="api_product_update",
    ),
    path(
        "exhibit/products/<int:product_id>/publish/",
        catalogue.ProductPublishApi.as_view(),
        name="api_product_publish",
    ),
    path(
        "exhibit/products/<int:product_id>/delete/",
        catalogue.ProductDeleteApi.as_view(),
        name="api_product_delete",
    ),
    path(
        "exhibit/products/<int:product_id>/images/upload/",
        catalogue.ProductImageUploadApi.as_view(),
        name="api_product_image_upload",
    ),
    path(
        "exhibit/images/<int:image_id>/update/",
        catalogue.ProductImageUpdateApi.as_view(),
        name="api_product_image_update",
    ),
    path(
        "exhibit/images/<int:image_id>/delete/",
        catalogue.ProductImageDeleteApi.as_view(),
        name="api_product_image_delete",
    ),
    path(
        "exhibit/products/<int:product_id>/model/",
        catalogue.ProductModelUploadApi.as_view(),
        name="api_product_model_upload",
    ),
    # Bulk imports
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/imports/",
        import_jobs.ImportJobListApi.as_view(),
        name="api_import_job_list",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/imports/create/",
        import_jobs.ImportJobCreateApi.as_view(),
        name="api_import_job_create",
    ),
    path(
        "exhibit/exhibitors/<int:exhibitor_id>/imports/<int:job_id>/",
        import_jobs.ImportJobDetailApi.as_view(),
        name="api_import_job_detail",
    ),
]
