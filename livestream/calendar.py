"""iCalendar (RFC 5545) files for live sessions, written by hand: one session's ``.ics``
download and a buyer's personal feed. Times are UTC (``Z`` form), so every calendar shows
them in its owner's zone; lines end with CRLF and are folded at 75 octets without splitting
a UTF-8 character; text values escape backslashes, commas, semicolons and newlines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//CloudFair//Live sessions//EN"
LINE_LIMIT = 75  # octets, without the CRLF


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line (RFC 5545 3.1): at most 75 octets per physical line, each
    continuation starting with a space, never inside a multi-octet UTF-8 character."""
    parts: list[str] = []
    current, size, limit = [], 0, LINE_LIMIT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_LIMIT - 1  # the leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def utc_stamp(moment: datetime) -> str:
    """``20260615T110000Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    url: str
    updated: datetime
    cancelled: bool = False


def _event_lines(event: CalendarEvent, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"LAST-MODIFIED:{utc_stamp(event.updated)}",
        f"DTSTART:{utc_stamp(event.start)}",
        f"DTEND:{utc_stamp(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"URL:{event.url}",
        f"LOCATION:{escape_text(event.url)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
    return lines


def calendar_build(
    events: Iterable[CalendarEvent], *, name: str = "", stamp: datetime | None = None
) -> str:
    """The whole VCALENDAR text, CRLF line endings included."""
    stamp = stamp or datetime.now(UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(f"{fold(line)}\r\n" for line in lines)
