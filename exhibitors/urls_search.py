"""Catalogue search (public): the page and its autocomplete, in the ``exhibitors``
namespace."""

from django.urls import path

from exhibitors.views import search

urlpatterns = [
    path("search/", search.search, name="search"),
    path("search/suggest/", search.suggest, name="search_suggest"),
]
