"""Fixtures shared by the whole suite (app-specific ones live beside their tests)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, make_buyer, make_organiser, make_user


@pytest.fixture(autouse=True)
def _clear_cache():
    # The cache is real Redis in CI: nothing cached by one test may leak into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def buyer(db):
    return make_buyer()


@pytest.fixture
def organiser(db):
    return make_organiser()
