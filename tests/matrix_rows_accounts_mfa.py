"""Permission-matrix rows of two-step verification (fair/mfa_views.py). Anyone signed in may
set up an authenticator app; the code page sends those without one to the set-up first."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix_common import LOGIN, ROLES, Row

SIGNED_IN = {role: LOGIN if role == "anon" else 200 for role in ROLES}

ROWS: list[Row] = [
    Row("mfa_setup", "get", lambda w: reverse("mfa_setup"), SIGNED_IN),
    Row(
        "mfa_setup", "post", lambda w: reverse("mfa_setup"), SIGNED_IN, data=lambda w: {"code": "1"}
    ),
    Row(
        "mfa_verify",
        "get",
        lambda w: reverse("mfa_verify"),
        {role: LOGIN if role == "anon" else 302 for role in ROLES},
    ),
]
