"""Permission-matrix row of a room's PDF transcript (gathered by
tests/test_permission_matrix.py): the same door as the CSV transcript, so the same answers:
either party gets the file; every non-party gets the 404 of a missing room, and nothing
changes."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix_common import LOGIN, Row, World, api_staff


def _room(w: World):
    # Imported when the row runs: that module gathers this one while it loads.
    from tests.test_permission_matrix import _nego

    return _nego(w)


def _room_unchanged(w: World) -> None:
    from tests.test_permission_matrix import _nego_unchanged

    _nego_unchanged(w)


ROWS: list[Row] = [
    Row(
        "negotiations:transcript_pdf",
        "get",
        lambda w: reverse("negotiations:transcript_pdf", args=[_room(w).pk]),
        {**api_staff(), "buyer": 200, "anon": LOGIN},
        check=_room_unchanged,
    ),
]
