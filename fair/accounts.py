"""Account helpers shared by the login form, django-axes and the services."""

from __future__ import annotations


def axes_username(request, credentials: dict | None) -> str | None:
    """The account key django-axes throttles on: the email, without regard to letter case,
    so ``Anne@x.com`` and ``anne@x.com`` share one failure counter."""
    username = None
    if credentials:
        username = credentials.get("username") or credentials.get("email")
    if username is None and request is not None:
        data = getattr(request, "POST", None) or {}
        username = data.get("username")
    return username.strip().lower() if isinstance(username, str) else username
