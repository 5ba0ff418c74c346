"""Side channels driven by Django's auth signals (no domain state is changed here)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from fair.realtime import user_sockets_close_on_commit


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        user_sockets_close_on_commit(user.pk)
