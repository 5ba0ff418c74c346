"""Fixtures shared by the whole suite (app-specific ones live beside their tests)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.factories import PASSWORD, make_buyer, make_organiser, make_user


def _cache_clear() -> None:
    """Forget everything this test run cached. On Redis only this run's keys go (the key
    prefix is per process in test settings), so parallel runs and other data survive."""
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client()
        keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    # The cache is real Redis in CI: nothing cached by one test may leak into the next.
    _cache_clear()
    yield
    _cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _media_cleanup():
    """Uploads written by this run go when it ends (test settings point them at
    media-test/ and media-test-private/)."""
    yield
    import shutil

    for folder in (
        settings.MEDIA_ROOT,
        settings.STORAGES["private"].get("OPTIONS", {}).get("location"),
    ):
        if folder and "media-test" in str(folder):
            shutil.rmtree(folder, ignore_errors=True)


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
