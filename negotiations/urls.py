"""Pages and file doors of the negotiations app, in the ``negotiations`` namespace (mounted
at ``/negotiations/``): the inboxes and the room (``negotiations.pages``), attachment
downloads and image previews and the CSV / PDF exports (``negotiations.views``), and the
navigation badge's count as JSON (``negotiations.pages.badge``)."""

from django.urls import path

from negotiations import views
from negotiations.pages import badge, inboxes, rooms

app_name = "negotiations"

urlpatterns = [
    path("", inboxes.my_negotiations, name="list"),
    path("start/<int:exhibitor_id>/", rooms.start, name="start"),
    path("exhibitor/<int:exhibitor_id>/", inboxes.exhibitor_inbox, name="exhibitor_inbox"),
    path("<int:negotiation_id>/", rooms.room, name="room"),
    path("<int:negotiation_id>/assign/", rooms.assign, name="assign"),
    path("<int:negotiation_id>/close/", rooms.close, name="close"),
    path("<int:negotiation_id>/reopen/", rooms.reopen, name="reopen"),
    path(
        "attachments/<int:attachment_id>/download/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "attachments/<int:attachment_id>/preview/",
        views.attachment_download,
        {"preview": True},
        name="attachment_preview",
    ),
    path("unread/", badge.unread_json, name="unread"),
    path("<int:negotiation_id>/transcript.csv", views.transcript_csv, name="transcript_csv"),
    path("<int:negotiation_id>/transcript.pdf", views.transcript_pdf, name="transcript_pdf"),
    path("exhibitor/<int:exhibitor_id>/leads.csv", views.leads_csv, name="leads_csv"),
]
