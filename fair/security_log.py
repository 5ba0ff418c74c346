"""Security events (SECURITY J1-J3): one structured line each, on the ``cloudfair.security``
logger, for sign-ins and their failures, lockouts, two-step verification, log-outs, session
timeouts and refused access (pages, REST API, websockets).

A line's message is one JSON object: ``event``, ``outcome``, ``ts`` (UTC), ``user_id``,
``ip``, then the event's own fields; the same dict is on the record as ``record.security``
for handlers that ship structured data. Events and outcomes:

* ``auth.login``: ``success``, ``failure`` (wrong password or no such account), ``locked``
  (refused because the account or address is locked, django-axes answers 429);
* ``auth.lockout``: ``locked``, once, by the failure that reached ``AXES_FAILURE_LIMIT``;
* ``auth.logout``: ``success``; ``session.timeout``: ``signed_out`` (``limit``: ``idle`` or
  ``absolute``), instead of ``auth.logout`` for that sign-out;
* ``mfa.setup`` / ``mfa.verify``: ``success``, ``failure``, ``locked`` (``reason``: the
  refusal's code); ``mfa.lockout``: ``locked``, by the wrong code that reached
  ``MFA_MAX_FAILURES``;
* ``authz.denied``: ``denied``, every 403/404 a page view or an API view answers (the
  platform answers "missing" and "not yours" alike, so both count: a burst per user is the
  signal, SECURITY J2), and every websocket refused at its handshake or answered with a
  ``not_found`` / ``forbidden`` frame. ``channel`` says which: ``page``, ``api``, ``ws``.

Never logged: passwords, two-step codes, session keys, CSRF tokens, stream keys. Callers
pass none of them, and fields named like one are dropped here. A failed sign-in for an
account that does not exist names no address either: ``account`` is a keyed hash of it,
which ties repeated attempts together without writing the address down.

Log injection (J3, CVE-2025-48432): paths, user agents and reasons come from the client.
JSON escapes control characters; ``ControlCharsFilter`` (on this logger) and
``EscapingFormatter`` (the console handler's, for every logger) escape whatever else could
end a line or drive a terminal: CR, LF, ESC and the other C0 and C1 controls, U+2028 and
U+2029. One record stays one physical line."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

LOGGER_NAME = "cloudfair.security"
logger = logging.getLogger(LOGGER_NAME)

#: Field names that could carry a secret: never written, whoever passes them.
_SECRET_FIELDS = frozenset(
    {"password", "code", "otp", "token", "csrf", "csrftoken", "session_key", "stream_key", "key"}
)
_TEXT_LIMIT = 200
_WARNING_OUTCOMES = frozenset({"failure", "locked", "denied"})
#: Set on a request whose sign-out was already logged (a session timeout), so the log-out
#: signal that follows adds no second line.
_SIGN_OUT_LOGGED = "_security_sign_out_logged"

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def escape_controls(text: str) -> str:
    """``text`` with every character that could end a log line or start a terminal escape
    sequence written as a visible escape (``\\r``, ``\\n``, ``\\x1b``, ``\\u2028``)."""
    return _CONTROLS.sub(_escaped, text)


class ControlCharsFilter(logging.Filter):
    """Escapes the message of every record of the logger it is installed on, so all its
    handlers (the console, pytest's caplog, a shipper) get one line per record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_controls(message)
        if escaped != message or record.args:
            record.msg, record.args = escaped, ()
        return True


class EscapingFormatter(logging.Formatter):
    """The console's formatter: the formatted line (asctime, level, logger, message) is
    escaped; a traceback that follows stays as Python wrote it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


# --- Building events ---------------------------------------------------------------------------


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any) -> str:
    return str(value)[:_TEXT_LIMIT]


def client_ip(request) -> str | None:
    """The client address as django-axes throttles it (``AXES_IPWARE_*``: proxies are
    trusted only when configured)."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    address = getattr(request, "axes_ip_address", None)
    if address is None:
        from axes.helpers import get_client_ip_address

        address = get_client_ip_address(request)
    return address


def user_agent(request) -> str:
    return _text(request.META.get("HTTP_USER_AGENT", ""))


def account_ref(username: str | None) -> str | None:
    """A short keyed hash of a sign-in name: the same name gives the same value (repeated
    attempts can be told apart and counted), but the log does not hold the address."""
    if not username:
        return None
    key = f"cloudfair-security-log:{settings.SECRET_KEY}".encode()
    digest = hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"h:{digest[:16]}"


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def security_event(event: str, *, request=None, user=None, outcome: str, **fields: Any) -> dict:
    """Log one event; ``user`` defaults to the request's. Returns the logged fields."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    record: dict[str, Any] = {
        "event": event,
        "outcome": outcome,
        "ts": _utc_now(),
        "user_id": _user_id(user),
        "ip": client_ip(request) if request is not None else None,
    }
    if request is not None:
        record["path"] = _text(request.path)
    for name, value in fields.items():
        if name.lower() not in _SECRET_FIELDS:
            record[name] = value
    level = logging.WARNING if outcome in _WARNING_OUTCOMES else logging.INFO
    logger.log(
        level,
        "%s",
        json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")),
        extra={"security": record},
    )
    return record


# --- J1: sign-in, two-step verification, sign-out ---------------------------------------------


def _account(username: str | None) -> dict[str, Any]:
    """Who a sign-in name belongs to: ``user_id`` for an existing account, else only the
    name's hash (``account``), never the address typed."""
    from fair.models import User

    user_id = None
    if username:
        user_id = User.objects.filter(email__iexact=username).values_list("pk", flat=True).first()
    if user_id is None:
        return {"account": account_ref(username)}
    return {"user_id": user_id}


def sign_in_failed(request, username: str | None) -> None:
    """``auth.login`` ``failure``, or ``locked`` when django-axes refused the attempt
    because of an earlier lockout (its backend marks the request before checking anything;
    the attempt that reaches the limit is a plain failure, then ``auth.lockout``)."""
    locked_before = bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    security_event(
        "auth.login",
        request=request,
        outcome="locked" if locked_before else "failure",
        reason="locked" if locked_before else "bad_credentials",
        user_agent=user_agent(request),
        **_account(username),
    )


def lockout_started(request, username: str | None) -> None:
    """``auth.lockout``, for the failure that reached the limit; django-axes also signals
    every later attempt refused during the lockout, logged as ``auth.login`` ``locked``."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    security_event(
        "auth.lockout",
        request=request,
        outcome="locked",
        failures=failures,
        user_agent=user_agent(request),
        **_account(username),
    )


def mfa_refused(request, *, event: str, code: str) -> None:
    """A refused two-step code: ``event`` with outcome ``failure`` (or ``locked`` when the
    account's verification was already locked), and ``mfa.lockout`` when this wrong code
    reached the limit."""
    from fair.mfa import failures

    count = failures(request.user)
    locked = code == "locked"
    security_event(
        event,
        request=request,
        outcome="locked" if locked else "failure",
        reason=code,
        failures=count,
    )
    if not locked and code != "no_device" and count >= settings.MFA_MAX_FAILURES:
        security_event("mfa.lockout", request=request, outcome="locked", failures=count)


def session_timed_out(request, user, limit: str) -> None:
    """``session.timeout``; the log-out that follows is not logged again."""
    security_event("session.timeout", request=request, user=user, outcome="signed_out", limit=limit)
    setattr(request, _SIGN_OUT_LOGGED, True)


def signed_out(request, user) -> None:
    if request is not None and getattr(request, _SIGN_OUT_LOGGED, False):
        return
    security_event("auth.logout", request=request, user=user, outcome="success")


# --- J2: refused access ------------------------------------------------------------------------


def _denial(exception: Exception) -> tuple[int, str] | None:
    if isinstance(exception, Http404):
        return 404, "not_found"
    if isinstance(exception, PermissionDenied):
        return 403, "forbidden"
    return None


class AccessDeniedLogMiddleware:
    """Logs every 404 or 403 a page view raises (the access checks of selectors,
    ``organiser_required``, staff checks), with the request's path and user. API views
    answer their own errors (``fair.api.exceptions``), so nothing is logged twice."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        denial = _denial(exception)
        if denial is not None:
            status, reason = denial
            security_event(
                "authz.denied",
                request=request,
                outcome="denied",
                channel="page",
                status=status,
                reason=reason,
                detail=_text(exception),
            )
        return None


def api_denied(request, view, exception: Exception, status: int) -> None:
    """A 401/403/404 answer of a REST view (``fair.api.exceptions.exception_handler``)."""
    from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

    if status == 404:
        reason = "not_found"
    elif isinstance(exception, NotAuthenticated | AuthenticationFailed):
        reason = "not_authenticated"
    else:
        reason = "forbidden"
    detail = getattr(exception, "detail", exception)
    security_event(
        "authz.denied",
        request=request,
        outcome="denied",
        channel="api",
        status=status,
        reason=reason,
        view=type(view).__name__ if view is not None else None,
        detail=_text(detail),
    )


def ws_denied(consumer, *, reason: str, **fields: Any) -> None:
    """A websocket refused at its handshake (``close_code``) or answered with an error
    frame (``error``), from the consumer's scope: no database work."""
    scope = consumer.scope
    client = scope.get("client")
    security_event(
        "authz.denied",
        user=scope.get("user"),
        outcome="denied",
        channel="ws",
        ip=client[0] if client else None,
        path=_text(scope.get("path", "")),
        consumer=type(consumer).__name__,
        reason=reason,
        **fields,
    )
