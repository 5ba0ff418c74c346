import pytest
from playwright.sync_api import expect

from fair.models import Category

pytestmark = pytest.mark.e2e


@pytest.fixture
def reference_data():
    pass


@pytest.mark.django_db(transaction=True)
def test_a_plain_transactional():
    print("a: categories", Category.objects.count())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_b_serialized(visit):
    print("b: categories", Category.objects.count())
    page = visit("/")
    expect(page.get_by_text("Household Appliances", exact=True)).to_be_visible()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_c_serialized(visit):
    print("c: categories", Category.objects.count())
    page = visit("/")
    expect(page.get_by_text("Household Appliances", exact=True)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_d_plain_transactional(visit):
    print("d: categories", Category.objects.count())
    page = visit("/")
    expect(page.get_by_text("Household Appliances", exact=True)).to_be_visible()
