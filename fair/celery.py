"""The Celery app. Tasks are found in every installed app's ``tasks.py``.

Because the app is configured from Django settings, tasks are ``DjangoTask``s: call
``task.delay_on_commit(...)`` from services so nothing is queued for a transaction that
rolls back."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fair.settings.base")

app = Celery("fair")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
