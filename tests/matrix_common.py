"""Shared pieces of the HTTP permission matrix: roles, the world of objects, a row, and the
usual expectation shapes. Rows live in ``tests/test_permission_matrix.py`` and in the
``tests/matrix_rows_*.py`` modules that it gathers (one per area, so areas grow apart)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ROLES = ("anon", "buyer", "owner", "admin", "sales", "other", "organiser")
LOGIN = "login-redirect"  # a 302 to the log-in page


@dataclass
class World:
    users: dict
    exhibitor: object
    other_exhibitor: object
    product: object
    image: object
    member_sales: object
    invitation: object
    token: str
    import_job: object
    session: object
    feed_token: str
    stream_key: str


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[World], str]
    expect: dict[str, object]
    data: Callable[[World], dict] | None = None
    check: Callable[[World], None] | None = None
    json: bool = False


def everyone(status) -> dict[str, object]:
    return dict.fromkeys(ROLES, status)


def api_staff(*, owner=200, admin=200, sales=200) -> dict:
    """API answers: anonymous 403 (no session), outsiders 404 (no existence leak)."""
    return {
        "anon": 403,
        "buyer": 404,
        "owner": owner,
        "admin": admin,
        "sales": sales,
        "other": 404,
        "organiser": 404,
    }


def api_editors(ok=200) -> dict:
    return api_staff(owner=ok, admin=ok, sales=403)


def staff_only(*, owner=200, admin=200, sales=200, anon=LOGIN, others=404) -> dict:
    return {
        "anon": anon,
        "buyer": others,
        "owner": owner,
        "admin": admin,
        "sales": sales,
        "other": others,
        "organiser": others,
    }


def editors_only(ok=200, *, anon=LOGIN) -> dict:
    return staff_only(owner=ok, admin=ok, sales=403, anon=anon)


def organiser_only(ok=200, *, anon=LOGIN, others=404) -> dict:
    """Organiser pages and actions: everyone else gets the same "not found"."""
    return {**dict.fromkeys(ROLES, others), "anon": anon, "organiser": ok}
