"""The security log (SECURITY J1-J3): one structured line on ``cloudfair.security`` for each
sign-in, failure, lockout, two-step event, log-out, session timeout and refused page or API
call; never a password, code or unknown address; client-controlled text escaped so it cannot
forge or colour a line."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pyotp
import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

from fair.exceptions import NotFound
from fair.mfa import _secret
from fair.models import TotpDevice
from fair.security_log import (
    LOGGER_NAME,
    AccessDeniedLogMiddleware,
    account_ref,
    escape_controls,
    security_event,
)
from fair.session_limits import AUTH_AT, SEEN_AT
from tests.exhibitors.factories_api import build_fair, client_for
from tests.factories import PASSWORD, make_buyer, make_organiser
from tests.negotiations.nego_factories import Cast

pytestmark = pytest.mark.django_db

ADDRESS = "10.1.2.3"
AGENT = "Mozilla/5.0 (test)"
LOGIN = "/accounts/login/"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def events(caplog) -> list[dict]:
    """The security records captured, each checked for its UTC timestamp, which is then
    left out so the rest can be compared exactly."""
    found = []
    for record in caplog.records:
        if record.name != LOGGER_NAME:
            continue
        fields = dict(record.security)
        stamp = fields.pop("ts")
        assert TS.match(stamp), stamp
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
        found.append(fields)
    return found


def console_line(record: logging.LogRecord) -> str:
    """The record as the configured console handler writes it (settings.LOGGING)."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    return handler.format(record)


def log_in(client, email: str, password: str, agent: str = AGENT):
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=agent,
    )


def assert_no_secret(caplog, *secrets: str) -> None:
    lines = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for secret in secrets:
        assert not any(secret in line for line in lines), secret


@pytest.fixture(autouse=True)
def _info(caplog):
    caplog.set_level(logging.INFO)


# --- J1: sign-in ------------------------------------------------------------------------------


def test_login_right_password_logs_one_success_line(client, caplog):
    buyer = make_buyer(email="anne@example.test")

    response = log_in(client, "anne@example.test", PASSWORD)

    assert response.status_code == 302
    assert events(caplog) == [
        {
            "event": "auth.login",
            "outcome": "success",
            "user_id": buyer.pk,
            "ip": ADDRESS,
            "path": LOGIN,
            "user_agent": AGENT,
        }
    ]
    assert_no_secret(caplog, PASSWORD)


def test_login_wrong_password_logs_failure_with_the_user_id_only(client, caplog):
    buyer = make_buyer(email="anne@example.test")

    response = log_in(client, "Anne@Example.test", "wrong-password-1")

    assert response.status_code == 200
    assert events(caplog) == [
        {
            "event": "auth.login",
            "outcome": "failure",
            "user_id": buyer.pk,
            "ip": ADDRESS,
            "path": LOGIN,
            "reason": "bad_credentials",
            "user_agent": AGENT,
        }
    ]
    assert [r.levelno for r in caplog.records if r.name == LOGGER_NAME] == [logging.WARNING]
    assert_no_secret(caplog, "wrong-password-1", "anne@example.test", "Anne@Example.test")


def test_login_unknown_account_logs_a_hash_not_the_address(client, caplog):
    response = log_in(client, "ghost@example.test", "any-password")

    assert response.status_code == 200
    assert events(caplog) == [
        {
            "event": "auth.login",
            "outcome": "failure",
            "user_id": None,
            "ip": ADDRESS,
            "path": LOGIN,
            "reason": "bad_credentials",
            "user_agent": AGENT,
            "account": account_ref("ghost@example.test"),
        }
    ]
    assert account_ref("GHOST@example.test ") == account_ref("ghost@example.test")
    assert re.fullmatch(r"h:[0-9a-f]{16}", account_ref("ghost@example.test"))
    assert_no_secret(caplog, "ghost@example.test", "ghost", "any-password")


def test_login_lockout_logged_once_then_refusals_while_locked(client, caplog):
    buyer = make_buyer(email="anne@example.test")
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        assert log_in(client, "anne@example.test", f"wrong-{n}").status_code == 200
    caplog.clear()

    reached = log_in(client, "anne@example.test", "wrong-last")
    reached_events = events(caplog)
    caplog.clear()
    refused = log_in(client, "anne@example.test", PASSWORD)

    common = {"user_id": buyer.pk, "ip": ADDRESS, "path": LOGIN, "user_agent": AGENT}
    assert reached.status_code == 429
    # django-axes' own receiver runs first: its lockout signal comes before our failure line.
    assert reached_events == [
        {"event": "auth.lockout", "outcome": "locked", "failures": limit, **common},
        {"event": "auth.login", "outcome": "failure", "reason": "bad_credentials", **common},
    ]
    assert refused.status_code == 429
    assert events(caplog) == [
        {"event": "auth.login", "outcome": "locked", "reason": "locked", **common}
    ]
    assert_no_secret(caplog, PASSWORD, "anne@example.test")


