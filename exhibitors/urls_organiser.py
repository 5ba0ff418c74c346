"""Organiser pages of the exhibitors app, mounted under /organiser/exhibitors/ (see
fair/urls.py): the approval queue, an application, its decisions and the CSV export."""

from django.urls import path

from exhibitors.views import organiser

app_name = "org_exhibitors"

urlpatterns = [
    path("", organiser.exhibitor_list, name="list"),
    path("export.csv", organiser.exhibitors_export_csv, name="export_csv"),
    path("<int:exhibitor_id>/", organiser.exhibitor_detail, name="detail"),
    path("<int:exhibitor_id>/document/", organiser.exhibitor_document, name="document"),
    path("<int:exhibitor_id>/approve/", organiser.exhibitor_approve, name="approve"),
    path("<int:exhibitor_id>/reject/", organiser.exhibitor_reject, name="reject"),
    path("<int:exhibitor_id>/suspend/", organiser.exhibitor_suspend, name="suspend"),
    path("<int:exhibitor_id>/reinstate/", organiser.exhibitor_reinstate, name="reinstate"),
]
