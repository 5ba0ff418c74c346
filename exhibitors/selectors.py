"""Permission-checked reads of exhibitors, booths and products.

Public reads only ever return approved exhibitors, published booths and published products.
Staff reads go through ``access_exhibitor`` / ``access_product``: a user who is not staff of
the company gets the same ``NotFound`` as for an id that does not exist."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django_countries import countries

from exhibitors.models import (
    Booth,
    BoothVisitDay,
    Exhibitor,
    ExhibitorMember,
    Product,
    ProductImage,
)
from fair.exceptions import Forbidden, NotFound
from fair.models import AuditEntry, User


def exhibitors_public() -> QuerySet[Exhibitor]:
    return Exhibitor.objects.approved()


def exhibitor_public_get(*, slug: str) -> Exhibitor:
    exhibitor = (
        exhibitors_public().select_related("booth", "booth__section").filter(slug=slug).first()
    )
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    return exhibitor


def products_public() -> QuerySet[Product]:
    return Product.objects.public()


def product_public_get(*, product_id: int) -> Product:
    product = (
        products_public()
        .select_related("exhibitor", "exhibitor__booth", "category", "category__parent")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position")))
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise NotFound("No such product.")
    return product


def memberships_of(user: User) -> QuerySet[ExhibitorMember]:
    if not user.is_authenticated:
        return ExhibitorMember.objects.none()
    return ExhibitorMember.objects.filter(user=user).select_related("exhibitor")


def membership_get(*, user: User, exhibitor_id: int) -> ExhibitorMember | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return (
        ExhibitorMember.objects.select_related("exhibitor")
        .filter(user=user, exhibitor_id=exhibitor_id)
        .first()
    )


def access_exhibitor(
    *,
    user: User,
    exhibitor_id: int,
    edit: bool = False,
    owner: bool = False,
    for_update: bool = False,
) -> tuple[Exhibitor, ExhibitorMember]:
    """The exhibitor and the caller's membership. ``edit`` needs an owner or admin;
    ``owner`` needs the owner. Non-staff get NotFound; staff without the role get
    Forbidden."""
    membership = membership_get(user=user, exhibitor_id=exhibitor_id)
    if membership is None:
        raise NotFound("No such exhibitor.")
    if owner and membership.role != ExhibitorMember.Role.OWNER:
        raise Forbidden("Only the company's owners can do this.")
    if edit and not membership.can_edit:
        raise Forbidden("Sales staff cannot change the booth or the catalogue.")
    exhibitor = membership.exhibitor
    if for_update:
        exhibitor = Exhibitor.objects.select_for_update().get(pk=exhibitor_id)
    return exhibitor, membership


def booth_for_staff(*, exhibitor: Exhibitor) -> Booth:
    booth, _ = Booth.objects.select_related("section").get_or_create(exhibitor=exhibitor)
    return booth


def access_product(*, user: User, product_id: int, for_update: bool = False) -> Product:
    """A product the caller may edit (owner or admin of its exhibitor)."""
    queryset = Product.objects.select_related("exhibitor", "category")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    product = queryset.filter(pk=product_id).first()
    if product is None or membership_get(user=user, exhibitor_id=product.exhibitor_id) is None:
        # The same answer whether the product is missing or another company's.
        raise NotFound("No such product.")
    access_exhibitor(user=user, exhibitor_id=product.exhibitor_id, edit=True)
    return product


def products_of_exhibitor_for_staff(*, exhibitor: Exhibitor) -> QuerySet[Product]:
    return (
        Product.objects.filter(exhibitor=exhibitor)
        .select_related("category")
        .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("position")))
        .order_by("-updated_at")
    )


def staff_of(*, exhibitor: Exhibitor) -> QuerySet[ExhibitorMember]:
    return exhibitor.members.select_related("user").order_by("role", "user__full_name")


# --- Organisers' review --------------------------------------------------------------------

#: The approval queue's tabs, the first one the default.
REVIEW_TABS = ("pending", "approved", "rejected", "suspended", "all")


def _require_organiser(user: User) -> None:
    if not user.is_organiser:
        raise NotFound("No such exhibitor.")


def _country_codes_matching(text: str) -> list[str]:
    """ISO codes whose code is ``text`` or whose name (in the current language) contains it."""
    needle = text.strip().lower()
    return [
        code
        for code, name in countries
        if code.lower() == needle or (len(needle) >= 3 and needle in str(name).lower())
    ]


def exhibitors_review_search(*, q: str = "") -> QuerySet[Exhibitor]:
    """Every exhibitor whose company name (display or legal) or country matches ``q``."""
    queryset = Exhibitor.objects.all()
    q = q.strip()
    if q:
        queryset = queryset.filter(
            Q(display_name__icontains=q)
            | Q(legal_name__icontains=q)
            | Q(country__in=_country_codes_matching(q))
        )
    return queryset


def exhibitors_for_review(
    *, user: User, status: str = "pending", q: str = ""
) -> QuerySet[Exhibitor]:
    """The approval queue for organisers: one tab of ``REVIEW_TABS`` filtered by ``q``.
    Pending applications oldest first (first come, first served); decided ones most
    recently decided first; "all" puts pending ones first."""
    _require_organiser(user)
    queryset = exhibitors_review_search(q=q).select_related("reviewed_by").only(
        "id", "display_name", "legal_name", "slug", "country", "status", "status_reason",
        "created_at", "reviewed_at", "reviewed_by__id", "reviewed_by__email",
        "reviewed_by__full_name",
    )  # fmt: skip
    S = Exhibitor.Status
    if status == "pending":
        return queryset.filter(status=S.PENDING).order_by("created_at", "pk")
    if status in (S.APPROVED, S.REJECTED, S.SUSPENDED):
        return queryset.filter(status=status).order_by(
            F("reviewed_at").desc(nulls_last=True), "-pk"
        )
    pending_first = Case(When(status=S.PENDING, then=Value(0)), default=Value(1))
    return queryset.order_by(pending_first, "created_at", "pk")


def exhibitor_review_counts(*, q: str = "") -> dict[str, int]:
    """How many exhibitors (matching ``q``) each tab holds: one grouped count."""
    counts = dict.fromkeys(REVIEW_TABS, 0)
    rows = exhibitors_review_search(q=q).order_by().values_list("status").annotate(n=Count("pk"))
    for status, n in rows:
        counts[status] = n
        counts["all"] += n
    return counts


def exhibitor_for_review(*, user: User, exhibitor_id: int) -> Exhibitor:
    """One exhibitor with everything its review page shows; NotFound for non-organisers."""
    _require_organiser(user)
    exhibitor = (
        Exhibitor.objects.select_related("reviewed_by", "booth", "booth__section")
        .prefetch_related(
            "main_categories",
            Prefetch(
                "members",
                queryset=ExhibitorMember.objects.select_related("user").order_by(
                    "role", "created_at"
                ),
            ),
        )
        .annotate(
            products_total=_count_of(Product.objects.filter(exhibitor=OuterRef("pk"))),
            products_published=_count_of(
                Product.objects.filter(exhibitor=OuterRef("pk"), is_published=True)
            ),
        )
        .filter(pk=exhibitor_id)
        .first()
    )
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    return exhibitor


def exhibitor_review_history(*, exhibitor: Exhibitor) -> QuerySet[AuditEntry]:
    """The audit log's entries about this exhibitor, newest first."""
    return AuditEntry.objects.filter(
        target_type=Exhibitor._meta.label_lower, target_id=str(exhibitor.pk)
    ).order_by("-created_at", "-pk")


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated ``COUNT(*)`` subquery (one number per outer row, no join fan-out)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _sum_of(queryset: QuerySet, field: str) -> Coalesce:
    summed = queryset.order_by().annotate(s=Func(F(field), function="SUM")).values("s")
    return Coalesce(Subquery(summed, output_field=IntegerField()), 0)