def test_logout_logs_one_line(client, caplog):
    buyer = make_buyer()
    client.force_login(buyer)
    caplog.clear()

    response = client.post(reverse("logout"), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 302
    assert events(caplog) == [
        {
            "event": "auth.logout",
            "outcome": "success",
            "user_id": buyer.pk,
            "ip": ADDRESS,
            "path": "/accounts/logout/",
        }
    ]


def test_session_timeout_logs_the_timeout_and_no_separate_logout(client, caplog):
    organiser = make_organiser()
    client.force_login(organiser)
    session = client.session
    now = time.time()
    session[SEEN_AT] = int(now - 31 * 60)
    session[AUTH_AT] = int(now - 31 * 60)
    session.save()
    caplog.clear()

    response = client.get(reverse("account_preferences"), REMOTE_ADDR=ADDRESS)

    assert response.status_code == 302
    assert events(caplog) == [
        {
            "event": "session.timeout",
            "outcome": "signed_out",
            "user_id": organiser.pk,
            "ip": ADDRESS,
            "path": "/accounts/preferences/",
            "limit": "idle",
        }
    ]
    assert_no_secret(caplog, session.session_key)


# --- J1: two-step verification ----------------------------------------------------------------


@pytest.fixture
def mfa_on(settings):
    settings.MFA_REQUIRED = True


def _code(user, at: float | None = None) -> str:
    return pyotp.TOTP(_secret(TotpDevice.objects.get(user=user))).at(at or time.time())


def _organiser_with_device(client):
    organiser = make_organiser()
    client.force_login(organiser)
    client.get(reverse("mfa_setup"))
    assert client.post(reverse("mfa_setup"), {"code": _code(organiser)}).status_code == 302
    client.logout()
    client.force_login(organiser)
    return organiser


def _mfa_fields(user, path: str) -> dict:
    return {"user_id": user.pk, "ip": "127.0.0.1", "path": path}


def test_mfa_setup_wrong_then_right_code_logged(client, caplog, mfa_on):
    organiser = make_organiser()
    client.force_login(organiser)
    client.get(reverse("mfa_setup"))
    caplog.clear()

    client.post(reverse("mfa_setup"), {"code": "000000"})
    code = _code(organiser)
    client.post(reverse("mfa_setup"), {"code": code})

    where = _mfa_fields(organiser, "/accounts/two-step/set-up/")
    assert events(caplog) == [
        {"event": "mfa.setup", "outcome": "failure", **where, "reason": "invalid", "failures": 1},
        {"event": "mfa.setup", "outcome": "success", **where},
    ]
    assert_no_secret(caplog, code, "000000")


def test_mfa_wrong_code_logged_then_right_code_verified(client, caplog, mfa_on):
    organiser = _organiser_with_device(client)
    caplog.clear()

    client.post(reverse("mfa_verify"), {"code": "123456"})
    code = _code(organiser, time.time() + 30)
    assert client.post(reverse("mfa_verify"), {"code": code}).status_code == 302

    where = _mfa_fields(organiser, "/accounts/two-step/")
    assert events(caplog) == [
        {"event": "mfa.verify", "outcome": "failure", **where, "reason": "invalid", "failures": 1},
        {"event": "mfa.verify", "outcome": "success", **where},
    ]
    assert_no_secret(caplog, code, "123456")


def test_mfa_lockout_logged_once_then_locked_refusals(client, caplog, mfa_on):
    organiser = _organiser_with_device(client)
    limit = settings.MFA_MAX_FAILURES
    for _ in range(limit - 1):
        client.post(reverse("mfa_verify"), {"code": "123456"})
    caplog.clear()

    client.post(reverse("mfa_verify"), {"code": "654321"})
    code = _code(organiser, time.time() + 30)
    client.post(reverse("mfa_verify"), {"code": code})

    where = _mfa_fields(organiser, "/accounts/two-step/")
    assert events(caplog) == [
        {
            "event": "mfa.verify",
            "outcome": "failure",
            **where,
            "reason": "invalid",
            "failures": limit,
        },
        {"event": "mfa.lockout", "outcome": "locked", **where, "failures": limit},
        {
            "event": "mfa.verify",
            "outcome": "locked",
            **where,
            "reason": "locked",
            "failures": limit,
        },
    ]
    assert_no_secret(caplog, code, "654321")


# --- J2: refused pages and API calls ----------------------------------------------------------


def test_non_party_opening_a_negotiation_page_is_logged_once(client, caplog):
    cast = Cast()
    client.force_login(cast.other_buyer)
    caplog.clear()
    path = reverse("negotiations:room", args=[cast.room.pk])

    response = client.get(path)

    assert response.status_code == 404
    assert events(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": cast.other_buyer.pk,
            "ip": "127.0.0.1",
            "path": path,
            "channel": "page",
            "status": 404,
            "reason": "not_found",
            "detail": "No such negotiation.",
        }
    ]


def test_party_opening_a_negotiation_page_logs_no_denial(client, caplog):
    cast = Cast()
    client.force_login(cast.buyer)
    caplog.clear()

    response = client.get(reverse("negotiations:room", args=[cast.room.pk]))

    assert response.status_code == 200
    assert events(caplog) == []


