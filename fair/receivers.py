"""Side channels driven by Django's auth signals (no domain state is changed here)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from fair import security_log
from fair.accounts import axes_username
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


# --- Security log (fair.security_log, SECURITY J1) ---------------------------------------------


@receiver(user_logged_in)
def sign_in_logged(sender, request, user, **kwargs) -> None:
    fields = {"user_agent": security_log.user_agent(request)} if request is not None else {}
    security_log.security_event(
        "auth.login", request=request, user=user, outcome="success", **fields
    )


@receiver(user_login_failed)
def sign_in_failure_logged(sender, credentials, request=None, **kwargs) -> None:
    """Django has already replaced the password in ``credentials``; only the name is read."""
    if request is not None:
        security_log.sign_in_failed(request, axes_username(request, credentials))


@receiver(user_locked_out)
def lockout_logged(sender, request, username, ip_address, **kwargs) -> None:
    if request is not None:
        security_log.lockout_started(request, username)


@receiver(user_logged_out)
def sign_out_logged(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_log.signed_out(request, user)
