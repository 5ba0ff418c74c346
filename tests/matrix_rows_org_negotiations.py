"""Permission-matrix rows of the organisers' negotiations pages (/organiser/negotiations/),
gathered by tests/test_permission_matrix.py: organisers only; everyone else gets the 404 of a
missing page (signed-out visitors log in first), and a refused export records nothing."""

from __future__ import annotations

from django.urls import reverse

from fair.models import AuditEntry
from tests.matrix_common import Row, World, organiser_only

ORG = "org_negotiations:"


def _no_export_recorded(w: World) -> None:
    assert not AuditEntry.objects.filter(action="export.download").exists()


ROWS: list[Row] = [
    Row(ORG + "overview", "get", lambda w: reverse(ORG + "overview"), organiser_only()),
    Row(
        ORG + "intents_csv",
        "get",
        lambda w: reverse(ORG + "intents_csv"),
        organiser_only(),
        check=_no_export_recorded,
    ),
]
