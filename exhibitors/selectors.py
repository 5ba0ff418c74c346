"""Permission-checked reads of exhibitors, booths and products.

Public reads only ever return approved exhibitors, published booths and published products.
Staff reads go through ``access_exhibitor`` / ``access_product``: a user who is not staff of
the company gets the same ``NotFound`` as for an id that does not exist."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from exhibitors.models import Booth, Exhibitor, ExhibitorMember, Product, ProductImage
from fair.exceptions import Forbidden, NotFound
from fair.models import User


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
