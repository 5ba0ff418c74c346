"""Side channels driven by Django's auth signals (no domain state is changed here)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from fair.realtime import user_sockets_close_on_commit


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        user_sockets_close_on_commit(user.pk)


@receiver(user_logged_in)
def session_limits_start(sender, request, user, **kwargs) -> None:
    """Note when and as whom the session began (fair.session_limits: timeouts)."""
    from fair.session_limits import session_start

    if request is not None and hasattr(request, "session"):
        session_start(request, user)
