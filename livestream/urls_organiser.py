"""Organiser pages of the livestream app, mounted under /organiser/live/ (see fair/urls.py)."""

from django.urls import path

from livestream.pages import organiser

app_name = "org_live"

urlpatterns = [
    path("reports/", organiser.reports, name="reports"),
    path("reports/<int:message_id>/decide/", organiser.report_decide, name="report_decide"),
    path("sessions/", organiser.sessions, name="sessions"),
    path("sessions/export.csv", organiser.sessions_csv, name="sessions_csv"),
    path("sessions/<int:session_id>/stop/", organiser.stream_stop, name="stream_stop"),
]