def test_buyer_at_the_organisers_area_is_logged(client, caplog):
    buyer = make_buyer()
    client.force_login(buyer)
    caplog.clear()

    response = client.get(reverse("organiser:dashboard"))

    assert response.status_code == 404
    assert events(caplog) == [
        {
            "event": "authz.denied",
            "outcome": "denied",
            "user_id": buyer.pk,
            "ip": "127.0.0.1",
            "path": "/organiser/dashboard/",
            "channel": "page",
            "status": 404,
            "reason": "not_found",
            "detail": "No such page.",
        }
    ]


def _booth(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/booth/update/"


def test_api_other_exhibitors_object_404_and_sales_403_logged(caplog):
    fair = build_fair()
    clients = [client_for(fair.other_owner), client_for(fair.sales), client_for(None)]
    caplog.clear()

    outsider, sales, anonymous = (
        client.patch(_booth(fair.company.pk), {}, format="json") for client in clients
    )

    assert (outsider.status_code, sales.status_code, anonymous.status_code) == (404, 403, 403)
    common = {
        "event": "authz.denied",
        "outcome": "denied",
        "ip": "127.0.0.1",
        "path": _booth(fair.company.pk),
        "channel": "api",
        "view": "BoothUpdateApi",
    }
    assert events(caplog) == [
        {
            **common,
            "user_id": fair.other_owner.pk,
            "status": 404,
            "reason": "not_found",
            "detail": "Not found.",
        },
        {
            **common,
            "user_id": fair.sales.pk,
            "status": 403,
            "reason": "forbidden",
            "detail": sales.json()["detail"],
        },
        {
            **common,
            "user_id": None,
            "status": 403,
            "reason": "not_authenticated",
            "detail": "Authentication credentials were not provided.",
        },
    ]


def test_api_staff_reading_their_own_booth_logs_no_denial(caplog):
    fair = build_fair()
    client = client_for(fair.owner)
    caplog.clear()

    response = client.get(f"/api/v1/exhibit/exhibitors/{fair.company.pk}/booth/")

    assert response.status_code == 200
    assert events(caplog) == []


# --- J3: log injection ------------------------------------------------------------------------

FORGED = "\r\n2030-01-01 00:00:00 INFO cloudfair.security forged\x1b[31m red"


def _one_escaped_line(line: str) -> None:
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "forged" in line


def test_injected_path_and_username_are_escaped_in_one_physical_line(caplog):
    request = RequestFactory().get("/catalogue/x" + quote(FORGED))
    request.user = make_buyer()

    AccessDeniedLogMiddleware(lambda r: None).process_exception(request, NotFound("No such page."))
    security_event("auth.login", outcome="failure", username="eve" + FORGED)

    records = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert len(records) == 2
    assert records[0].security["path"] == "/catalogue/x" + FORGED  # the structured value as is
    for record in records:
        _one_escaped_line(record.getMessage())
        _one_escaped_line(console_line(record))
    assert "\\r\\n2030-01-01" in records[0].getMessage()
    assert "\\u001b[31m" in records[1].getMessage()


def test_injected_user_agent_at_login_is_escaped(client, caplog):
    log_in(client, "ghost@example.test", "x", agent="agent" + FORGED)

    (record,) = [r for r in caplog.records if r.name == LOGGER_NAME]
    assert record.security["user_agent"] == "agent" + FORGED
    _one_escaped_line(console_line(record))


def test_plain_messages_on_the_security_logger_are_escaped_by_its_filter(caplog):
    logging.getLogger(LOGGER_NAME).warning("raw %s", "a" + FORGED)

    (record,) = caplog.records
    assert record.getMessage() == "raw a" + escape_controls(FORGED)
    assert escape_controls(FORGED).startswith("\\r\\n2030")
    assert "\\x1b[31m" in record.getMessage()


def test_console_formatter_escapes_every_logger(caplog):
    logging.getLogger("tests.injection").warning("path %s", "/a" + FORGED + "\u2028\x9b")

    (record,) = caplog.records
    line = console_line(record)
    _one_escaped_line(line)
    assert line.endswith(
        "tests.injection path /a\\r\\n2030-01-01 00:00:00 INFO cloudfair.security "
        "forged\\x1b[31m red\\u2028\\x9b"
    )


def test_console_formatter_keeps_a_traceback_readable(caplog):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("tests.injection").exception("failed %s", "\r\nforged")

    line = console_line(caplog.records[0])
    first, *rest = line.split("\n")
    assert first.endswith("failed \\r\\nforged")
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: boom"


def test_secret_named_fields_are_never_written(caplog):
    record = security_event(
        "test.event", outcome="success", password="p", code="123456", session_key="k", kept=1
    )

    assert {k: v for k, v in record.items() if k != "ts"} == {
        "event": "test.event",
        "outcome": "success",
        "user_id": None,
        "ip": None,
        "kept": 1,
    }
    assert_no_secret(caplog, "123456")
