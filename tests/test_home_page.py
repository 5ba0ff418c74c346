import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_home_anonymous_lists_categories(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Household Appliances" in response.content.decode()
