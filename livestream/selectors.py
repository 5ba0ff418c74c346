"""Permission-checked reads of live sessions: the public programme, the stream room, the
exhibitor's own sessions, a buyer's reminders, follows and region.

Public reads only ever return ``LiveSession.objects.public()`` (approved exhibitors, not
cancelled). A cancelled session or one of a company that is not approved is visible to that
company's staff only; everyone else gets the same ``NotFound`` as for an id that never
existed. Buyer data (follows, the profile's country) is read through the relations by
string lookups: this app may not import ``buyers``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from exhibitors.models import Exhibitor, ExhibitorMember, Product, ProductImage
from exhibitors.selectors import access_exhibitor, membership_get
from fair.exceptions import NotFound
from fair.models import Category, User
from livestream.models import LiveSession, Region, SessionReminder, StreamChannel

# --- Who is asking ---------------------------------------------------------------------------


def user_is_buyer(user: User) -> bool:
    """Signed in with a buyer profile. Reads the relation the page header already loaded."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        return user.buyer_profile is not None
    except ObjectDoesNotExist:
        return False


def buyer_country(user: User) -> str:
    """The buyer's country code ("" for someone without a buyer profile)."""
    if not user_is_buyer(user):
        return ""
    return str(user.buyer_profile.country or "")


# --- Regions ---------------------------------------------------------------------------------

# Which programme region a buyer's country belongs to (the regions sessions target). Domestic
# China is the mainland only; Hong Kong, Macao and Taiwan count as Asia-Pacific.
_REGION_COUNTRIES: dict[str, str] = {
    Region.CHINA: "CN",
    Region.RUSSIA_CENTRAL_ASIA: "RU BY KZ UZ KG TJ TM MN AM AZ GE",
    Region.MIDDLE_EAST_AFRICA: (
        # Middle East
        "SA AE QA KW BH OM YE IQ IR JO LB SY IL PS "
        # North Africa
        "EG LY TN DZ MA EH SD SS "
        # Sub-Saharan Africa
        "MR ML NE TD SN GM GW GN SL LR CI BF GH TG BJ NG CM CF GQ GA CG CD AO ST CV "
        "ET ER DJ SO KE UG RW BI TZ MZ MW ZM ZW BW NA ZA LS SZ MG MU SC KM RE YT SH"
    ),
    Region.EUROPE: (
        "GB IE FR DE NL BE LU CH AT LI IT SM VA MT ES PT AD MC "
        "DK NO SE FI IS FO AX SJ EE LV LT PL CZ SK HU SI HR BA RS ME MK AL XK "
        "GR CY BG RO MD UA TR GI GG JE IM GL"
    ),
    Region.AMERICAS: (
        "US CA MX GT BZ SV HN NI CR PA CU DO HT JM BS BB TT AG DM GD KN LC VC "
        "PR VI VG KY BM TC AW CW SX BQ MF BL GP MQ AI MS PM "
        "CO VE EC PE BO CL AR UY PY BR GY SR GF FK"
    ),
    Region.ASIA_PACIFIC: (
        "JP KR KP TW HK MO SG MY ID TH VN PH KH LA MM BN TL "
        "IN PK BD LK NP BT MV AF "
        "AU NZ PG FJ SB VU NC PF WS TO KI TV NR FM MH PW CK NU GU MP AS"
    ),
}
COUNTRY_REGION: dict[str, str] = {
    code: str(region) for region, codes in _REGION_COUNTRIES.items() for code in codes.split()
}


def region_for_country(country_code: str) -> str | None:
    """The ``Region`` value for an ISO 3166 country code, or None when it has none."""
    return COUNTRY_REGION.get((country_code or "").upper())


# --- The public programme --------------------------------------------------------------------


def sessions_public() -> QuerySet[LiveSession]:
    return LiveSession.objects.public()


def _cards(queryset: QuerySet[LiveSession]) -> QuerySet[LiveSession]:
    # Everything a programme card shows, in the same query (regions are a JSON list).
    return queryset.select_related("exhibitor")


def _targeting(queryset: QuerySet[LiveSession], region: str) -> QuerySet[LiveSession]:
    if connection.features.supports_json_field_contains:
        return queryset.filter(target_regions__contains=[region])
    # SQLite (the embedded demo) has no JSON containment: the stored list is JSON text in
    # which a region appears as "<value>" (region values are plain ASCII words).
    return queryset.filter(target_regions__icontains=f'"{region}"')


