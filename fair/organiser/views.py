"""Pages of the organisers' area owned by the fair core: the dashboard, editions, the
category tree, halls, announcements and the audit log."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fair.announcements import announcement_publish, announcement_withdraw
from fair.audit import audit_action_label
from fair.dashboard import dashboard_snapshot
from fair.exceptions import ApplicationError
from fair.models import Announcement, AuditEntry, Category, FairEdition, Hall
from fair.organiser.access import organiser_required
from fair.organiser.forms import (
    AnnouncementForm,
    AuditFilterForm,
    CategoryForm,
    EditionForm,
    HallForm,
)
from fair.organiser.services import category_save, edition_save, hall_delete, hall_save

AUDIT_PAGE_SIZE = 100
ANNOUNCEMENT_PAGE_SIZE = 25


@require_GET
@organiser_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("organiser:dashboard")


#: The charts with a table of their figures beside them (``{"labels": [...], "values": [...]}``).
CHART_SERIES = ("streams_per_hour", "negotiations_per_day")
#: The date-format characters a chart label pattern may use: static/fair/js/dashboard.js
#: formats the labels of pushed figures with the same pattern, and knows only these.
LABEL_FORMAT_CHARS = frozenset("djmnbMNFEYyHGi")
_MONTH_NAME_CHARS = "bMNFE"
_DAY_LABEL = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOUR_LABEL = re.compile(r"^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$")


def chart_label_formats() -> dict[str, str]:
    """The patterns of the charts' axis labels in the active language, and the month names
    they use, for the page's script (``dashboard.js`` applies the same patterns to pushed
    figures: a label reads the same in the table the page came with, after an update, and
    on the chart, whatever the language)."""
    # Translators: Django date format of an hour on the dashboard's
    # charts ("Jun 15, 14:00", in the viewer's time zone). Use only the
    # characters d j m n b M N F E Y y H G i (keep H:i: hours can start
    # at :30), with a backslash before any other letter.
    hour = pgettext("dashboard chart label", "M j, H:i")
    # Translators: Django date format of a day on the dashboard's charts
    # ("Jun 15"). Use only the characters d j m n b M N F E Y y, with a
    # backslash before any other letter.
    day = pgettext("dashboard chart label", "M j")
    months = {
        char: [dateformat.format(date(2001, month, 1), char) for month in range(1, 13)]
        for char in _MONTH_NAME_CHARS
        if char in hour + day
    }
    return {"hour": hour, "day": day, "months": json.dumps(months, ensure_ascii=False)}


def chart_label(label: str, formats: dict[str, str]) -> str:
    """A chart's label as the chart shows it: a day of the fair as a date (it is a calendar
    day of the fair's zone, the same for everyone), an hour in the viewer's time zone."""
    if _DAY_LABEL.match(label):
        return dateformat.format(date.fromisoformat(label), formats["day"])
    if _HOUR_LABEL.match(label):
        return dateformat.format(timezone.localtime(datetime.fromisoformat(label)), formats["hour"])
    return label


def chart_rows(series: dict | None, formats: dict[str, str]) -> list[dict]:
    if not series:
        return []
    return [
        {"at": label, "label": chart_label(label, formats), "value": value}
        for label, value in zip(series["labels"], series["values"], strict=True)
    ]


@require_GET
@organiser_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The page, with the figures it starts from; its tables of the charts' figures are
    rendered here from those same figures (the script then keeps them current)."""
    figures = dashboard_snapshot()
    generated_at = datetime.fromisoformat(figures["generated_at"])
    label_formats = chart_label_formats()
    return render(
        request,
        "fair/organiser/dashboard.html",
        {
            "figures": figures,
            "generated_at": generated_at,
            "label_formats": label_formats,
            "chart_rows": {
                name: chart_rows(figures.get(name), label_formats) for name in CHART_SERIES
            },
        },
    )


@require_GET
@organiser_required
def dashboard_figures(request: HttpRequest) -> HttpResponse:
    """The same figures as JSON (the page's fallback when its websocket is down)."""
    from django.http import JsonResponse

    response = JsonResponse({"type": "dashboard.figures", "figures": dashboard_snapshot()})
    response["Cache-Control"] = "private, no-store"
    return response


# --- Editions --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organiser_required
def editions(request: HttpRequest) -> HttpResponse:
    form = EditionForm(request.POST or None, initial={"time_zone": settings.FAIR_DEFAULT_TIME_ZONE})
    if request.method == "POST" and form.is_valid():
        edition = edition_save(actor=request.user, form=form)
        messages.success(request, _("Edition “%(name)s” created.") % {"name": edition.name})
        return redirect("organiser:editions")
    return render(
        request,
        "fair/organiser/editions.html",
        {"form": form, "editions": FairEdition.objects.annotate(hall_count=Count("halls"))},
    )


