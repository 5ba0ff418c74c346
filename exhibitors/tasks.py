"""Background jobs of the exhibitors app. Each takes ids, is idempotent (brokers redeliver)
and is queued only after the transaction that asked for it commits."""

from __future__ import annotations

import io
import uuid

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from PIL import Image

THUMBNAIL_SIDE = 480


@shared_task
def product_image_thumbnail(*, image_id: int) -> bool:
    """Make the catalogue thumbnail of a product image. Returns False if there was nothing to
    do (image gone, or thumbnail already made)."""
    from exhibitors.models import ProductImage

    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None or image.thumbnail:
        return False
    with image.image.open("rb") as source, Image.open(source) as picture:
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        output = io.BytesIO()
        if picture.mode in ("RGBA", "LA", "P"):
            picture.convert("RGBA").save(output, format="PNG", optimize=True)
            extension = "png"
        else:
            picture.convert("RGB").save(output, format="JPEG", quality=80, optimize=True)
            extension = "jpg"
    content = ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}-thumb.{extension}")
    image.thumbnail.save(content.name, content, save=False)
    updated = ProductImage.objects.filter(pk=image_id, thumbnail="").update(
        thumbnail=image.thumbnail.name
    )
    if not updated:  # another run won the race: drop our copy
        image.thumbnail.storage.delete(image.thumbnail.name)
    return bool(updated)


@shared_task
def exhibitor_status_email(*, exhibitor_id: int, status: str) -> int:
    """Tell the exhibitor's owners about a review decision, in each owner's language.
    Skipped if the status has changed again since (a newer email is on its way)."""
    from exhibitors.models import Exhibitor, ExhibitorMember

    exhibitor = Exhibitor.objects.filter(pk=exhibitor_id).first()
    if exhibitor is None or exhibitor.status != status:
        return 0
    owners = ExhibitorMember.objects.filter(
        exhibitor=exhibitor, role=ExhibitorMember.Role.OWNER
    ).select_related("user")
    sent = 0
    for member in owners:
        with translation.override(member.user.language):
            subject = render_to_string(
                "exhibitors/email/status_subject.txt", {"exhibitor": exhibitor}
            ).strip()
            body = render_to_string(
                "exhibitors/email/status_body.txt", {"exhibitor": exhibitor, "user": member.user}
            )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [member.user.email])
        sent += 1
    return sent


# The bulk-import task lives with the importer; importing it here registers it with the
# worker (Celery autodiscovers tasks.py modules only).
from exhibitors.imports import import_job_run  # noqa: E402,F401
from exhibitors.visits import visits_flush_task  # noqa: E402,F401 (registers the beat task)


@shared_task
def search_words_refresh() -> int:
    """Recount the search word list (autocomplete and typo correction) from public
    products. Idempotent; run hourly by beat."""
    from exhibitors.search import search_words_refresh as refresh

    return refresh()
