"""Where files live. ``default`` holds public media (booth images, product pictures);
``private`` holds files only their owners and organisers may fetch (business licences,
negotiation attachments): never a public URL, only a permission-checked view or a presigned
URL valid for at most five minutes."""

from __future__ import annotations

from django.core.files.storage import storages


def private_storage():
    """Callable storage (resolved at run time, so migrations stay environment-free)."""
    return storages["private"]
