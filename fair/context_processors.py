"""Template context every page needs: the edition, the viewer's zone and the languages."""

from __future__ import annotations

from django.conf import settings

from fair.announcements import announcements_for
from fair.selectors import fair_edition_current


def fair(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "announcements": announcements_for(user) if user is not None else [],
        "fair_edition": fair_edition_current(),
        "time_zone_name": getattr(request, "time_zone_name", settings.FAIR_DEFAULT_TIME_ZONE),
        "time_zone_source": getattr(request, "time_zone_source", "fair"),
        "is_organiser": getattr(getattr(request, "user", None), "is_organiser", False),
    }
