"""The dashboard's charts each come with their figures as a table (for screen-reader and
keyboard users): rendered with the page from the very figures the charts start from, the
hours in the viewer's time zone and every label as the chart shows it, in every language."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.dateformat import re_formatchars
from pytest_django.asserts import assertInHTML

from fair import dashboard
from fair.organiser.views import LABEL_FORMAT_CHARS, chart_label_formats
from tests.factories import make_organiser

pytestmark = pytest.mark.django_db

# The fair's zone is Asia/Shanghai (+08:00): 01:00 there is 17:00 UTC the day before.
STREAMS = {
    "labels": [
        "2026-06-15T01:00:00+08:00",
        "2026-06-15T02:00:00+08:00",
        "2026-06-15T03:00:00+08:00",
    ],
    "values": [0, 4, 12],
}
NEGOTIATIONS = {"labels": ["2026-06-14", "2026-06-15"], "values": [3, 0]}
BUYERS = {
    "total": 5,
    "countries": 2,
    "by_country": [{"country": "SA", "count": 3}, {"country": "BR", "count": 2}],
    "other": 0,
}
EMPTY_ROW = '<tr><td colspan="2" class="org-empty">Nothing yet.</td></tr>'


@pytest.fixture
def seed_figures(monkeypatch):
    """Replace the chart providers by fixed figures (the others keep computing)."""
    monkeypatch.setattr(dashboard, "_PROVIDERS", dict(dashboard._PROVIDERS))

    def seed(streams=STREAMS, negotiations=NEGOTIATIONS, buyers=BUYERS):
        for name, data in (
            ("streams_per_hour", streams),
            ("negotiations_per_day", negotiations),
            ("buyers_by_country", buyers),
        ):
            if data is None:
                dashboard._PROVIDERS.pop(name)
            else:
                dashboard.register_figures(name, lambda ctx, data=data: data, every=60)

    return seed


def _page(client, *, time_zone: str, language: str = "en") -> str:
    organiser = make_organiser()
    organiser.time_zone, organiser.language = time_zone, language
    organiser.save(update_fields=["time_zone", "language"])
    client.force_login(organiser)
    response = client.get(reverse("organiser:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _rows(*cells: tuple[str, str, int]) -> str:
    return "".join(
        f'<tr><th scope="row"><time datetime="{at}">{label}</time></th><td>{value}</td></tr>'
        for at, label, value in cells
    )


def _figures_table(chart: str, caption_id: str, caption: str, head: tuple, body: str) -> str:
    return (
        f'<table class="org-table" data-chart-table="{chart}" data-empty-label="Nothing yet.">'
        f'<caption id="{caption_id}">{caption}</caption>'
        f'<thead><tr><th scope="col">{head[0]}</th><th scope="col">{head[1]}</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def test_dashboard_tables_show_the_seeded_figures_in_the_viewers_zone(client, seed_figures):
    seed_figures()

    html = _page(client, time_zone="Asia/Kolkata")  # +05:30: hours start at :30 there

    streams = _rows(
        ("2026-06-15T01:00:00+08:00", "Jun 14, 22:30", 0),
        ("2026-06-15T02:00:00+08:00", "Jun 14, 23:30", 4),
        ("2026-06-15T03:00:00+08:00", "Jun 15, 00:30", 12),
    )
    assertInHTML(
        '<details class="org-chart-figures" id="streams-figures">'
        "<summary>Show the figures as a table</summary>"
        + _figures_table(
            "streams_per_hour",
            "streams-table-caption",
            "Streams live in each hour (times in Asia/Kolkata)",
            ("Hour", "Streams live"),
            streams,
        )
        + "</details>",
        html,
        count=1,
    )
    # Days are the fair's calendar days: the same dates whatever the viewer's zone.
    days = _rows(("2026-06-14", "Jun 14", 3), ("2026-06-15", "Jun 15", 0))
    assertInHTML(
        '<details class="org-chart-figures" id="nego-figures">'
        "<summary>Show the figures as a table</summary>"
        + _figures_table(
            "negotiations_per_day",
            "nego-table-caption",
            "Negotiations opened on each day (days of the fair&#x27;s time zone)",
            ("Day", "Negotiations opened"),
            days,
        )
        + "</details>",
        html,
        count=1,
    )
    assertInHTML(
        "<tbody><tr><td>Saudi Arabia</td><td>3</td></tr><tr><td>Brazil</td><td>2</td></tr></tbody>",
        html,
        count=1,
    )
    # The charts start from the same figures (the page's JSON), and the script formats their
    # labels with the patterns and month names the tables were rendered with.
    figures = json.loads(
        re.search(r'<script id="dashboard-figures" type="application/json">(.*?)</script>', html)[1]
    )
    assert (figures["streams_per_hour"], figures["negotiations_per_day"]) == (
        STREAMS,
        NEGOTIATIONS,
    )
    assert figures["buyers_by_country"] == BUYERS
    assert 'data-hour-format="M j, H:i" data-day-format="M j"' in html
    months = json.loads(re.search(r'data-month-names="([^"]*)"', html)[1].replace("&quot;", '"'))
    assert months == {
        "M": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    }


def test_dashboard_canvases_keep_their_label_and_point_at_their_table(client, seed_figures):
    seed_figures()

    html = _page(client, time_zone="Asia/Shanghai")

    for chart, kind, label, table, caption in (
        (
            "streams_per_hour",
            "line",
            "Chart of streams live per hour across the fair",
            "streams-figures",
            "streams-table-caption",
        ),
        (
            "negotiations_per_day",
            "bar",
            "Chart of negotiations opened per day",
            "nego-figures",
            "nego-table-caption",
        ),
        (
            "buyers_by_country",
            "countries",
            "Chart of registered buyers by country",
            "country-table",
            "country-table-caption",
        ),
    ):
        assertInHTML(
            f'<canvas data-chart="{chart}" data-chart-type="{kind}" role="img" '
            f'aria-label="{label}" aria-describedby="{caption}" aria-details="{table}"></canvas>',
            html,
            count=1,
        )
        assert html.count(f'id="{table}"') == 1
        assert html.count(f'id="{caption}"') == 1
    assert '<caption class="visually-hidden" id="country-table-caption">' in html


def test_dashboard_tables_say_when_there_is_nothing_yet(client, seed_figures):
    # No hour charted (an empty series), no figures at all for the days (provider gone).
    seed_figures(
        streams={"labels": [], "values": []},
        negotiations=None,
        buyers={"total": 0, "countries": 0, "by_country": [], "other": 0},
    )

    html = _page(client, time_zone="Asia/Shanghai")

    for chart, caption_id, caption, head in (
        (
            "streams_per_hour",
            "streams-table-caption",
            "Streams live in each hour (times in Asia/Shanghai)",
            ("Hour", "Streams live"),
        ),
        (
            "negotiations_per_day",
            "nego-table-caption",
            "Negotiations opened on each day (days of the fair&#x27;s time zone)",
            ("Day", "Negotiations opened"),
        ),
    ):
        assertInHTML(_figures_table(chart, caption_id, caption, head, EMPTY_ROW), html, count=1)
    assertInHTML(
        '<tbody><tr><td colspan="2" class="org-empty">No buyer registered yet.</td></tr></tbody>',
        html,
        count=1,
    )
    assert "<time" not in html.split('id="streams-figures"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    ("language", "hour", "day", "summary", "head"),
    [
        ("en", "Jun 14, 20:00", "Jun 14", "Show the figures as a table", "Hour"),
        ("zh-hans", "6月14日 20:00", "6月14日", "以表格显示数据", "小时"),
        ("ar", "14 يونيو، 20:00", "14 يونيو", "اعرض الأرقام في جدول", "الساعة"),
        ("ru", "14 июня, 20:00", "14 июня", "Показать данные в виде таблицы", "Час"),
        ("es", "14 jun, 20:00", "14 jun", "Mostrar las cifras en una tabla", "Hora"),
        ("fr", "14 juin, 20:00", "14 juin", "Afficher les chiffres sous forme de tableau", "Heure"),
    ],
)
def test_dashboard_tables_in_each_language(
    client, seed_figures, language, hour, day, summary, head
):
    seed_figures()

    html = _page(client, time_zone="Europe/Moscow", language=language)  # +03:00

    assert f'<html lang="{language}"' in html
    assertInHTML(
        f'<tr><th scope="row"><time datetime="2026-06-15T01:00:00+08:00">{hour}</time></th>'
        "<td>0</td></tr>",
        html,
        count=1,
    )
    assertInHTML(
        f'<tr><th scope="row"><time datetime="2026-06-14">{day}</time></th><td>3</td></tr>',
        html,
        count=1,
    )
    assertInHTML(f"<summary>{summary}</summary>", html, count=2)
    assertInHTML(f'<th scope="col">{head}</th>', html, count=1)


@pytest.mark.parametrize("language", ["en", "zh-hans", "ar", "ru", "es", "fr"])
def test_chart_label_patterns_use_only_what_the_script_formats(language):
    """dashboard.js knows these format characters only; a day has no time of day."""
    with translation.override(language):
        formats = chart_label_formats()

    hour_chars = set(re_formatchars.split(formats["hour"])[1::2])
    day_chars = set(re_formatchars.split(formats["day"])[1::2])
    assert hour_chars <= LABEL_FORMAT_CHARS
    assert day_chars <= LABEL_FORMAT_CHARS - set("HGi")
    assert {"H", "i"} <= hour_chars  # an hour can start at :30 in the viewer's zone
    assert set(json.loads(formats["months"])) == (hour_chars | day_chars) & set("bMNFE")
