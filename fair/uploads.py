"""Uploads are checked by what they contain, never by their name or declared type.

* Images must decode with Pillow as JPEG, PNG or WebP, have at most 40 megapixels (checked
  from the header, before the pixels are decoded: a "pixel flood" is refused cheaply) and at
  most 10 MB; they are re-encoded, which drops EXIF (location, camera) and anything appended
  to the file (HTML/script polyglots).
* PDFs must start with a PDF header and end with an EOF marker.
* 3D models must be binary glTF (GLB) with a consistent header.

Every accepted file gets a server-generated name; the uploader's name is never used."""

from __future__ import annotations

import io
import struct
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_PDF_BYTES = 20 * 1024 * 1024
MAX_MODEL_BYTES = 30 * 1024 * 1024
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass(frozen=True)
class CleanImage:
    file: ContentFile
    width: int
    height: int


def _read_limited(upload, limit: int, too_big_message: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(too_big_message, code="too_large")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(too_big_message, code="too_large")
    return data


def image_clean(upload, *, max_side: int | None = None, quality: int = 85) -> CleanImage:
    """Check and re-encode an uploaded image. Raises ValidationError with a message a person
    understands. Transparent images stay PNG; everything else becomes JPEG."""
    data = _read_limited(
        upload, MAX_IMAGE_BYTES, _("The image is larger than 10 MB. Please upload a smaller one.")
    )
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _("The image has %(mp)s megapixels; the limit is 40.")
                    % {"mp": round(width * height / 1_000_000)},
                    code="too_many_pixels",
                )
            probe.verify()
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if max_side and max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            has_alpha = image.mode in ("RGBA", "LA") or (
                image.mode == "P" and "transparency" in image.info
            )
            output = io.BytesIO()
            if has_alpha:
                image.convert("RGBA").save(output, format="PNG", optimize=True)
                extension = "png"
            else:
                image.convert("RGB").save(
                    output, format="JPEG", quality=quality, optimize=True, progressive=True
                )
                extension = "jpg"
            final_size = image.size
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(
            _("The image has far more than 40 megapixels; the limit is 40."),
            code="too_many_pixels",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not a JPEG, PNG or WebP image we can read."), code="not_an_image"
        ) from None
    return CleanImage(
        file=ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.{extension}"),
        width=final_size[0],
        height=final_size[1],
    )


def pdf_clean(upload) -> ContentFile:
    data = _read_limited(
        upload, MAX_PDF_BYTES, _("The PDF is larger than 20 MB. Please upload a smaller one.")
    )
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise ValidationError(_("This file is not a PDF document."), code="not_a_pdf")
    return ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")


def document_clean(upload) -> ContentFile:
    """A PDF, or an image (re-encoded): what a business licence may be."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return pdf_clean(upload)
    try:
        return image_clean(upload, max_side=4000).file
    except ValidationError as error:
        if error.code == "not_an_image":
            raise ValidationError(
                _("Upload a PDF or a JPEG, PNG or WebP image."), code="unsupported"
            ) from None
        raise


def glb_clean(upload) -> ContentFile:
    """A binary glTF 2.0 model: magic 'glTF', version 2, declared length equal to the size."""
    data = _read_limited(upload, MAX_MODEL_BYTES, _("The 3D model is larger than 30 MB."))
    if len(data) < 20:
        raise ValidationError(_("This file is not a GLB 3D model."), code="not_a_model")
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2 or length != len(data):
        raise ValidationError(
            _("This file is not a GLB (binary glTF 2.0) 3D model."), code="not_a_model"
        )
    return ContentFile(data, name=f"{uuid.uuid4().hex}.glb")
