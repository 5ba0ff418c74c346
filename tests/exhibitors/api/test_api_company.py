"""The caller's own companies: apply, memberships, profile, staff (/api/v1/exhibit/...)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from exhibitors.models import Exhibitor, ExhibitorMember, StaffInvitation
from exhibitors.services import exhibitor_reject
from tests.exhibitors.factories_api import (
    CATEGORY,
    OUTSIDERS,
    add_staff,
    build_fair,
    category_ref,
    client_for,
    drf_time,
    make_exhibitor,
    owner_of,
)
from tests.factories import make_buyer

APPLY_URL = "/api/v1/exhibit/exhibitors/apply/"
MEMBERSHIPS_URL = "/api/v1/exhibit/exhibitors/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def fair(db):
    return build_fair()


def my_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/"


def update_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/update/"


def staff_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/staff/"


def invite_url(exhibitor_id: int) -> str:
    return f"/api/v1/exhibit/exhibitors/{exhibitor_id}/staff/invite/"


def role_url(member_id: int) -> str:
    return f"/api/v1/exhibit/staff/{member_id}/role/"


def remove_url(member_id: int) -> str:
    return f"/api/v1/exhibit/staff/{member_id}/remove/"


def membership(fair, role: str) -> ExhibitorMember:
    return ExhibitorMember.objects.get(exhibitor=fair.company, user=getattr(fair, role))


def profile_state(exhibitor: Exhibitor) -> dict:
    exhibitor = Exhibitor.objects.get(pk=exhibitor.pk)
    return {
        "display_name": exhibitor.display_name,
        "legal_name": exhibitor.legal_name,
        "country": str(exhibitor.country),
        "city": exhibitor.city,
        "description": exhibitor.description,
        "categories": list(exhibitor.main_categories.values_list("slug", flat=True)),
    }


def staff_state(fair) -> list:
    return list(
        ExhibitorMember.objects.filter(exhibitor=fair.company)
        .order_by("pk")
        .values_list("user_id", "role")
    )


def assert_denied(response, role: str, *, forbidden_detail: str | None = None) -> None:
    """Anonymous: 403 (session auth sends no challenge); staff without the role: 403 with
    the reason; outsiders: 404 that says nothing of the company."""
    if role == "anonymous":
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    elif role in OUTSIDERS:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    else:
        assert response.status_code == 403
        assert response.json() == {"detail": forbidden_detail}


# --- Apply -------------------------------------------------------------------------------


def test_exhibitor_apply_buyer_with_pdf_licence_creates_pending_company_it_owns(db):
    buyer = make_buyer()
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF\n", "application/pdf")

    response = client_for(buyer).post(
        APPLY_URL,
        {
            "display_name": "New Fans",
            "legal_name": "New Fans Manufacturing Co., Ltd.",
            "country": "CN",
            "city": "Ningbo",
            "year_founded": "2004",
            "description": "Electric fans.",
            "main_categories": [CATEGORY],
            "business_licence": pdf,
        },
        format="multipart",
    )

    assert response.status_code == 201
    exhibitor = Exhibitor.objects.get(slug="new-fans")
    assert response.json() == {
        "id": exhibitor.pk,
        "slug": "new-fans",
        "display_name": "New Fans",
        "legal_name": "New Fans Manufacturing Co., Ltd.",
        "country": "CN",
        "country_name": "China",
        "province": "",
        "city": "Ningbo",
        "website": "",
        "year_founded": 2004,
        "description": "Electric fans.",
        "main_categories": [category_ref(CATEGORY)],
        "status": "pending",
        "status_display": "Pending review",
        "status_reason": "",
        "has_business_licence": True,
        "is_live": False,
        "follower_count": 0,
        "created_at": drf_time(exhibitor.created_at),
    }
    assert exhibitor.status == Exhibitor.Status.PENDING
    assert exhibitor.business_licence.read().startswith(b"%PDF-1.4")
    assert list(exhibitor.members.values_list("user_id", "role")) == [(buyer.pk, "owner")]
    assert client_for(None).get("/api/v1/exhibitors/").json()["count"] == 0


def test_exhibitor_apply_json_without_licence_is_accepted(db):
    response = client_for(make_buyer()).post(
        APPLY_URL,
        {
            "display_name": "Json Co",
            "legal_name": "Json Co Ltd",
            "country": "VN",
            "description": "Things.",
            "main_categories": [CATEGORY],
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["has_business_licence"] is False
    assert Exhibitor.objects.get(slug="json-co").status == "pending"


def test_exhibitor_apply_html_disguised_as_pdf_is_refused_and_nothing_created(db):
    fake = SimpleUploadedFile("licence.pdf", b"<html><script>x</script></html>", "application/pdf")

    response = client_for(make_buyer()).post(
        APPLY_URL,
        {
            "display_name": "Sneaky",
            "legal_name": "Sneaky Ltd",
            "country": "CN",
            "description": "Hmm.",
            "main_categories": [CATEGORY],
            "business_licence": fake,
        },
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"business_licence": ["Upload a PDF or a JPEG, PNG or WebP image."]}
    assert not Exhibitor.objects.exists()


def test_exhibitor_apply_invalid_fields_answer_400_with_field_messages(db):
    response = client_for(make_buyer()).post(
        APPLY_URL,
        {
            "display_name": "",
            "legal_name": "X",
            "country": "ZZ",
            "description": "X",
            "main_categories": [],
            "year_founded": 1700,
            "website": "javascript:alert(1)",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "display_name": ["This field may not be blank."],
        "country": ['"ZZ" is not a valid choice.'],
        "main_categories": ["This list may not be empty."],
        "year_founded": ["Ensure this value is greater than or equal to 1800."],
        "website": ["Enter a valid URL."],
    }
    assert not Exhibitor.objects.exists()


def test_exhibitor_apply_section_instead_of_category_answers_400(db):
    response = client_for(make_buyer()).post(
        APPLY_URL,
        {
            "display_name": "X",
            "legal_name": "X",
            "country": "CN",
            "description": "X",
            "main_categories": ["household-appliances"],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "main_categories": ["“household-appliances” is not a product category."]
    }
    assert not Exhibitor.objects.exists()


def test_exhibitor_apply_anonymous_answers_403_and_creates_nothing(db):
    response = client_for(None).post(
        APPLY_URL,
        {
            "display_name": "Anon",
            "legal_name": "Anon",
            "country": "CN",
            "description": "X",
            "main_categories": [CATEGORY],
        },
        format="json",
    )

    assert_denied(response, "anonymous")
    assert not Exhibitor.objects.exists()


# --- Memberships and the company profile -------------------------------------------------


def test_membership_list_shows_the_callers_companies_only(fair):
    response = client_for(fair.sales).get(MEMBERSHIPS_URL)

    assert response.status_code == 200
    assert response.json() == [
        {
            "role": "sales",
            "exhibitor": {
                "id": fair.company.pk,
                "slug": "acme-appliances",
                "display_name": "Acme Appliances",
                "status": "approved",
                "status_reason": "",
            },
        }
    ]


def test_membership_list_buyer_gets_empty_list_and_anonymous_403(fair):
    assert client_for(fair.buyer).get(MEMBERSHIPS_URL).json() == []
    assert_denied(client_for(None).get(MEMBERSHIPS_URL), "anonymous")


@pytest.mark.parametrize("role", ["owner", "admin", "sales"])
def test_my_exhibitor_detail_any_staff_role_reads_profile_and_status(fair, role):
    response = client_for(fair.user(role)).get(my_url(fair.company.pk))

    assert response.status_code == 200
    assert response.json()["display_name"] == "Acme Appliances"
    assert response.json()["status"] == "approved"
    assert "business_licence" not in response.json()


def test_my_exhibitor_detail_shows_rejection_reason_to_its_owner(fair):
    pending = make_exhibitor(name="Late Co", approve=False)
    exhibitor_reject(actor=fair.organiser, exhibitor_id=pending.pk, reason="Licence unreadable")

    response = client_for(owner_of(pending)).get(my_url(pending.pk))

    assert response.json()["status"] == "rejected"
    assert response.json()["status_reason"] == "Licence unreadable"


@pytest.mark.parametrize("role", ["anonymous", *OUTSIDERS])
def test_my_exhibitor_detail_denied_roles_get_no_data(fair, role):
    response = client_for(fair.user(role)).get(my_url(fair.company.pk))

    assert_denied(response, role)
    assert "Acme" not in response.content.decode()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_exhibitor_update_editor_changes_only_the_fields_sent(fair, role):
    response = client_for(fair.user(role)).patch(
        update_url(fair.company.pk),
        {"display_name": "Acme Home", "city": "Shunde"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["display_name"] == "Acme Home"
    assert response.json()["city"] == "Shunde"
    assert profile_state(fair.company) == {
        "display_name": "Acme Home",
        "legal_name": "Acme Appliances Co., Ltd.",
        "country": "CN",
        "city": "Shunde",
        "description": "Acme Appliances makes appliances.",
        "categories": [CATEGORY],
    }


def test_exhibitor_update_invalid_value_answers_400_and_changes_nothing(fair):
    before = profile_state(fair.company)

    response = client_for(fair.owner).patch(
        update_url(fair.company.pk), {"year_founded": 3000, "country": "XX"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "year_founded": ["Ensure this value is less than or equal to 2100."],
        "country": ['"XX" is not a valid choice.'],
    }
    assert profile_state(fair.company) == before


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_exhibitor_update_denied_roles_change_nothing(fair, role):
    before = profile_state(fair.company)

    response = client_for(fair.user(role)).patch(
        update_url(fair.company.pk), {"display_name": "Hijacked"}, format="json"
    )

    assert_denied(
        response, role, forbidden_detail="Sales staff cannot change the booth or the catalogue."
    )
    assert profile_state(fair.company) == before


# --- Staff -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "sales"])
def test_staff_list_any_staff_role_sees_colleagues(fair, role):
    response = client_for(fair.user(role)).get(staff_url(fair.company.pk))

    assert response.status_code == 200
    members = {m.user_id: m for m in ExhibitorMember.objects.filter(exhibitor=fair.company)}
    expected = [
        {
            "id": members[user.pk].pk,
            "role": role_name,
            "full_name": user.full_name,
            "email": user.email,
            "joined_at": drf_time(members[user.pk].created_at),
        }
        for role_name, user in (("admin", fair.admin), ("owner", fair.owner), ("sales", fair.sales))
    ]
    assert response.json() == expected
    assert fair.other_owner.email not in response.content.decode()


@pytest.mark.parametrize("role", ["anonymous", *OUTSIDERS])
def test_staff_list_denied_roles_see_nobody(fair, role):
    response = client_for(fair.user(role)).get(staff_url(fair.company.pk))

    assert_denied(response, role)
    assert fair.owner.email not in response.content.decode()


def test_staff_invite_owner_invites_and_the_email_carries_the_link(
    fair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(fair.owner).post(
            invite_url(fair.company.pk),
            {"email": "new.colleague@example.test", "role": "admin"},
            format="json",
        )

    assert response.status_code == 201
    invitation = StaffInvitation.objects.get()
    assert response.json() == {
        "id": invitation.pk,
        "email": "new.colleague@example.test",
        "role": "admin",
        "created_at": drf_time(invitation.created_at),
        "expires_at": drf_time(invitation.expires_at),
    }
    assert (invitation.exhibitor_id, invitation.invited_by_id) == (fair.company.pk, fair.owner.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.colleague@example.test"]
    assert "http://testserver/exhibit/invitations/" in mail.outbox[0].body
    assert "token" not in response.json()


def test_staff_invite_admin_cannot_invite_an_owner(fair):
    response = client_for(fair.admin).post(
        invite_url(fair.company.pk), {"email": "boss@example.test", "role": "owner"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only owners can invite owners."}
    assert not StaffInvitation.objects.exists()


def test_staff_invite_existing_colleague_answers_400(fair):
    response = client_for(fair.owner).post(
        invite_url(fair.company.pk), {"email": fair.sales.email, "role": "sales"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"{fair.sales.email} is already on your staff.",
        "code": "invalid",
    }


@pytest.mark.parametrize("role", ["anonymous", "sales", *OUTSIDERS])
def test_staff_invite_denied_roles_invite_nobody(fair, role):
    response = client_for(fair.user(role)).post(
        invite_url(fair.company.pk), {"email": "x@example.test", "role": "sales"}, format="json"
    )

    assert_denied(
        response, role, forbidden_detail="Sales staff cannot change the booth or the catalogue."
    )
    assert not StaffInvitation.objects.exists()
    assert mail.outbox == []


def test_staff_role_change_owner_promotes_sales_to_admin(fair):
    member = membership(fair, "sales")

    response = client_for(fair.owner).post(role_url(member.pk), {"role": "admin"}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "id": member.pk,
        "role": "admin",
        "full_name": "Sam Sales",
        "email": fair.sales.email,
        "joined_at": drf_time(member.created_at),
    }
    member.refresh_from_db()
    assert member.role == "admin"


def test_staff_role_change_last_owner_cannot_step_down(fair):
    member = membership(fair, "owner")

    response = client_for(fair.owner).post(role_url(member.pk), {"role": "sales"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A company needs at least one owner. Make someone else an owner first.",
        "code": "last_owner",
    }
    member.refresh_from_db()
    assert member.role == "owner"


@pytest.mark.parametrize("role", ["anonymous", "admin", "sales", *OUTSIDERS])
def test_staff_role_change_denied_roles_change_nothing(fair, role):
    before = staff_state(fair)

    response = client_for(fair.user(role)).post(
        role_url(membership(fair, "sales").pk), {"role": "owner"}, format="json"
    )

    assert_denied(response, role, forbidden_detail="Only the company's owners can do this.")
    assert staff_state(fair) == before


def test_staff_role_change_unknown_role_answers_400(fair):
    response = client_for(fair.owner).post(
        role_url(membership(fair, "sales").pk), {"role": "king"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"role": ['"king" is not a valid choice.']}


def test_staff_remove_owner_removes_sales(fair):
    member = membership(fair, "sales")

    response = client_for(fair.owner).delete(remove_url(member.pk))

    assert response.status_code == 204
    assert not ExhibitorMember.objects.filter(pk=member.pk).exists()


def test_staff_remove_sales_may_leave(fair):
    member = membership(fair, "sales")

    response = client_for(fair.sales).delete(remove_url(member.pk))

    assert response.status_code == 204
    assert not ExhibitorMember.objects.filter(pk=member.pk).exists()


def test_staff_remove_last_owner_answers_400(fair):
    response = client_for(fair.owner).delete(remove_url(membership(fair, "owner").pk))

    assert response.status_code == 400
    assert response.json()["code"] == "last_owner"
    assert membership(fair, "owner").role == "owner"


@pytest.mark.parametrize(
    ("role", "target", "detail"),
    [
        ("anonymous", "admin", None),
        ("sales", "admin", "Sales staff cannot remove colleagues."),
        ("admin", "owner", "Admins can remove sales staff only."),
        ("other_owner", "sales", None),
        ("buyer", "sales", None),
        ("organiser", "sales", None),
    ],
)
def test_staff_remove_denied_roles_remove_nobody(fair, role, target, detail):
    before = staff_state(fair)

    response = client_for(fair.user(role)).delete(remove_url(membership(fair, target).pk))

    assert_denied(response, role, forbidden_detail=detail)
    assert staff_state(fair) == before


def test_staff_remove_a_second_owner_is_allowed(fair):
    second = add_staff(fair.company, ExhibitorMember.Role.OWNER, full_name="Second Owner")
    member = ExhibitorMember.objects.get(user=second)

    response = client_for(fair.owner).delete(remove_url(member.pk))

    assert response.status_code == 204
