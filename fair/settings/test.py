"""Test settings: the base settings with things sped up, nothing else changed.

The suite runs on real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI and
`make test` set them)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("DJANGO_SECURE", "0")
os.environ.setdefault("REDIS_KEY_PREFIX", f"cloudfair-test-{os.getpid()}")
# One folder of uploads per test run, shared with the servers the run starts (they inherit
# the environment), removed when the run ends (tests/conftest.py).
TEST_RUN_ID = os.environ.setdefault("CLOUDFAIR_TEST_RUN", str(os.getpid()))

from .base import *  # noqa: E402,F403

# Fast hashing: password strength is not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 (tests only)

# Unit tests run tasks in-process; tests of the real worker start one explicitly.
CELERY_TASK_ALWAYS_EAGER = True
# Consumers' database work on the one thread tests close between tests (fair/db_async.py);
# server subprocesses started by tests may ask for the pool through the environment.
REALTIME_DB_THREADS = int(os.environ.get("REALTIME_DB_THREADS", "0"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://localhost/")

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / "media-test" / TEST_RUN_ID  # noqa: F405
if not AWS_STORAGE_BUCKET_NAME:  # noqa: F405
    STORAGES["private"] = {  # noqa: F405
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE_DIR / "media-test-private" / TEST_RUN_ID)},  # noqa: F405
    }
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Two-step verification is tested on its own (tests/fair/test_mfa.py turns it on); the rest
# of the suite signs organisers and exhibitor admins in with force_login.
MFA_REQUIRED = False
