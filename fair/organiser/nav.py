"""The organisers' area navigation. Apps add their sections from ``AppConfig.ready`` (the
fair core cannot import them): a label, a URL name, and a position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a lazy translation
    url_name: str
    position: int


_ENTRIES: dict[str, NavEntry] = {}


def register_organiser_nav(label: Any, url_name: str, *, position: int = 50) -> None:
    _ENTRIES[url_name] = NavEntry(label=label, url_name=url_name, position=position)


def organiser_nav(current_path: str) -> list[dict[str, Any]]:
    entries = sorted(_ENTRIES.values(), key=lambda e: (e.position, str(e.label)))
    items = []
    for entry in entries:
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:  # an app registered a page it does not route (yet)
            continue
        items.append({"label": entry.label, "url": url, "current": current_path == url})
    # The longest matching prefix marks a section's sub-pages as current too.
    if not any(item["current"] for item in items):
        home = reverse("organiser:home")
        prefixed = [i for i in items if i["url"] != home and current_path.startswith(i["url"])]
        if prefixed:
            max(prefixed, key=lambda i: len(i["url"]))["current"] = True
    return items
