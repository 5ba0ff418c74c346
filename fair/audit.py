"""The audit log: every decision organisers (and moderating staff) take is recorded here,
in the same transaction as the decision, so one never exists without the other."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from fair.models import AuditEntry, User

#: Every action the log knows, with the label organisers read. Apps record these names.
AUDIT_ACTIONS: dict[str, Any] = {
    "exhibitor.approve": _("Approved exhibitor"),
    "exhibitor.reject": _("Rejected exhibitor"),
    "exhibitor.suspend": _("Suspended exhibitor"),
    "exhibitor.reinstate": _("Reinstated exhibitor"),
    "exhibitor.document_view": _("Opened an application document"),
    "chat.hide": _("Hid a chat message"),
    "chat.unhide": _("Showed a chat message again"),
    "chat.mute": _("Muted a chat user"),
    "chat.ban": _("Banned a chat user"),
    "chat.unban": _("Lifted a chat ban"),
    "chat.slow_mode": _("Changed chat slow mode"),
    "report.dismiss": _("Dismissed a chat report"),
    "stream.stop": _("Stopped a live stream"),
    "announcement.publish": _("Published an announcement"),
    "announcement.withdraw": _("Withdrew an announcement"),
    "edition.create": _("Created a fair edition"),
    "edition.update": _("Changed a fair edition"),
    "category.create": _("Created a category"),
    "category.update": _("Changed a category"),
    "hall.create": _("Created a hall"),
    "hall.update": _("Changed a hall"),
    "hall.delete": _("Deleted a hall"),
    "export.download": _("Downloaded an export"),
}


def audit_action_label(action: str) -> str:
    return str(AUDIT_ACTIONS.get(action, action))


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_label: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the transaction of the decision it records."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: add it to fair.audit.AUDIT_ACTIONS.")
    signed_in = actor is not None and actor.is_authenticated
    target_type = target_id = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        target_label = target_label or str(target)
    return AuditEntry.objects.create(
        actor=actor if signed_in else None,
        actor_email=actor.email if signed_in else "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:200],
        reason=reason.strip(),
        data=data or {},
    )