def sessions_filtered(
    queryset: QuerySet[LiveSession],
    *,
    category: Category | None = None,
    region: str = "",
    language: str = "",
    kind: str = "",
) -> QuerySet[LiveSession]:
    """Programme filters. A category matches the exhibitor's booth section (a top-level
    category also matches its sections) or one of the exhibitor's main categories."""
    if category is not None:
        main = Exhibitor.main_categories.through.objects.filter(
            exhibitor_id=OuterRef("exhibitor_id"), category=category
        )
        by_section = Q(exhibitor__booth__section=category)
        if category.parent_id is None:
            by_section |= Q(exhibitor__booth__section__parent=category)
        queryset = queryset.filter(by_section | Q(Exists(main)))
    if region:
        queryset = _targeting(queryset, region)
    if language:
        queryset = queryset.filter(language=language)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


def programme_live(**filters) -> QuerySet[LiveSession]:
    """Sessions streaming now, the most recently started first."""
    queryset = sessions_filtered(sessions_public().live(), **filters)
    return _cards(queryset).order_by("-started_at", "-pk")


def programme_upcoming(*, since: datetime | None = None, **filters) -> QuerySet[LiveSession]:
    """Scheduled sessions not over yet, by start; ``since`` skips those starting earlier."""
    now = timezone.now()
    queryset = sessions_public().upcoming(now)
    if since is not None and since > now:
        queryset = queryset.filter(scheduled_start__gte=since)
    queryset = sessions_filtered(queryset, **filters)
    return _cards(queryset).order_by("scheduled_start", "pk")


def programme_categories() -> list[Category]:
    """Categories and their sections for the filter (one query)."""
    return list(Category.objects.select_related("parent").order_by("position", "name"))


def reminded_session_ids(*, user: User, session_ids) -> set[int]:
    """Which of these sessions the user asked to be reminded of (one query)."""
    if not user.is_authenticated or not session_ids:
        return set()
    return set(
        SessionReminder.objects.filter(user=user, session_id__in=list(session_ids))
        .order_by()  # the model's ordering would join the sessions for nothing
        .values_list("session_id", flat=True)
    )


# --- The stream room -------------------------------------------------------------------------