def exhibitors_with_figures(queryset: QuerySet[Exhibitor]) -> QuerySet[Exhibitor]:
    """``queryset`` with the small figures as correlated subqueries on indexed columns:
    staff, booth and product views (flushed daily counts). Followers are the denormalised
    ``follower_count``; product counts come from ``product_counts_of`` (one grouped pass:
    a correlated count per exhibitor would read every product's row one by one)."""
    outer = OuterRef("pk")
    return queryset.annotate(
        staff_count=_count_of(ExhibitorMember.objects.filter(exhibitor=outer)),
        booth_views=_sum_of(BoothVisitDay.objects.filter(exhibitor=outer), "booth_views"),
        product_views=_sum_of(BoothVisitDay.objects.filter(exhibitor=outer), "product_views"),
    )


def product_counts_of(queryset: QuerySet[Exhibitor]) -> dict[int, tuple[int, int]]:
    """``{exhibitor_id: (published, total)}`` for the exhibitors of ``queryset`` that have
    products, in one grouped statement (a hash join and one pass over the catalogue for
    many exhibitors, index lookups for a few: the planner picks)."""
    rows = (
        Product.objects.filter(exhibitor__in=queryset.order_by().values("pk"))
        .order_by()
        .values("exhibitor_id")
        .annotate(published=Count("pk", filter=Q(is_published=True)), total=Count("pk"))
        .values_list("exhibitor_id", "published", "total")
    )
    return {exhibitor_id: (published, total) for exhibitor_id, published, total in rows}


# --- Audiences (registered with fair.audiences in ExhibitorsConfig.ready) ------------------


def _approved_staff() -> QuerySet[ExhibitorMember]:
    return ExhibitorMember.objects.filter(exhibitor__status=Exhibitor.Status.APPROVED)


def audience_exhibitors_includes(user: User) -> bool:
    """The "exhibitors" audience: staff (any role) of an approved exhibitor."""
    if not user.is_authenticated:
        return False
    return _approved_staff().filter(user=user).exists()


def is_exhibitor_admin(user: User) -> bool:
    """Owners and admins of an exhibitor (any status): their sessions get the short timeouts
    and two-step verification (fair.session_limits, fair.mfa)."""
    return ExhibitorMember.objects.filter(
        user=user, role__in=[ExhibitorMember.Role.OWNER, ExhibitorMember.Role.ADMIN]
    ).exists()


def audience_exhibitors_users() -> QuerySet[User]:
    return User.objects.filter(Exists(_approved_staff().filter(user=OuterRef("pk"))))
