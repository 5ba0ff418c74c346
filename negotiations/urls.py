"""Pages and file doors of the negotiations app, in the ``negotiations`` namespace (mounted
at ``/negotiations/``): attachment
downloads and CSV exports (``negotiations.views``)."""

from django.urls import path

from negotiations import views

app_name = "negotiations"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/download/",
        views.attachment_download,
        name="attachment_download",
    ),
    path("<int:negotiation_id>/transcript.csv", views.transcript_csv, name="transcript_csv"),
    path("exhibitor/<int:exhibitor_id>/leads.csv", views.leads_csv, name="leads_csv"),
]
