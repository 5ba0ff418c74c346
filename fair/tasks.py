"""Housekeeping jobs run by Celery beat (see CELERY_BEAT_SCHEDULE in settings)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def sessions_clear_expired() -> int:
    """Delete expired login sessions; returns how many went. Idempotent."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def login_attempts_prune(days: int = 30) -> int:
    """Drop login-attempt records older than ``days`` (the lockout window is 15 minutes; the
    rest is kept for the security log). Idempotent."""
    from axes.models import AccessAttempt, AccessFailureLog

    cutoff = timezone.now() - timedelta(days=days)
    deleted = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return deleted
