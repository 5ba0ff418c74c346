"""Session timeouts (SECURITY C3): organisers and exhibitor owners/admins are signed out
after ``SESSION_PRIVILEGED_IDLE_SECONDS`` (30 min) without a request and
``SESSION_PRIVILEGED_ABSOLUTE_SECONDS`` (12 h) after signing in, whatever they do; everyone
else keeps the session cookie's age (``SESSION_COOKIE_AGE``, 14 days, at most 30).

Who is privileged is decided once, at sign-in, and kept in the session: organisers here,
exhibitor owners and admins through a check the exhibitors app registers (the fair core
cannot import it). The last-seen time is written at most once a minute, not per request.

Websockets honour the same limits (``fair.consumers``): a socket whose session has lapsed
at its handshake is served as anonymous, as a request would be, and the open sockets of
privileged sessions are rechecked once a minute and closed with 4401 once their session is
gone or past either limit. A person's actions on a socket (sending a message, typing,
moderating) count as activity like requests, and move the last-seen time at that recheck
(``sessions_seen``); keep-alive pings and automatic polls do not: they arrive from
unattended pages too (a tab left open would never be idle)."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.translation import gettext as _

from fair import security_log
from fair.models import User

AUTH_AT = "_cf_auth_at"
SEEN_AT = "_cf_seen_at"
PRIVILEGED = "_cf_privileged"
SEEN_WRITE_EVERY = 60

_CHECKS: list[Callable[[User], bool]] = []


def register_privileged(check: Callable[[User], bool]) -> None:
    """Add a rule marking users whose sessions get the short timeouts."""
    _CHECKS.append(check)


def is_privileged(user: User) -> bool:
    return user.is_organiser or any(check(user) for check in _CHECKS)


def session_start(request, user: User) -> None:
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session[PRIVILEGED] = is_privileged(user)


def session_expired(session, now: float) -> str:
    """ "idle", "absolute" or "" (still valid)."""
    if not session.get(PRIVILEGED):
        return ""
    auth_at = session.get(AUTH_AT, now)
    seen_at = session.get(SEEN_AT, now)
    if now - auth_at > settings.SESSION_PRIVILEGED_ABSOLUTE_SECONDS:
        return "absolute"
    if now - seen_at > settings.SESSION_PRIVILEGED_IDLE_SECONDS:
        return "idle"
    return ""


def sessions_stored(users: dict[str, int]) -> dict[str, dict]:
    """The data of those sessions (session key -> user id) that still exist, unexpired and
    signed in as that user, read in one query; the others are gone (logged out, deleted on
    the server, past the cookie's age). For connections that outlive their request: a
    websocket's scope holds its session as it was at the handshake. Database-backed engines
    are read from the table, where the session is authoritative: ``cached_db`` writes
    through, but a row deleted on the server stays in the cache until it expires there."""
    engine = import_module(settings.SESSION_ENGINE)
    if issubclass(engine.SessionStore, DatabaseSessionStore):
        rows = engine.SessionStore.get_model_class().objects.filter(
            session_key__in=list(users), expire_date__gt=timezone.now()
        )
        decoder = engine.SessionStore()
        found = {
            key: decoder.decode(data)
            for key, data in rows.values_list("session_key", "session_data")
        }
    else:
        found = {key: engine.SessionStore(session_key=key).load() for key in users}
    return {
        key: data
        for key, data in found.items()
        if data and data.get(SESSION_KEY) == str(users[key])
    }


def sessions_seen(seen: dict[str, int]) -> None:
    """Move the last-seen time of these sessions (session key -> time) forward, as requests
    do: the person was active on a websocket. A session gone meanwhile stays gone."""
    engine = import_module(settings.SESSION_ENGINE)
    for key, at in seen.items():
        store = engine.SessionStore(session_key=key)
        if not store.exists(key):
            continue
        store.load()
        if at > store.get(SEEN_AT, 0):
            store[SEEN_AT] = at
            try:
                store.save(must_create=False)
            except UpdateError:  # deleted between the read and the write
                continue


def _expired_message(expired: str) -> str:
    if expired == "idle":
        return _(
            "You were signed out after %(n)d minutes without activity. Please log in again."
        ) % {"n": settings.SESSION_PRIVILEGED_IDLE_SECONDS // 60}
    return _(
        "You were signed out: sessions of organisers and exhibitor admins last %(n)d hours."
        " Please log in again."
    ) % {"n": settings.SESSION_PRIVILEGED_ABSOLUTE_SECONDS // 3600}


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = time.time()
            if AUTH_AT not in session:  # a session from before the timeouts existed
                session_start(request, user)
            expired = session_expired(session, now)
            if expired:
                security_log.session_timed_out(request, user, expired)
                logout(request)
                messages.info(request, _expired_message(expired))
            elif now - session.get(SEEN_AT, 0) >= SEEN_WRITE_EVERY:
                session[SEEN_AT] = int(now)
        return self.get_response(request)
