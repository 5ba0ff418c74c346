"""Permission matrix rows of the organisers' exhibitor pages (org_exhibitors): organisers
only; everyone else gets the same 404 as a missing page (anonymous: the log-in page), and a
refused call changes nothing and writes no audit entry."""

from __future__ import annotations

from django.urls import reverse

from exhibitors.models import Exhibitor
from fair.models import AuditEntry
from tests.matrix_common import Row, World, organiser_only

N = "org_exhibitors:"


def _pending(w: World) -> Exhibitor:
    """A pending application (built on first use)."""
    if getattr(w, "org_pending", None) is None:
        from tests.exhibitors.factories import make_exhibitor

        w.org_pending = make_exhibitor(name="Matrix Applicant", approved=False)
    return w.org_pending


def _suspended(w: World) -> Exhibitor:
    if getattr(w, "org_suspended", None) is None:
        from exhibitors.services import exhibitor_suspend
        from tests.exhibitors.factories import make_exhibitor

        exhibitor = make_exhibitor(name="Matrix Suspended")
        exhibitor_suspend(
            actor=w.users["organiser"], exhibitor_id=exhibitor.pk, reason="Matrix check"
        )
        w.org_suspended = exhibitor
    return w.org_suspended


def _url(name: str, getter=None):
    """The URL of ``name`` (for the object ``getter`` builds), noting the newest audit entry
    first: a refused call must add none."""

    def build(w: World) -> str:
        args = [getter(w).pk] if getter else []
        w.org_audit_mark = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        return reverse(N + name, args=args)

    return build


def _unchanged(getter=None, status: str = ""):
    def check(w: World) -> None:
        assert not AuditEntry.objects.filter(pk__gt=w.org_audit_mark or 0).exists()
        if getter:
            assert Exhibitor.objects.get(pk=getter(w).pk).status == status

    return check


def _world_exhibitor(w: World) -> Exhibitor:
    return w.exhibitor


ROWS: list[Row] = [
    Row(N + "list", "get", _url("list"), organiser_only()),
    Row(N + "detail", "get", _url("detail", _pending), organiser_only()),
    Row(
        N + "document",
        "get",
        _url("document", _pending),
        organiser_only(),
        check=_unchanged(),
    ),
    Row(
        N + "approve",
        "post",
        _url("approve", _pending),
        organiser_only(302),
        check=_unchanged(_pending, "pending"),
    ),
    Row(
        N + "reject",
        "post",
        _url("reject", _pending),
        organiser_only(302),
        data=lambda w: {"reason": "Matrix reason"},
        check=_unchanged(_pending, "pending"),
    ),
    Row(
        N + "suspend",
        "post",
        _url("suspend", _world_exhibitor),
        organiser_only(302),
        data=lambda w: {"reason": "Matrix reason"},
        check=_unchanged(_world_exhibitor, "approved"),
    ),
    Row(
        N + "reinstate",
        "post",
        _url("reinstate", _suspended),
        organiser_only(302),
        check=_unchanged(_suspended, "suspended"),
    ),
    Row(
        N + "export_csv",
        "get",
        _url("export_csv"),
        organiser_only(),
        check=_unchanged(),
    ),
]