@require_http_methods(["GET", "POST"])
@organiser_required
def edition_edit(request: HttpRequest, edition_id: int) -> HttpResponse:
    edition = get_object_or_404(FairEdition, pk=edition_id)
    form = EditionForm(request.POST or None, instance=edition)
    if request.method == "POST" and form.is_valid():
        edition_save(actor=request.user, form=form)
        messages.success(request, _("Edition saved."))
        return redirect("organiser:editions")
    return render(request, "fair/organiser/edit.html", _edit_context(form, edition, "editions"))


def _edit_context(form, obj, back: str, title: str = "") -> dict:
    return {"form": form, "object": obj, "back_url": f"organiser:{back}", "title": title}


# --- Categories ------------------------------------------------------------------------------


@require_GET
@organiser_required
def categories(request: HttpRequest) -> HttpResponse:
    tree = (
        Category.objects.filter(parent__isnull=True)
        .prefetch_related(Prefetch("children", queryset=Category.objects.order_by("position")))
        .order_by("position", "name")
    )
    return render(request, "fair/organiser/categories.html", {"tree": tree})


@require_http_methods(["GET", "POST"])
@organiser_required
def category_edit(request: HttpRequest, category_id: int | None = None) -> HttpResponse:
    category = get_object_or_404(Category, pk=category_id) if category_id else None
    initial = {}
    if category is None and request.GET.get("parent", "").isdigit():
        initial = {"parent": int(request.GET["parent"]), "kind": Category.Kind.SECTION}
    form = CategoryForm(request.POST or None, instance=category, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = category_save(actor=request.user, form=form, names=form.translated_names())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
            return redirect("organiser:categories")
    title = _("New category or section") if category is None else category.name
    return render(
        request, "fair/organiser/edit.html", _edit_context(form, category, "categories", title)
    )


# --- Halls -------------------------------------------------------------------------------------


@require_GET
@organiser_required
def halls(request: HttpRequest) -> HttpResponse:
    hall_list = Hall.objects.select_related("edition").prefetch_related(
        Prefetch("sections", queryset=Category.objects.order_by("position", "name"))
    )
    return render(request, "fair/organiser/halls.html", {"halls": hall_list})


@require_http_methods(["GET", "POST"])
@organiser_required
def hall_edit(request: HttpRequest, hall_id: int | None = None) -> HttpResponse:
    hall = get_object_or_404(Hall, pk=hall_id) if hall_id else None
    form = HallForm(request.POST or None, instance=hall)
    if request.method == "POST" and form.is_valid():
        saved = hall_save(actor=request.user, form=form)
        messages.success(request, _("Hall %(code)s saved.") % {"code": saved.code})
        return redirect("organiser:halls")
    title = _("New hall") if hall is None else str(hall)
    return render(request, "fair/organiser/edit.html", _edit_context(form, hall, "halls", title))


@require_POST
@organiser_required
def hall_remove(request: HttpRequest, hall_id: int) -> HttpResponse:
    hall = get_object_or_404(Hall, pk=hall_id)
    hall_delete(actor=request.user, hall=hall)
    messages.success(request, _("Hall %(code)s deleted.") % {"code": hall.code})
    return redirect("organiser:halls")


# --- Announcements -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@organiser_required
def announcements(request: HttpRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement_publish(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error("expires_at" if error.code == "expires_at" else None, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Announcement published."))
            return redirect("organiser:announcements")
    page = Paginator(
        Announcement.objects.select_related("created_by"), ANNOUNCEMENT_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "fair/organiser/announcements.html",
        {"form": form, "page": page, "now": timezone.now()},
    )


@require_POST
@organiser_required
def announcement_take_down(request: HttpRequest, announcement_id: int) -> HttpResponse:
    try:
        announcement_withdraw(actor=request.user, announcement_id=announcement_id)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Announcement withdrawn from every page."))
    return redirect("organiser:announcements")


# --- Audit log ---------------------------------------------------------------------------------


@require_GET
@organiser_required
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.all()
    params = {}
    if form.is_valid():
        data = form.cleaned_data
        zone = timezone.get_current_timezone()
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["who"]:
            entries = entries.filter(actor_email__icontains=data["who"].strip())
        if data["target"]:
            entries = entries.filter(target_label__icontains=data["target"].strip())
        if data["since"]:
            entries = entries.filter(
                created_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone)
            )
        if data["until"]:
            end = datetime.combine(data["until"], time.min, tzinfo=zone) + timedelta(days=1)
            entries = entries.filter(created_at__lt=end)
        params = {k: v for k, v in request.GET.items() if k != "page" and v}
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.action_label = audit_action_label(entry.action)
    return render(
        request,
        "fair/organiser/audit.html",
        {"form": form, "page": page, "params": urlencode(params)},
    )
