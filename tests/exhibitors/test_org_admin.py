"""The exhibitors app's Django admin: every model registered with search and filters, and
every change list answers a search."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.exhibitors.factories import make_exhibitor, make_product
from tests.factories import make_organiser, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("app_label", ["exhibitors", "buyers"])
def test_org_admin_every_model_registered_with_search_and_filters(app_label):
    for model in apps.get_app_config(app_label).get_models():
        model_admin = admin.site._registry.get(model)
        assert model_admin is not None, f"{model.__name__} is not in the admin"
        assert model_admin.search_fields, f"{model.__name__} has no search_fields"
        assert model_admin.list_filter, f"{model.__name__} has no list_filter"


def test_org_admin_every_exhibitors_change_list_searches(client):
    exhibitor = make_exhibitor(name="Searchable Co")
    make_product(exhibitor)
    client.force_login(make_user(is_staff=True, is_superuser=True))

    for model in apps.get_app_config("exhibitors").get_models():
        url = reverse(f"admin:exhibitors_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": "searchable"})
        assert response.status_code == 200, url


def test_org_admin_organisers_may_view_exhibitors_as_before(client):
    exhibitor = make_exhibitor(name="Viewable Co")
    client.force_login(make_organiser())

    listing = client.get(reverse("admin:exhibitors_exhibitor_changelist"))
    change = client.get(reverse("admin:exhibitors_exhibitor_change", args=[exhibitor.pk]))

    assert listing.status_code == 200
    assert "Viewable Co" in listing.content.decode()
    assert change.status_code == 200
    assert client.get(reverse("admin:exhibitors_product_changelist")).status_code == 403
