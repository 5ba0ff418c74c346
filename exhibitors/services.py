"""Every write of the exhibitors app: applications and their review, staff, booths and
products. Side effects (emails, thumbnails) run only after the transaction commits."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from exhibitors.models import (
    Booth,
    Exhibitor,
    ExhibitorMember,
    Product,
    ProductImage,
    StaffInvitation,
)
from exhibitors.selectors import access_exhibitor, access_product
from exhibitors.signals import exhibitor_status_changed
from exhibitors.tasks import exhibitor_status_email, product_image_thumbnail
from fair.audit import audit_record
from fair.exceptions import ApplicationError, Forbidden, NotFound
from fair.models import Category, User
from fair.uploads import document_clean, glb_clean, image_clean

INVITATION_LIFETIME = timedelta(days=3)
BOOTH_IMAGE_SIDES = {"logo": 800, "banner": 2400, "panorama": 8000}
PRODUCT_IMAGE_SIDE = 2000
MAX_PRODUCT_IMAGES = 12

# Fields a product form or API may set (named here; never taken from request keys).
PRODUCT_FIELDS = (
    "sku", "category", "name", "description", "specs", "keywords", "moq", "moq_unit",
    "price_min", "price_max", "currency", "incoterm", "port_of_loading", "lead_time_days",
    "hs_code", "certifications", "samples", "is_new_launch",
)  # fmt: skip
BOOTH_FIELDS = (
    "tagline", "story", "video_url", "section", "certificates", "contact_person",
    "contact_email", "contact_phone",
)  # fmt: skip


def _require_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise Forbidden("Only organisers can review exhibitors.")


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "exhibitor"
    slug, n = base, 1
    while Exhibitor.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- Applications and review -------------------------------------------------------------


@transaction.atomic
def exhibitor_apply(
    *,
    user: User,
    display_name: str,
    legal_name: str,
    country: str,
    description: str,
    province: str = "",
    city: str = "",
    website: str = "",
    year_founded: int | None = None,
    main_categories: Iterable[Category] = (),
    business_licence=None,
) -> Exhibitor:
    """A company applies: created pending, the applicant its owner, with an empty booth.
    Nothing of it is public until an organiser approves."""
    if not user.is_authenticated:
        raise ApplicationError(_("Log in to apply."))
    exhibitor = Exhibitor(
        display_name=display_name.strip(),
        legal_name=legal_name.strip(),
        slug=_unique_slug(display_name),
        country=country,
        province=province.strip(),
        city=city.strip(),
        website=website.strip(),
        year_founded=year_founded,
        description=description.strip(),
    )
    if business_licence is not None:
        exhibitor.business_licence = document_clean(business_licence)
    exhibitor.full_clean(exclude=["business_licence"])
    exhibitor.save()
    exhibitor.main_categories.set(main_categories)
    ExhibitorMember.objects.create(exhibitor=exhibitor, user=user, role=ExhibitorMember.Role.OWNER)
    Booth.objects.create(exhibitor=exhibitor)
    return exhibitor


def _exhibitor_set_status(
    *,
    actor: User,
    exhibitor_id: int,
    status: str,
    action: str,
    reason: str,
    allowed_from: tuple[str, ...],
    note: str = "",
) -> Exhibitor:
    """Move an exhibitor to ``status`` (row locked) and record the decision in the audit log
    in the same transaction. ``reason`` is shown to the applicant (email, their own pages);
    ``note`` is for the organisers' log only. On commit: the owners' email is queued and
    ``exhibitor_status_changed`` is sent (the live-stream app stops a suspended company's
    streams). The product search columns follow the status by a database trigger
    (migration 0004), so the catalogue search changes in the same transaction."""
    _require_organiser(actor)
    exhibitor = Exhibitor.objects.select_for_update().filter(pk=exhibitor_id).first()
    if exhibitor is None:
        raise NotFound("No such exhibitor.")
    if exhibitor.status not in allowed_from:
        raise ApplicationError(
            _("This exhibitor is %(status)s; that change is not possible from there.")
            % {"status": exhibitor.get_status_display().lower()},
            code="illegal_transition",
        )
    old_status = exhibitor.status
    exhibitor.status = status
    exhibitor.status_reason = reason.strip()
    exhibitor.reviewed_by = actor
    exhibitor.reviewed_at = timezone.now()
    exhibitor.save(
        update_fields=["status", "status_reason", "reviewed_by", "reviewed_at", "updated_at"]
    )
    audit_record(
        actor=actor,
        action=action,
        target=exhibitor,
        reason=reason.strip() or note.strip(),
        data={"from": old_status, "to": status},
    )
    exhibitor_status_email.delay_on_commit(exhibitor_id=exhibitor.pk, status=status)
    transaction.on_commit(
        functools.partial(
            exhibitor_status_changed.send,
            sender=Exhibitor,
            exhibitor_id=exhibitor.pk,
            old_status=old_status,
            new_status=status,
            actor_id=actor.pk,
        ),
        # The decision is committed: a failing receiver is logged, it does not undo it.
        robust=True,
    )
    return exhibitor


@transaction.atomic
def exhibitor_approve(*, actor: User, exhibitor_id: int, note: str = "") -> Exhibitor:
    """Approve a pending (or previously rejected) application; the owners get an email.
    ``note``: an optional remark for the audit log."""
    S = Exhibitor.Status
    return _exhibitor_set_status(
        actor=actor,
        exhibitor_id=exhibitor_id,
        status=S.APPROVED,
        action="exhibitor.approve",
        reason="",
        note=note,
        allowed_from=(S.PENDING, S.REJECTED),
    )


@transaction.atomic
def exhibitor_reject(*, actor: User, exhibitor_id: int, reason: str) -> Exhibitor:
    """Reject with a reason the applicant sees (by email and on their page)."""
    if not reason.strip():
        raise ApplicationError(_("Give the applicant a reason."), code="reason_required")
    S = Exhibitor.Status
    return _exhibitor_set_status(
        actor=actor,
        exhibitor_id=exhibitor_id,
        status=S.REJECTED,
        action="exhibitor.reject",
        reason=reason,
        allowed_from=(S.PENDING,),
    )


@transaction.atomic
def exhibitor_suspend(*, actor: User, exhibitor_id: int, reason: str) -> Exhibitor:
    """Suspend an approved exhibitor: its booth and products leave every public page, the
    directory, the search and the public API (they all read approved exhibitors only)."""
    if not reason.strip():
        raise ApplicationError(_("Give the exhibitor a reason."), code="reason_required")
    S = Exhibitor.Status
    return _exhibitor_set_status(
        actor=actor,
        exhibitor_id=exhibitor_id,
        status=S.SUSPENDED,
        action="exhibitor.suspend",
        reason=reason,
        allowed_from=(S.APPROVED,),
    )


@transaction.atomic
def exhibitor_reinstate(*, actor: User, exhibitor_id: int, note: str = "") -> Exhibitor:
    """Lift a suspension: the booth and published products are public again."""
    S = Exhibitor.Status
    return _exhibitor_set_status(
        actor=actor,
        exhibitor_id=exhibitor_id,
        status=S.APPROVED,
        action="exhibitor.reinstate",
        reason="",
        note=note,
        allowed_from=(S.SUSPENDED,),
    )


@transaction.atomic
def exhibitor_document_open(*, actor: User, exhibitor_id: int) -> Exhibitor:
    """An organiser opens an application's business licence: recorded in the audit log
    before the file is handed out. No licence (or no exhibitor): NotFound."""
    _require_organiser(actor)
    exhibitor = Exhibitor.objects.filter(pk=exhibitor_id).first()
    if exhibitor is None or not exhibitor.business_licence:
        raise NotFound("No such document.")
    audit_record(
        actor=actor,
        action="exhibitor.document_view",
        target=exhibitor,
        data={"document": "business_licence"},
    )
    return exhibitor


@transaction.atomic
def exhibitors_export_record(*, actor: User, filters: dict, rows: int) -> None:
    """Log an organiser's download of the exhibitors CSV (which filters, how many rows)."""
    _require_organiser(actor)
    audit_record(
        actor=actor,
        action="export.download",
        target_label="exhibitors.csv",
        data={"export": "exhibitors", "filters": filters, "rows": rows},
    )


