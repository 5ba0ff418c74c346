"""The permission matrix: every URL of the platform x every role, as data, in one place.

Each row names a route, the method, how to build its URL and body from a shared "world" of
objects, and the status each role gets. Denied answers must not change anything or leak
the object: a row's ``check`` (optional) runs after each denied call. A completeness test
walks Django's URL resolver: a new route without a row here fails the suite (SECURITY A1).

Roles: anon, buyer, owner / admin / sales (staff of exhibitor X, who owns every object in
the world), other (owner of exhibitor Y), organiser."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from exhibitors.models import Booth, ExhibitorMember, ImportJob, Product
from fair.models import Category
from tests.exhibitors.factories import (
    add_member,
    make_exhibitor,
    make_product,
    owner_of,
    png_bytes,
    upload,
)
from tests.factories import make_buyer, make_organiser
from tests.matrix_common import (
    LOGIN,
    ROLES,
    Row,
    World,
    api_editors,
    api_staff,
    editors_only,
    everyone,
    staff_only,
)


def _product_unchanged(world: World) -> None:
    product = Product.objects.get(pk=world.product.pk)
    assert (product.name, product.is_published) == ("55-inch 4K Smart TV", True)


def _booth_unchanged(world: World) -> None:
    booth = Booth.objects.get(exhibitor=world.exhibitor)
    assert (booth.tagline, booth.is_published) == ("", False)


def _staff_unchanged(world: World) -> None:
    assert ExhibitorMember.objects.filter(exhibitor=world.exhibitor).count() == 3
    assert ExhibitorMember.objects.get(pk=world.member_sales.pk).role == "sales"


E = "exhibitors:"
L = "livestream:"
ROWS: list[Row] = [
    # --- fair core and accounts ---
    Row("home", "get", lambda w: reverse("home"), everyone(200)),
    Row("healthz", "get", lambda w: reverse("healthz"), everyone(200)),
    Row("api_categories", "get", lambda w: reverse("api_categories"), everyone(200)),
    Row("api_me", "get", lambda w: reverse("api_me"), {**everyone(200), "anon": 403}),
    Row("api_schema", "get", lambda w: reverse("api_schema"), everyone(200)),
    Row("api_docs", "get", lambda w: reverse("api_docs"), everyone(200)),
    Row(
        "account_preferences",
        "get",
        lambda w: reverse("account_preferences"),
        {**everyone(200), "anon": LOGIN},
    ),
    Row("login", "get", lambda w: reverse("login"), {**everyone(302), "anon": 200}),
    Row("logout", "get", lambda w: reverse("logout"), everyone(405)),
    Row("signup", "get", lambda w: reverse("signup"), {**everyone(302), "anon": 200}),
    Row(
        "password_change",
        "get",
        lambda w: reverse("password_change"),
        {**everyone(200), "anon": LOGIN},
    ),
    Row(
        "password_change_done",
        "get",
        lambda w: reverse("password_change_done"),
        {**everyone(200), "anon": LOGIN},
    ),
    Row("password_reset", "get", lambda w: reverse("password_reset"), everyone(200)),
    Row("password_reset_done", "get", lambda w: reverse("password_reset_done"), everyone(200)),
    Row(
        "password_reset_confirm",
        "get",
        lambda w: reverse("password_reset_confirm", args=["MQ", "bad-token"]),
        everyone(200),
    ),
    Row(
        "password_reset_complete",
        "get",
        lambda w: reverse("password_reset_complete"),
        everyone(200),
    ),
    Row(
        "time_zone_detected",
        "post",
        lambda w: reverse("time_zone_detected"),
        everyone(200),
        data=lambda w: {"time_zone": "Asia/Riyadh"},
    ),
    Row(
        "language_set",
        "post",
        lambda w: reverse("language_set"),
        everyone(302),
        data=lambda w: {"language": "en"},
    ),
    Row(
        "notices_read",
        "post",
        lambda w: reverse("notices_read"),
        {**everyone(302), "anon": LOGIN},
        data=lambda w: {"next": "/"},
    ),
    Row(
        "buyers:profile",
        "get",
        lambda w: reverse("buyers:profile"),
        {**everyone(404), "anon": LOGIN, "buyer": 200},
    ),
    # --- the exhibitor's own area ---
    Row(
        E + "dashboard",
        "get",
        lambda w: reverse(E + "dashboard"),
        {**everyone(302), "anon": LOGIN, "buyer": 200, "organiser": 200},
    ),
    Row(E + "apply", "get", lambda w: reverse(E + "apply"), {**everyone(200), "anon": LOGIN}),
    Row(E + "manage", "get", lambda w: reverse(E + "manage", args=[w.exhibitor.pk]), staff_only()),
    Row(
        E + "company_edit",
        "post",
        lambda w: reverse(E + "company_edit", args=[w.exhibitor.pk]),
        editors_only(200),
        data=lambda w: {"display_name": ""},
    ),
    Row(
        E + "booth_edit",
        "post",
        lambda w: reverse(E + "booth_edit", args=[w.exhibitor.pk]),
        editors_only(302),
        data=lambda w: {"tagline": ""},
        check=_booth_unchanged,
    ),
    Row(
        E + "booth_preview",
        "get",
        lambda w: reverse(E + "booth_preview", args=[w.exhibitor.pk]),
        staff_only(),
    ),
    Row(
        E + "booth_publish",
        "post",
        lambda w: reverse(E + "booth_publish", args=[w.exhibitor.pk]),
        editors_only(302),
        data=lambda w: {"publish": "1"},
        check=_booth_unchanged,
    ),
    Row(
        E + "booth_image_remove",
        "post",
        lambda w: reverse(E + "booth_image_remove", args=[w.exhibitor.pk, "logo"]),
        editors_only(302),
    ),
    Row(
        E + "product_list",
        "get",
        lambda w: reverse(E + "product_list", args=[w.exhibitor.pk]),
        staff_only(),
    ),
    Row(
        E + "product_create",
        "get",
        lambda w: reverse(E + "product_create", args=[w.exhibitor.pk]),
        editors_only(),
    ),
    Row(
        E + "product_edit",
        "post",
        lambda w: reverse(E + "product_edit", args=[w.product.pk]),
        editors_only(200),
        data=lambda w: {"name": "Hacked"},
        check=_product_unchanged,
    ),
    Row(
        E + "product_publish",
        "post",
        lambda w: reverse(E + "product_publish", args=[w.product.pk]),
        editors_only(302),
        data=lambda w: {"publish": "1"},
        check=_product_unchanged,
    ),
    Row(
        E + "product_delete",
        "get",
        lambda w: reverse(E + "product_delete", args=[w.product.pk]),
        editors_only(200),
        check=_product_unchanged,
    ),
    Row(
        E + "product_images",
        "get",
        lambda w: reverse(E + "product_images", args=[w.product.pk]),
        editors_only(200),
    ),
    Row(
        E + "product_image_remove",
        "post",
        lambda w: reverse(E + "product_image_remove", args=[w.image.pk]),
        editors_only(302),
        check=lambda w: None,
    ),
    Row(E + "staff", "get", lambda w: reverse(E + "staff", args=[w.exhibitor.pk]), staff_only()),
    Row(
        E + "staff_role",
        "post",
        lambda w: reverse(E + "staff_role", args=[w.member_sales.pk]),
        staff_only(owner=302, admin=403, sales=403),
        data=lambda w: {"role": "sales"},
        check=_staff_unchanged,
    ),
    Row(
        E + "staff_remove",
        "post",
        lambda w: reverse(E + "staff_remove", args=[w.member_sales.pk]),
        staff_only(owner=302, admin=302, sales=302),
    ),
    Row(
        E + "invitation_revoke",
        "post",
        lambda w: reverse(E + "invitation_revoke", args=[w.invitation.pk]),
        {**editors_only(302), "sales": 403},
    ),
    Row(
        E + "invitation_accept",
        "get",
        lambda w: reverse(E + "invitation_accept", args=[w.token]),
        everyone(200),
    ),
    # --- public pages ---
    Row(E + "directory", "get", lambda w: reverse(E + "directory"), everyone(200)),
    Row(
        E + "booth",
        "get",
        lambda w: reverse(E + "booth", args=[w.other_exhibitor.slug]),
        everyone(200),
    ),
    Row(E + "product", "get", lambda w: reverse(E + "product", args=[w.product.pk]), everyone(200)),
    Row(E + "categories", "get", lambda w: reverse(E + "categories"), everyone(200)),
    Row(
        E + "category",
        "get",
        lambda w: reverse(E + "category", args=["household-appliances"]),
        everyone(200),
    ),
    Row(E + "visits", "get", lambda w: reverse(E + "visits", args=[w.exhibitor.pk]), staff_only()),
    # --- bulk import ---
    Row(
        E + "import_list",
        "get",
        lambda w: reverse(E + "import_list", args=[w.exhibitor.pk]),
        editors_only(),
    ),
    Row(
        E + "import_template",
        "get",
        lambda w: reverse(E + "import_template", args=[w.exhibitor.pk, "csv"]),
        editors_only(),
    ),
    Row(
        E + "import_detail",
        "get",
        lambda w: reverse(E + "import_detail", args=[w.exhibitor.pk, w.import_job.pk]),
        editors_only(),
    ),
    Row(
        E + "import_progress",
        "get",
        lambda w: reverse(E + "import_progress", args=[w.exhibitor.pk, w.import_job.pk]),
        editors_only(),
    ),
    # --- following ---
    Row(
        "buyers:followed",
        "get",
        lambda w: reverse("buyers:followed"),
        {**everyone(200), "anon": LOGIN},
    ),
    Row(
        "buyers:follow",
        "post",
        lambda w: reverse("buyers:follow", args=[w.other_exhibitor.slug]),
        {**everyone(302), "anon": LOGIN},
    ),
    Row(
        "buyers:unfollow",
        "post",
        lambda w: reverse("buyers:unfollow", args=[w.other_exhibitor.slug]),
        {**everyone(302), "anon": LOGIN},
    ),
    # --- live video: the media server's callbacks need its shared secret, which no
    # browser role has ---
    Row(
        "livestream:media_on_publish",
        "post",
        lambda w: reverse("livestream:media_on_publish"),
        everyone(403),
        data=lambda w: {"name": "x", "key": "y"},
    ),
    Row(
        "livestream:media_on_publish_done",
        "post",
        lambda w: reverse("livestream:media_on_publish_done"),
        everyone(403),
        data=lambda w: {"name": "x", "key": "y"},
    ),
    # --- live sessions ---
    Row(
        L + "session_list",
        "get",
        lambda w: reverse(L + "session_list", args=[w.exhibitor.pk]),
        staff_only(),
    ),
    Row(
        L + "session_create",
        "get",
        lambda w: reverse(L + "session_create", args=[w.exhibitor.pk]),
        staff_only(),
    ),
    Row(
        L + "session_edit",
        "get",
        lambda w: reverse(L + "session_edit", args=[w.exhibitor.pk, w.session.pk]),
        staff_only(),
    ),
    Row(
        L + "session_cancel",
        "get",
        lambda w: reverse(L + "session_cancel", args=[w.exhibitor.pk, w.session.pk]),
        staff_only(),
    ),
    Row(
        L + "go_live",
        "get",
        lambda w: reverse(L + "go_live", args=[w.exhibitor.pk]),
        editors_only(),
    ),
    Row(
        L + "key_rotate",
        "post",
        lambda w: reverse(L + "key_rotate", args=[w.exhibitor.pk]),
        editors_only(302),
        data=lambda w: {},
    ),
    Row(L + "live_now", "get", lambda w: reverse(L + "live_now"), everyone(200)),
    Row(L + "upcoming", "get", lambda w: reverse(L + "upcoming"), everyone(200)),
    Row(L + "my_fair", "get", lambda w: reverse(L + "my_fair"), {**everyone(200), "anon": LOGIN}),
    Row(L + "room", "get", lambda w: reverse(L + "room", args=[w.session.pk]), everyone(200)),
    Row(
        L + "chat_history",
        "get",
        lambda w: reverse(L + "chat_history", args=[w.session.pk]),
        everyone(200),
    ),
    Row(
        L + "session_ics",
        "get",
        lambda w: reverse(L + "session_ics", args=[w.session.pk]),
        everyone(200),
    ),
    Row(L + "feed", "get", lambda w: reverse(L + "feed", args=[w.feed_token]), everyone(200)),
    Row(
        L + "pin",
        "post",
        lambda w: reverse(L + "pin", args=[w.session.pk]),
        staff_only(owner=302, admin=302, sales=302),
        data=lambda w: {"product": ""},
    ),
    Row(
        L + "remind",
        "post",
        lambda w: reverse(L + "remind", args=[w.session.pk]),
        {**everyone(302), "anon": LOGIN},
    ),
    Row(
        L + "unremind",
        "post",
        lambda w: reverse(L + "unremind", args=[w.session.pk]),
        {**everyone(302), "anon": LOGIN},
    ),
    # --- search ---
    Row(E + "search", "get", lambda w: reverse(E + "search") + "?q=tv", everyone(200)),
    Row(
        E + "search_suggest",
        "get",
        lambda w: reverse(E + "search_suggest") + "?q=sm",
        everyone(200),
    ),
    Row("api_search", "get", lambda w: reverse("api_search") + "?q=tv", everyone(200)),
    Row(
        "api_search_suggest",
        "get",
        lambda w: reverse("api_search_suggest") + "?q=sm",
        everyone(200),
    ),
    # --- REST API: public reads ---
    Row("api_exhibitor_list", "get", lambda w: reverse("api_exhibitor_list"), everyone(200)),
    Row(
        "api_exhibitor_detail",
        "get",
        lambda w: reverse("api_exhibitor_detail", args=[w.exhibitor.slug]),
        everyone(200),
    ),
    Row(
        "api_exhibitor_product_list",
        "get",
        lambda w: reverse("api_exhibitor_product_list", args=[w.exhibitor.slug]),
        everyone(200),
    ),
    Row(
        "api_product_detail",
        "get",
        lambda w: reverse("api_product_detail", args=[w.product.pk]),
        everyone(200),
    ),
    # --- REST API: the caller's own company ---
    Row(
        "api_membership_list",
        "get",
        lambda w: reverse("api_membership_list"),
        {**everyone(200), "anon": 403},
    ),
    Row(
        "api_exhibitor_apply",
        "post",
        lambda w: reverse("api_exhibitor_apply"),
        {**everyone(400), "anon": 403},
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_my_exhibitor_detail",
        "get",
        lambda w: reverse("api_my_exhibitor_detail", args=[w.exhibitor.pk]),
        api_staff(),
    ),
    Row(
        "api_exhibitor_update",
        "patch",
        lambda w: reverse("api_exhibitor_update", args=[w.exhibitor.pk]),
        api_editors(),
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_staff_list",
        "get",
        lambda w: reverse("api_staff_list", args=[w.exhibitor.pk]),
        api_staff(),
    ),
    Row(
        "api_staff_invite",
        "post",
        lambda w: reverse("api_staff_invite", args=[w.exhibitor.pk]),
        api_editors(400),
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_staff_role_change",
        "post",
        lambda w: reverse("api_staff_role_change", args=[w.member_sales.pk]),
        api_staff(owner=200, admin=403, sales=403),
        data=lambda w: {"role": "sales"},
        json=True,
        check=_staff_unchanged,
    ),
    Row(
        "api_staff_remove",
        "delete",
        lambda w: reverse("api_staff_remove", args=[w.member_sales.pk]),
        api_staff(owner=204, admin=204, sales=204),
        check=_staff_unchanged,
    ),
    Row(
        "api_booth_detail",
        "get",
        lambda w: reverse("api_booth_detail", args=[w.exhibitor.pk]),
        api_staff(),
    ),
    Row(
        "api_booth_update",
        "patch",
        lambda w: reverse("api_booth_update", args=[w.exhibitor.pk]),
        api_editors(),
        data=lambda w: {},
        json=True,
        check=_booth_unchanged,
    ),
    Row(
        "api_booth_publish",
        "post",
        lambda w: reverse("api_booth_publish", args=[w.exhibitor.pk]),
        api_editors(),
        data=lambda w: {"published": False},
        json=True,
        check=_booth_unchanged,
    ),
    Row(
        "api_my_product_list",
        "get",
        lambda w: reverse("api_my_product_list", args=[w.exhibitor.pk]),
        api_staff(),
    ),
    Row(
        "api_product_create",
        "post",
        lambda w: reverse("api_product_create", args=[w.exhibitor.pk]),
        api_editors(400),
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_product_update",
        "patch",
        lambda w: reverse("api_product_update", args=[w.product.pk]),
        api_editors(),
        data=lambda w: {},
        json=True,
        check=_product_unchanged,
    ),
    Row(
        "api_product_publish",
        "post",
        lambda w: reverse("api_product_publish", args=[w.product.pk]),
        api_editors(),
        data=lambda w: {"published": True},
        json=True,
        check=_product_unchanged,
    ),
    Row(
        "api_product_delete",
        "delete",
        lambda w: reverse("api_product_delete", args=[w.product.pk]),
        api_editors(204),
        check=_product_unchanged,
    ),
    Row(
        "api_product_image_upload",
        "post",
        lambda w: reverse("api_product_image_upload", args=[w.product.pk]),
        api_editors(400),
        data=lambda w: {},
    ),
    Row(
        "api_product_image_update",
        "patch",
        lambda w: reverse("api_product_image_update", args=[w.image.pk]),
        api_editors(),
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_product_image_delete",
        "delete",
        lambda w: reverse("api_product_image_delete", args=[w.image.pk]),
        api_editors(204),
    ),
    Row(
        "api_product_model_upload",
        "post",
        lambda w: reverse("api_product_model_upload", args=[w.product.pk]),
        api_editors(400),
        data=lambda w: {},
    ),
    Row(
        "api_import_job_list",
        "get",
        lambda w: reverse("api_import_job_list", args=[w.exhibitor.pk]),
        api_editors(),
    ),
    Row(
        "api_import_job_create",
        "post",
        lambda w: reverse("api_import_job_create", args=[w.exhibitor.pk]),
        api_editors(400),
        data=lambda w: {},
    ),
    Row(
        "api_import_job_detail",
        "get",
        lambda w: reverse("api_import_job_detail", args=[w.exhibitor.pk, w.import_job.pk]),
        api_editors(),
    ),
    # --- negotiations: the room of "buyer" with exhibitor X (built by _nego, below); every
    # non-party gets the same 404 as for a missing room, and nothing changes ---
    Row("api_nego_list", "get", lambda w: reverse("api_nego_list"), {**everyone(200), "anon": 403}),
    Row(
        "api_nego_open",
        "post",
        lambda w: reverse("api_nego_open"),
        {**everyone(400), "anon": 403},
        data=lambda w: {},
        json=True,
    ),
    Row(
        "api_nego_unread",
        "get",
        lambda w: reverse("api_nego_unread"),
        {**everyone(200), "anon": 403},
    ),
    Row(
        "api_nego_figures",
        "get",
        lambda w: reverse("api_nego_figures"),
        {**everyone(403), "organiser": 200},
    ),
    Row(
        "api_nego_inbox",
        "get",
        lambda w: reverse("api_nego_inbox", args=[w.exhibitor.pk]),
        api_staff(),
    ),
    Row(
        "api_nego_detail",
        "get",
        lambda w: reverse("api_nego_detail", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
    ),
    Row(
        "api_nego_messages",
        "get",
        lambda w: reverse("api_nego_messages", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
    ),
    Row(
        "api_nego_message_send",
        "post",
        lambda w: reverse("api_nego_message_send", args=[_nego(w).pk]),
        {**api_staff(owner=400, admin=400, sales=400), "buyer": 400},
        data=lambda w: {},
        json=True,
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_attachment_send",
        "post",
        lambda w: reverse("api_nego_attachment_send", args=[_nego(w).pk]),
        {**api_staff(owner=400, admin=400, sales=400), "buyer": 400},
        data=lambda w: {},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_quote_list",
        "get",
        lambda w: reverse("api_nego_quote_list", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
    ),
    Row(
        "api_nego_quote_send",
        "post",
        lambda w: reverse("api_nego_quote_send", args=[_nego(w).pk]),
        {**api_staff(owner=400, admin=400, sales=400), "buyer": 400},
        data=lambda w: {},
        json=True,
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_quote_accept",
        "post",
        lambda w: reverse("api_nego_quote_accept", args=[_nego_quote(w).pk]),
        # The owner's quote: staff may not accept their own side's quote (400).
        {**api_staff(owner=400, admin=400, sales=400), "buyer": 200},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_quote_decline",
        "post",
        lambda w: reverse("api_nego_quote_decline", args=[_nego_quote(w).pk]),
        {**api_staff(owner=400, admin=400, sales=400), "buyer": 200},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_read",
        "post",
        lambda w: reverse("api_nego_read", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
        data=lambda w: {"seq": 1},
        json=True,
    ),
    Row(
        "api_nego_assign",
        "post",
        lambda w: reverse("api_nego_assign", args=[_nego(w).pk]),
        {**api_staff(sales=403), "buyer": 403},
        data=lambda w: {"assignee": None},
        json=True,
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_close",
        "post",
        lambda w: reverse("api_nego_close", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "api_nego_reopen",
        "post",
        lambda w: reverse("api_nego_reopen", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "negotiations:attachment_download",
        "get",
        lambda w: reverse("negotiations:attachment_download", args=[_nego_attachment(w).pk]),
        {**api_staff(), "buyer": 200, "anon": LOGIN},
    ),
    Row(
        "negotiations:transcript_csv",
        "get",
        lambda w: reverse("negotiations:transcript_csv", args=[_nego(w).pk]),
        {**api_staff(), "buyer": 200, "anon": LOGIN},
    ),
    Row(
        "negotiations:leads_csv",
        "get",
        lambda w: reverse("negotiations:leads_csv", args=[w.exhibitor.pk]),
        staff_only(),
    ),
    # --- negotiation pages: the same room; non-parties get 404 as for a missing room ---
    Row(
        "negotiations:list",
        "get",
        lambda w: reverse("negotiations:list"),
        # Staff who are not buyers are sent on to their company's shared inbox.
        {**everyone(302), "anon": LOGIN, "buyer": 200, "organiser": 200},
    ),
    Row(
        "negotiations:start",
        "get",
        lambda w: reverse("negotiations:start", args=[w.exhibitor.pk]) + f"?product={w.product.pk}",
        # The confirmation page; those who may not start one are told why.
        {**everyone(200), "anon": LOGIN},
    ),
    Row(
        "negotiations:start",
        "post",
        lambda w: reverse("negotiations:start", args=[w.exhibitor.pk]),
        # The buyer goes to the room; everyone else back, with the refusal as a message.
        {**everyone(302), "anon": LOGIN},
        data=lambda w: {"product": w.product.pk},
    ),
    Row(
        "negotiations:room",
        "get",
        lambda w: reverse("negotiations:room", args=[_nego(w).pk]),
        {**staff_only(), "buyer": 200},
    ),
    Row(
        "negotiations:assign",
        "post",
        lambda w: reverse("negotiations:assign", args=[_nego(w).pk]),
        {**staff_only(owner=302, admin=302, sales=403), "buyer": 403},
        data=lambda w: {"assignee": w.users["sales"].pk},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "negotiations:close",
        "post",
        lambda w: reverse("negotiations:close", args=[_nego(w).pk]),
        {**staff_only(owner=302, admin=302, sales=302), "buyer": 302},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "negotiations:reopen",
        "post",
        lambda w: reverse("negotiations:reopen", args=[_nego(w).pk]),
        {**staff_only(owner=302, admin=302, sales=302), "buyer": 302},
        check=lambda w: _nego_unchanged(w),
    ),
    Row(
        "negotiations:exhibitor_inbox",
        "get",
        lambda w: reverse("negotiations:exhibitor_inbox", args=[w.exhibitor.pk]),
        staff_only(),
    ),
]

# Each area of the platform may keep its rows in a module of its own:
# tests/matrix_rows_<area>.py with a ``ROWS`` list.
for _module in sorted(Path(__file__).parent.glob("matrix_rows_*.py")):
    ROWS += importlib.import_module(f"tests.{_module.stem}").ROWS

#: Routes deliberately outside the matrix, with the reason.
EXEMPT: dict[str, str] = {}


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    from django.core import mail

    from exhibitors import services

    exhibitor = make_exhibitor()
    owner = owner_of(exhibitor)
    admin = add_member(exhibitor, "admin")
    sales = add_member(exhibitor, "sales")
    other_exhibitor = make_exhibitor(name="Other Co")
    product = make_product(exhibitor)
    with django_capture_on_commit_callbacks(execute=True):
        image = services.product_image_add(
            user=owner, product_id=product.pk, upload=upload("p.png", png_bytes())
        )
        invitation = services.staff_invite(
            actor=owner,
            exhibitor_id=exhibitor.pk,
            email="new@example.test",
            role="sales",
            base_url="http://testserver/",
        )
    token = mail.outbox[-1].body.split("/invitations/")[1].split("/")[0]
    other_owner = owner_of(other_exhibitor)
    services.booth_update(
        user=other_owner,
        exhibitor_id=other_exhibitor.pk,
        data={"tagline": "Other booth", "section": Category.objects.get(slug="lighting-equipment")},
    )
    services.booth_publish(user=other_owner, exhibitor_id=other_exhibitor.pk, published=True)
    from datetime import timedelta

    from django.utils import timezone

    from livestream import services as live_services
    from livestream.pages.calendars import feed_token

    start = timezone.now() + timedelta(hours=2)
    session = live_services.session_schedule(
        user=owner,
        exhibitor_id=exhibitor.pk,
        title="Launch",
        start=start,
        end=start + timedelta(hours=1),
        featured_products=[product],
    )
    _channel, stream_key = live_services.stream_key_reveal(user=owner, exhibitor_id=exhibitor.pk)
    import_job = ImportJob.objects.create(
        exhibitor=exhibitor,
        created_by=owner,
        original_name="catalogue.csv",
        file_format="csv",
        file="imports/catalogue.csv",
        status=ImportJob.Status.SUCCEEDED,
    )
    users = {
        "anon": None,
        "buyer": make_buyer(),
        "owner": owner,
        "admin": admin,
        "sales": sales,
        "other": other_owner,
        "organiser": make_organiser(),
    }
    return World(
        users=users,
        exhibitor=exhibitor,
        other_exhibitor=other_exhibitor,
        product=product,
        image=image,
        member_sales=ExhibitorMember.objects.get(user=sales),
        invitation=invitation,
        token=token,
        import_job=import_job,
        session=session,
        feed_token=feed_token(users["buyer"]),
        stream_key=stream_key,
    )


def _cases():
    for row in ROWS:
        for role in ROLES:
            yield pytest.param(row, role, id=f"{row.method.upper()} {row.name} as {role}")


@pytest.mark.authz
@pytest.mark.parametrize(("row", "role"), _cases())
def test_permission_matrix(client, world, row, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = row.url(world)
    data = row.data(world) if row.data else {}
    if row.json:
        response = getattr(client, row.method)(
            url, json.dumps(data), content_type="application/json"
        )
    else:
        response = getattr(client, row.method)(url, data)
    expected = row.expect[role]
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, (
            f"{row.method.upper()} {url} as {role}: {response.status_code}, wanted {expected}"
        )
    # Canary crawl (SECURITY G2): the stream key, or any 12-character piece of it, appears
    # only on the go-live page of the company's owners and admins.
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body_text = raw.decode(errors="replace")
    if not (row.name == L + "go_live" and role in ("owner", "admin")):
        key = world.stream_key
        pieces = {key[i : i + 12] for i in range(0, len(key) - 11, 4)}
        assert not [p for p in pieces if p in body_text], f"stream key leaked to {role}"
    denied = expected in (LOGIN, 403, 404) or (isinstance(expected, int) and expected >= 400)
    if denied:
        if row.check:
            row.check(world)
        body = body_text
        # Nothing of exhibitor X's private objects leaks into a refusal.
        for secret in (world.product.sku, world.invitation.email, world.token):
            assert secret not in body


def _route_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace
            if namespace == "admin":
                continue  # Django admin: staff only, covered by its own tests
            inner = f"{prefix}{namespace}:" if namespace else prefix
            names |= _route_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_permission_matrix_covers_every_named_route():
    covered = {row.name for row in ROWS} | set(EXEMPT)
    missing = sorted(_route_names(get_resolver()) - covered)
    assert missing == [], f"Routes without a row in the permission matrix: {missing}"


def test_permission_matrix_has_no_rows_for_routes_that_do_not_exist():
    stale = sorted({row.name for row in ROWS} - _route_names(get_resolver()))
    assert stale == []


# --- Negotiations (helpers of the rows above) ------------------------------------------------

NEGO_SECRET = "Matrix target price 4242"


def _nego(w: World):
    """The world's negotiation (buyer with exhibitor X: a message, the owner's quote, a PDF),
    built on first use."""
    if getattr(w, "nego_room", None) is None:
        from negotiations import services as nego_services
        from tests.exhibitors.factories import pdf_bytes
        from tests.negotiations.nego_factories import quote_data

        buyer = w.users["buyer"]
        room, _created = nego_services.negotiation_open(buyer=buyer, exhibitor_id=w.exhibitor.pk)
        nego_services.message_send(
            user=buyer, negotiation_id=room.pk, client_id="matrix-message", body=NEGO_SECRET
        )
        quote_message, _ = nego_services.quote_send(
            user=w.users["owner"],
            negotiation_id=room.pk,
            client_id="matrix-quote",
            data=quote_data(),
        )
        file_message, _ = nego_services.attachment_send(
            user=buyer,
            negotiation_id=room.pk,
            client_id="matrix-file",
            upload=upload("matrix-secret.pdf", pdf_bytes()),
        )
        w.nego_room = room
        w.nego_quote = quote_message.quote
        w.nego_attachment = file_message.attachment
    return w.nego_room


def _nego_quote(w: World):
    _nego(w)
    return w.nego_quote


def _nego_attachment(w: World):
    _nego(w)
    return w.nego_attachment


def _nego_unchanged(w: World) -> None:
    from negotiations.models import Message, Negotiation, Quote

    room = Negotiation.objects.get(pk=_nego(w).pk)
    assert (room.status, room.assigned_to_id) == ("open", None)
    assert Message.objects.filter(negotiation=room).count() == 4
    assert Quote.objects.get(pk=w.nego_quote.pk).status == "open"


def test_permission_matrix_negotiation_refusals_leak_nothing(client, world):
    """Every negotiation door, as each non-party: no message text, file name or buyer name
    of the room in the answer."""
    room = _nego(world)
    urls = [
        reverse(name, args=[room.pk])
        for name in (
            "api_nego_detail",
            "api_nego_messages",
            "api_nego_quote_list",
            "negotiations:transcript_csv",
            "negotiations:transcript_pdf",
        )
    ] + [reverse("negotiations:attachment_download", args=[world.nego_attachment.pk])]
    for role in ("other", "organiser"):
        client.force_login(world.users[role])
        for url in urls:
            response = client.get(url)
            body = response.content.decode(errors="replace")
            assert response.status_code == 404, (url, role)
            for secret in (NEGO_SECRET, "matrix-secret", world.users["buyer"].email):
                assert secret not in body, (url, role, secret)
