"""Permission-matrix rows of the live inboxes' additions (gathered by
tests/test_permission_matrix.py): an attachment's image preview (the same door as its
download: either party gets the file, every non-party the 404 of a missing one, nothing
changes) and the navigation badge's count as JSON (anyone signed in gets their own count;
signed-out visitors 403, as a script asks it)."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix_common import LOGIN, Row, World, api_staff, everyone


def _attachment(w: World):
    # Imported when the row runs: that module gathers this one while it loads.
    from tests.test_permission_matrix import _nego_attachment

    return _nego_attachment(w)


def _room_unchanged(w: World) -> None:
    from tests.test_permission_matrix import _nego_unchanged

    _nego_unchanged(w)


ROWS: list[Row] = [
    Row(
        "negotiations:attachment_preview",
        "get",
        lambda w: reverse("negotiations:attachment_preview", args=[_attachment(w).pk]),
        {**api_staff(), "buyer": 200, "anon": LOGIN},
        check=_room_unchanged,
    ),
    Row(
        "negotiations:unread",
        "get",
        lambda w: reverse("negotiations:unread"),
        {**everyone(200), "anon": 403},
    ),
]