@transaction.atomic
def exhibitor_profile_update(*, user: User, exhibitor_id: int, data: dict) -> Exhibitor:
    exhibitor, _membership = access_exhibitor(
        user=user, exhibitor_id=exhibitor_id, edit=True, for_update=True
    )
    for field in (
        "display_name",
        "legal_name",
        "country",
        "province",
        "city",
        "website",
        "year_founded",
        "description",
    ):
        if field in data:
            setattr(exhibitor, field, data[field])
    exhibitor.full_clean(exclude=["business_licence"])
    exhibitor.save()
    if "main_categories" in data:
        exhibitor.main_categories.set(data["main_categories"])
    return exhibitor


# --- Staff -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def staff_invite(
    *, actor: User, exhibitor_id: int, email: str, role: str, base_url: str
) -> StaffInvitation:
    """Invite a colleague by email. Owners may invite any role; admins may invite sales
    staff and admins. The link holds a 256-bit token (only its hash is stored), works once
    and expires after three days."""
    exhibitor, membership = access_exhibitor(user=actor, exhibitor_id=exhibitor_id, edit=True)
    if role not in ExhibitorMember.Role.values:
        raise ApplicationError(_("Unknown role."))
    if role == ExhibitorMember.Role.OWNER and membership.role != ExhibitorMember.Role.OWNER:
        raise Forbidden("Only owners can invite owners.")
    email = email.strip()
    if exhibitor.members.filter(user__email__iexact=email).exists():
        raise ApplicationError(_("%(email)s is already on your staff.") % {"email": email})
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation.objects.create(
        exhibitor=exhibitor,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    link = base_url.rstrip("/") + reverse("exhibitors:invitation_accept", args=[token])
    subject = _("%(company)s invites you to its CloudFair booth") % {
        "company": exhibitor.display_name
    }
    body = render_to_string(
        "exhibitors/email/invitation.txt",
        {"exhibitor": exhibitor, "inviter": actor, "link": link, "invitation": invitation},
    )
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return invitation


def invitation_by_token(token: str) -> StaffInvitation | None:
    return (
        StaffInvitation.objects.select_related("exhibitor")
        .filter(token_hash=_token_hash(token))
        .first()
    )


@transaction.atomic
def staff_invitation_accept(*, user: User, token: str) -> ExhibitorMember:
    invitation = (
        StaffInvitation.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None or not invitation.is_open:
        raise ApplicationError(
            _(
                "This invitation link is no longer valid: it was used, withdrawn or has "
                "expired. Ask for a new one."
            ),
            code="invitation_invalid",
        )
    if invitation.email.lower() != user.email.lower():
        raise ApplicationError(
            _("This invitation was sent to %(email)s. Log in with that address to accept it.")
            % {"email": invitation.email},
            code="invitation_wrong_user",
        )
    member, created = ExhibitorMember.objects.get_or_create(
        exhibitor=invitation.exhibitor, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return member


@transaction.atomic
def staff_invitation_revoke(*, actor: User, invitation_id: int) -> None:
    invitation = StaffInvitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    access_exhibitor(user=actor, exhibitor_id=invitation.exhibitor_id, edit=True)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def _owner_count(exhibitor_id: int) -> int:
    return ExhibitorMember.objects.filter(
        exhibitor_id=exhibitor_id, role=ExhibitorMember.Role.OWNER
    ).count()


@transaction.atomic
def staff_role_change(*, actor: User, member_id: int, role: str) -> ExhibitorMember:
    member = ExhibitorMember.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise NotFound("No such staff member.")
    access_exhibitor(user=actor, exhibitor_id=member.exhibitor_id, owner=True, for_update=True)
    if role not in ExhibitorMember.Role.values:
        raise ApplicationError(_("Unknown role."))
    demoting_owner = (
        member.role == ExhibitorMember.Role.OWNER and role != ExhibitorMember.Role.OWNER
    )
    if demoting_owner and _owner_count(member.exhibitor_id) <= 1:
        raise ApplicationError(
            _("A company needs at least one owner. Make someone else an owner first."),
            code="last_owner",
        )
    member.role = role
    member.save(update_fields=["role"])
    return member


@transaction.atomic
def staff_remove(*, actor: User, member_id: int) -> None:
    """Owners remove anyone; admins remove sales staff; anyone may leave, except the last
    owner (the exhibitor row is locked so two owners cannot remove each other at once)."""
    member = ExhibitorMember.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound("No such staff member.")
    _exhibitor, actor_membership = access_exhibitor(
        user=actor, exhibitor_id=member.exhibitor_id, for_update=True
    )
    member = ExhibitorMember.objects.select_for_update().get(pk=member_id)
    leaving_self = member.user_id == actor.pk
    R = ExhibitorMember.Role
    if not leaving_self:
        if actor_membership.role == R.SALES:
            raise Forbidden("Sales staff cannot remove colleagues.")
        if actor_membership.role == R.ADMIN and member.role != R.SALES:
            raise Forbidden("Admins can remove sales staff only.")
    if member.role == R.OWNER and _owner_count(member.exhibitor_id) <= 1:
        raise ApplicationError(
            _("The last owner cannot be removed. Make someone else an owner first."),
            code="last_owner",
        )
    member.delete()


# --- Booth -----------------------------------------------------------------------------------


@transaction.atomic
def booth_update(*, user: User, exhibitor_id: int, data: dict, files: dict | None = None) -> Booth:
    """Save booth fields and any new images (each checked by content and re-encoded; a bad
    file raises ValidationError for its field and nothing is saved)."""
    exhibitor, _membership = access_exhibitor(
        user=user, exhibitor_id=exhibitor_id, edit=True, for_update=True
    )
    booth, _ = Booth.objects.select_for_update().get_or_create(exhibitor=exhibitor)
    for field in BOOTH_FIELDS:
        if field in data:
            setattr(booth, field, data[field])
    if booth.section_id and booth.section.kind != Category.Kind.SECTION:
        raise ValidationError({"section": _("Choose an exhibition section.")})
    errors = {}
    cleaned_files = {}
    for field, upload in (files or {}).items():
        if field not in BOOTH_IMAGE_SIDES or upload is None:
            continue
        try:
            cleaned_files[field] = image_clean(upload, max_side=BOOTH_IMAGE_SIDES[field]).file
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    booth.full_clean(exclude=list(BOOTH_IMAGE_SIDES))
    for field, content in cleaned_files.items():
        getattr(booth, field).save(content.name, content, save=False)
    booth.save()
    return booth


@transaction.atomic
def booth_image_remove(*, user: User, exhibitor_id: int, field: str) -> Booth:
    exhibitor, _m = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    if field not in BOOTH_IMAGE_SIDES:
        raise ApplicationError(_("Unknown image."))
    booth = Booth.objects.select_for_update().get(exhibitor=exhibitor)
    old = getattr(booth, field)
    if old:
        name = old.name
        storage = old.storage
        setattr(booth, field, "")
        booth.save(update_fields=[field, "updated_at"])
        transaction.on_commit(lambda: storage.delete(name))
    return booth


@transaction.atomic
def booth_publish(*, user: User, exhibitor_id: int, published: bool) -> Booth:
    exhibitor, _m = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    booth = Booth.objects.select_for_update().get(exhibitor=exhibitor)
    if published:
        missing = []
        if not booth.tagline and not booth.story:
            missing.append(_("a tagline or a story"))
        if not booth.section_id:
            missing.append(_("an exhibition section"))
        if missing:
            raise ApplicationError(
                _("Add %(missing)s before publishing.") % {"missing": _(" and ").join(missing)},
                code="booth_incomplete",
            )
    booth.is_published = published
    if published and booth.published_at is None:
        booth.published_at = timezone.now()
    booth.save(update_fields=["is_published", "published_at", "updated_at"])
    return booth


# --- Products --------------------------------------------------------------------------------


def _product_assign(product: Product, data: dict) -> None:
    for field in PRODUCT_FIELDS:
        if field in data:
            setattr(product, field, data[field])


def _product_save(product: Product) -> Product:
    product.full_clean(exclude=["model_3d"], validate_constraints=False)
    duplicate = (
        Product.objects.filter(exhibitor_id=product.exhibitor_id, sku=product.sku)
        .exclude(pk=product.pk)
        .exists()
    )
    if duplicate:
        raise ValidationError({"sku": _("You already have a product with this SKU.")})
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise ValidationError({"sku": _("You already have a product with this SKU.")}) from exc
    return product


@transaction.atomic
def product_create(*, user: User, exhibitor_id: int, data: dict) -> Product:
    exhibitor, _m = access_exhibitor(user=user, exhibitor_id=exhibitor_id, edit=True)
    product = Product(exhibitor=exhibitor)
    _product_assign(product, data)
    product.is_published = bool(data.get("is_published", False))
    return _product_save(product)


@transaction.atomic
def product_update(*, user: User, product_id: int, data: dict) -> Product:
    product = access_product(user=user, product_id=product_id, for_update=True)
    _product_assign(product, data)
    if "is_published" in data:
        product.is_published = bool(data["is_published"])
    return _product_save(product)


@transaction.atomic
def product_publish(*, user: User, product_id: int, published: bool) -> Product:
    product = access_product(user=user, product_id=product_id, for_update=True)
    product.is_published = published
    product.save(update_fields=["is_published", "updated_at"])
    return product


@transaction.atomic
def product_delete(*, user: User, product_id: int) -> None:
    product = access_product(user=user, product_id=product_id, for_update=True)
    names = [(img.image.storage, img.image.name) for img in product.images.all()]
    names += [
        (img.thumbnail.storage, img.thumbnail.name) for img in product.images.all() if img.thumbnail
    ]
    if product.model_3d:
        names.append((product.model_3d.storage, product.model_3d.name))
    product.delete()

    def _delete_files() -> None:
        for storage, name in names:
            storage.delete(name)

    transaction.on_commit(_delete_files)


@transaction.atomic
def product_image_add(*, user: User, product_id: int, upload, alt_text: str = "") -> ProductImage:
    """Check, re-encode and store an image; the thumbnail is made by a Celery task after
    commit."""
    product = access_product(user=user, product_id=product_id, for_update=True)
    if product.images.count() >= MAX_PRODUCT_IMAGES:
        raise ApplicationError(
            _("A product can have at most %(n)s images.") % {"n": MAX_PRODUCT_IMAGES}
        )
    cleaned = image_clean(upload, max_side=PRODUCT_IMAGE_SIDE)
    position = (product.images.aggregate(m=Max("position"))["m"] or 0) + 1
    image = ProductImage(
        product=product,
        alt_text=alt_text.strip()[:200] or product.name,
        position=position,
        width=cleaned.width,
        height=cleaned.height,
    )
    image.image.save(cleaned.file.name, cleaned.file, save=False)
    image.save()
    product_image_thumbnail.delay_on_commit(image_id=image.pk)
    return image


@transaction.atomic
def product_image_update(
    *, user: User, image_id: int, alt_text: str | None = None, position: int | None = None
) -> ProductImage:
    image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    access_product(user=user, product_id=image.product_id)
    if alt_text is not None:
        image.alt_text = alt_text.strip()[:200]
    if position is not None:
        image.position = max(0, position)
    image.save(update_fields=["alt_text", "position"])
    return image


@transaction.atomic
def product_image_remove(*, user: User, image_id: int) -> None:
    image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    access_product(user=user, product_id=image.product_id)
    files = [(f.storage, f.name) for f in (image.image, image.thumbnail) if f]
    image.delete()
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])


@transaction.atomic
def product_model_set(*, user: User, product_id: int, upload) -> Product:
    product = access_product(user=user, product_id=product_id, for_update=True)
    content = glb_clean(upload)
    product.model_3d.save(content.name, content, save=False)
    product.save(update_fields=["model_3d", "updated_at"])
    return product


# --- Denormalised flags kept by higher apps ---------------------------------------------------


def exhibitor_live_set(*, exhibitor_id: int, is_live: bool) -> None:
    """Called by livestream.services when a stream starts or stops (the lower app never
    imports the higher one). One UPDATE, no read."""
    Exhibitor.objects.filter(pk=exhibitor_id).update(is_live=is_live)