def session_for_room(*, user: User, session_id: int) -> tuple[LiveSession, ExhibitorMember | None]:
    """A session for its room page and the caller's membership of its company (None for
    everyone else). Public sessions for everyone; a cancelled session or one of a company
    that is not approved only for that company's staff."""
    session = (
        LiveSession.objects.select_related("exhibitor", "pinned_product")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise NotFound("No such session.")
    membership = membership_get(user=user, exhibitor_id=session.exhibitor_id)
    is_public = (
        session.status != LiveSession.Status.CANCELLED
        and session.exhibitor.status == Exhibitor.Status.APPROVED
    )
    if not is_public and membership is None:
        raise NotFound("No such session.")
    return session, membership


def session_public_get(*, session_id: int) -> LiveSession:
    session = sessions_public().select_related("exhibitor").filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session.")
    return session


def featured_products_of(session: LiveSession) -> list[Product]:
    """The session's published featured products with their first image (two queries)."""
    return list(
        session.featured_products.filter(is_published=True)
        .prefetch_related(
            Prefetch(
                "images",
                queryset=ProductImage.objects.order_by("position", "pk")[:1],
                to_attr="cover_images",
            )
        )
        .order_by("name", "pk")
    )


def playback_url(session: LiveSession) -> str:
    """Where viewers fetch the stream: the external HLS URL, or the media server's playlist
    named after the channel's *public* id. Never derived from the stream key."""
    if session.source == LiveSession.Source.EXTERNAL:
        return session.external_hls_url
    public_id = (
        StreamChannel.objects.filter(exhibitor_id=session.exhibitor_id)
        .values_list("public_id", flat=True)
        .first()
    )
    if not public_id:
        return ""
    return f"{settings.MEDIA_HLS_URL.rstrip('/')}/{public_id}.m3u8"


# --- The exhibitor's own sessions ------------------------------------------------------------


def access_session_for_staff(
    *, user: User, exhibitor_id: int, session_id: int
) -> tuple[LiveSession, Exhibitor, ExhibitorMember]:
    """One of the company's sessions for its staff (any role). Outsiders, and a session of
    another company, get NotFound."""
    exhibitor, membership = access_exhibitor(user=user, exhibitor_id=exhibitor_id)
    session = (
        LiveSession.objects.filter(pk=session_id, exhibitor=exhibitor)
        .prefetch_related("featured_products")
        .first()
    )
    if session is None:
        raise NotFound("No such session.")
    return session, exhibitor, membership


def sessions_of_exhibitor(*, exhibitor: Exhibitor, show: str = "upcoming") -> QuerySet[LiveSession]:
    """The company's sessions for its staff: ``upcoming`` (live and scheduled, by start),
    ``past`` (ended, latest first) or ``cancelled``."""
    queryset = LiveSession.objects.filter(exhibitor=exhibitor)
    if show == "past":
        return queryset.filter(status=LiveSession.Status.ENDED).order_by("-scheduled_start")
    if show == "cancelled":
        return queryset.filter(status=LiveSession.Status.CANCELLED).order_by("-scheduled_start")
    return queryset.filter(
        status__in=[LiveSession.Status.LIVE, LiveSession.Status.SCHEDULED]
    ).order_by("scheduled_start")


def products_for_featuring(*, exhibitor: Exhibitor) -> QuerySet[Product]:
    """The company's published products, which a session may feature."""
    return Product.objects.filter(exhibitor=exhibitor, is_published=True).order_by("name", "pk")


def session_current_or_next(*, exhibitor: Exhibitor) -> LiveSession | None:
    """The company's live session, else its next scheduled one (for the go-live page)."""
    return (
        LiveSession.objects.filter(exhibitor=exhibitor, scheduled_end__gt=timezone.now())
        .filter(status__in=[LiveSession.Status.LIVE, LiveSession.Status.SCHEDULED])
        .order_by("status", "scheduled_start")  # "live" sorts before "scheduled"
        .first()
    )


# --- A buyer's own programme ------------------------------------------------------------------


def _window(queryset: QuerySet[LiveSession], start: datetime, end: datetime) -> QuerySet:
    return (
        queryset.filter(
            status__in=[LiveSession.Status.LIVE, LiveSession.Status.SCHEDULED],
            scheduled_end__gt=start,
            scheduled_start__lt=end,
        )
        .select_related("exhibitor")
        .order_by("scheduled_start", "pk")
    )


def sessions_reminded(*, user: User, start: datetime, end: datetime) -> QuerySet[LiveSession]:
    return _window(sessions_public().filter(reminders__user=user), start, end)


def sessions_of_followed(*, user: User, start: datetime, end: datetime) -> QuerySet[LiveSession]:
    # buyers.Follow, through its related name on Exhibitor (no import of the buyers app).
    return _window(sessions_public().filter(exhibitor__follows__user=user), start, end)


def sessions_for_region(*, region: str, start: datetime, end: datetime) -> QuerySet[LiveSession]:
    return _window(_targeting(sessions_public(), region), start, end)


def sessions_for_feed(*, user: User, since: datetime, limit: int = 500) -> list[LiveSession]:
    """A buyer's calendar feed: sessions they asked to be reminded of and sessions of the
    booths they follow, not over before ``since``."""
    followed = Exists(Exhibitor.objects.filter(pk=OuterRef("exhibitor_id"), follows__user=user))
    reminded = Exists(SessionReminder.objects.filter(session=OuterRef("pk"), user=user))
    return list(
        sessions_public()
        .filter(scheduled_end__gt=since)
        .filter(Q(followed) | Q(reminded))
        .select_related("exhibitor")
        .order_by("scheduled_start", "pk")[:limit]
    )


# --- The organisers' sessions list -------------------------------------------------------------


def sessions_for_organisers(
    *, user: User, q: str = "", status: str = "", day=None
) -> QuerySet[LiveSession]:
    """Every session of the fair for organisers (anyone else: ``NotFound``): live now
    first (latest start first), then scheduled (soonest first), then ended (latest first),
    then cancelled. ``q`` matches the title or the company's name; ``day`` (a date in the
    active zone) keeps the sessions scheduled to run on that day."""
    if not (user.is_authenticated and user.is_organiser):
        raise NotFound("No such page.")
    S = LiveSession.Status
    queryset = LiveSession.objects.select_related("exhibitor")
    if q:
        queryset = queryset.filter(Q(title__icontains=q) | Q(exhibitor__display_name__icontains=q))
    if status in S.values:
        queryset = queryset.filter(status=status)
    if day is not None:
        zone = timezone.get_current_timezone()
        start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        queryset = queryset.filter(scheduled_start__lt=end, scheduled_end__gt=start)
    rank = Case(
        When(status=S.LIVE, then=Value(0)),
        When(status=S.SCHEDULED, then=Value(1)),
        When(status=S.ENDED, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return queryset.annotate(list_rank=rank).order_by(
        "list_rank",
        Case(When(status=S.SCHEDULED, then="scheduled_start")).asc(nulls_last=True),
        Coalesce("started_at", "scheduled_start").desc(),
        "-pk",
    )
