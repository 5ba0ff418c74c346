"""Organiser pages of the negotiations app, mounted at /organiser/negotiations/ (see
fair/urls.py): figures and purchase intents in aggregate, never a room's contents."""

from django.urls import path

from negotiations import organiser

app_name = "org_negotiations"

urlpatterns = [
    path("", organiser.overview, name="overview"),
    path("intents.csv", organiser.intents_csv, name="intents_csv"),
]
