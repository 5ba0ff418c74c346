"""Bulk import pages (in the ``exhibitors`` namespace; owners and admins of the exhibitor)."""

from django.urls import path

from exhibitors.views import imports

urlpatterns = [
    path("exhibit/<int:exhibitor_id>/imports/", imports.import_list, name="import_list"),
    path(
        "exhibit/<int:exhibitor_id>/imports/template.<str:file_format>",
        imports.import_template,
        name="import_template",
    ),
    path(
        "exhibit/<int:exhibitor_id>/imports/<int:job_id>/",
        imports.import_detail,
        name="import_detail",
    ),
    path(
        "exhibit/<int:exhibitor_id>/imports/<int:job_id>/progress/",
        imports.import_progress,
        name="import_progress",
    ),
]
