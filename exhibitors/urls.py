"""Every page of the exhibitors app, in the ``exhibitors`` namespace.

* ``exhibit/...``: the exhibitor's own area (apply, booth builder, catalogue, staff)
* public pages (directory, booths, products, categories): ``urls_public``
* bulk import: ``urls_imports``; search: ``urls_search``"""

from django.urls import include, path

from exhibitors.views import manage

app_name = "exhibitors"

urlpatterns = [
    path("exhibit/", manage.dashboard, name="dashboard"),
    path("exhibit/apply/", manage.apply, name="apply"),
    path("exhibit/invitations/<str:token>/", manage.invitation_accept, name="invitation_accept"),
    path("exhibit/<int:exhibitor_id>/", manage.exhibitor_home, name="manage"),
    path("exhibit/<int:exhibitor_id>/company/", manage.company_edit, name="company_edit"),
    path("exhibit/<int:exhibitor_id>/booth/", manage.booth_edit, name="booth_edit"),
    path("exhibit/<int:exhibitor_id>/booth/preview/", manage.booth_preview, name="booth_preview"),
    path("exhibit/<int:exhibitor_id>/booth/publish/", manage.booth_publish, name="booth_publish"),
    path(
        "exhibit/<int:exhibitor_id>/booth/image/<str:field>/remove/",
        manage.booth_image_remove,
        name="booth_image_remove",
    ),
    path("exhibit/<int:exhibitor_id>/products/", manage.product_list, name="product_list"),
    path("exhibit/<int:exhibitor_id>/products/new/", manage.product_create, name="product_create"),
    path("exhibit/products/<int:product_id>/", manage.product_edit, name="product_edit"),
    path(
        "exhibit/products/<int:product_id>/publish/",
        manage.product_publish,
        name="product_publish",
    ),
    path("exhibit/products/<int:product_id>/delete/", manage.product_delete, name="product_delete"),
    path("exhibit/products/<int:product_id>/images/", manage.product_images, name="product_images"),
    path(
        "exhibit/images/<int:image_id>/remove/",
        manage.product_image_remove,
        name="product_image_remove",
    ),
    path("exhibit/<int:exhibitor_id>/staff/", manage.staff, name="staff"),
    path("exhibit/staff/<int:member_id>/role/", manage.staff_role, name="staff_role"),
    path("exhibit/staff/<int:member_id>/remove/", manage.staff_remove, name="staff_remove"),
    path(
        "exhibit/invitations/<int:invitation_id>/revoke/",
        manage.invitation_revoke,
        name="invitation_revoke",
    ),
    path("", include("exhibitors.urls_public")),
    path("", include("exhibitors.urls_imports")),
    path("", include("exhibitors.urls_search")),
]
