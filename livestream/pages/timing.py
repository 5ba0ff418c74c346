"""How a session's time reads on a page ("starts in 2 h 15 min (03:00 your time)"), cards
grouped by day in the viewer's zone, and the suggested times of region-targeted sessions.
Everything here works in the zone active for the request."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fair.models import User
from livestream.models import REGION_TIME_ZONES, LiveSession, Region
from livestream.selectors import reminded_session_ids

BUSINESS_HOURS = (time(9), time(18))

# --- How a session's time reads ------------------------------------------------------------


def duration_text(delta: timedelta) -> str:
    """``2 h 15 min``, ``45 min``, ``3 days``: the rough size of a gap, for people."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes:
            return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
        return _("%(hours)d h") % {"hours": hours}
    days = hours // 24
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


def local_time_text(moment: datetime, now: datetime) -> str:
    """A moment in the active zone: ``14:00`` today, else ``Tue 16 Jun, 14:00``."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(now).date():
        return date_format(local, "H:i")
    return date_format(local, "D j M, H:i")


def session_timing(session: LiveSession, now: datetime) -> str:
    """The line a card shows: "starts in 2 h 15 min (03:00 your time)", "live now · started
    10 min ago", "ended"."""
    if session.status == LiveSession.Status.LIVE:
        started = session.started_at or session.scheduled_start
        return _("live now · started %(ago)s ago") % {"ago": duration_text(now - started)}
    if session.status == LiveSession.Status.CANCELLED:
        return _("cancelled")
    if session.status == LiveSession.Status.ENDED:
        ended = session.ended_at or session.scheduled_end
        return _("ended %(when)s (your time)") % {"when": local_time_text(ended, now)}
    when = local_time_text(session.scheduled_start, now)
    if session.scheduled_start <= now:
        return _("starting any moment (planned for %(time)s your time)") % {"time": when}
    return _("starts in %(duration)s (%(time)s your time)") % {
        "duration": duration_text(session.scheduled_start - now),
        "time": when,
    }


def decorate_cards(sessions: list[LiveSession], *, user: User, now: datetime) -> list[LiveSession]:
    """Give each session what its card shows: the timing line, its regions' names and
    whether this user asked to be reminded (one query for the whole list)."""
    reminded = reminded_session_ids(user=user, session_ids=[s.pk for s in sessions])
    labels = dict(Region.choices)
    for session in sessions:
        session.timing = session_timing(session, now)
        session.region_labels = [labels.get(r, r) for r in session.target_regions]
        session.reminded = session.pk in reminded
    return sessions


def day_label(day: date, today: date) -> str:
    if day == today:
        return _("Today")
    if day == today + timedelta(days=1):
        return _("Tomorrow")
    return date_format(day, "l j F")


def by_day(sessions: list[LiveSession], now: datetime) -> list[dict]:
    """Sessions grouped by their day in the viewer's zone (one already running counts
    for today), in order."""
    today = timezone.localdate(now)
    groups: list[dict] = []
    for session in sessions:
        day = timezone.localtime(max(session.scheduled_start, now)).date()
        if not groups or groups[-1]["day"] != day:
            groups.append({"day": day, "label": day_label(day, today), "sessions": []})
        groups[-1]["sessions"].append(session)
    return groups


def zone_context(request: HttpRequest) -> dict:
    return {"zone_name": getattr(request, "time_zone_name", timezone.get_current_timezone_name())}


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- Suggested times for region-targeted sessions -------------------------------------------


@dataclass
class ZoneRow:
    region: str
    region_label: str
    zone: str
    opens: str  # 09:00 there, in the user's zone
    closes: str  # 18:00 there, in the user's zone
    at_start: str  # the chosen start, there
    in_hours: bool | None


def suggested_times(*, regions: list[str], start: datetime | None) -> list[ZoneRow]:
    """For each target region (every region when none is chosen), its representative zones:
    their business hours (09:00-18:00 there) in the user's zone, and the local time there of
    the chosen start."""
    chosen = [r for r in regions if r in Region.values] or list(Region.values)
    user_zone = timezone.get_current_timezone()
    reference = start or timezone.now()
    rows = []
    for region in chosen:
        for zone_name in REGION_TIME_ZONES[Region(region)]:
            zone = zoneinfo.ZoneInfo(zone_name)
            day = reference.astimezone(zone).date()
            opens = datetime.combine(day, BUSINESS_HOURS[0], tzinfo=zone).astimezone(user_zone)
            closes = datetime.combine(day, BUSINESS_HOURS[1], tzinfo=zone).astimezone(user_zone)
            there = start.astimezone(zone) if start else None
            rows.append(
                ZoneRow(
                    region=region,
                    region_label=str(Region(region).label),
                    zone=zone_name,
                    opens=date_format(opens, "D H:i"),
                    closes=date_format(closes, "D H:i"),
                    at_start=date_format(there, "D H:i") if there else "",
                    in_hours=(
                        BUSINESS_HOURS[0] <= there.time().replace(tzinfo=None) < BUSINESS_HOURS[1]
                        if there
                        else None
                    ),
                )
            )
    return rows
