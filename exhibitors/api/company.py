"""The caller's own companies: apply, read, edit the profile, manage the staff.

Every view calls one selector or service of ``exhibitors``, which checks the caller's
membership: a company the caller is not staff of answers 404 (same as one that does not
exist); a role that may not do the change answers 403. Anonymous callers get 403 (session
authentication sends no challenge, so DRF answers 403 rather than 401)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from exhibitors.api.base import ExhibitorsApiView
from exhibitors.api.serializers import (
    ExhibitorApplyInputSerializer,
    ExhibitorProfileInputSerializer,
    InvitationOutputSerializer,
    MembershipOutputSerializer,
    MyExhibitorOutputSerializer,
    StaffInviteInputSerializer,
    StaffMemberOutputSerializer,
    StaffRoleInputSerializer,
)
from exhibitors.selectors import access_exhibitor, memberships_of, staff_of
from exhibitors.services import (
    exhibitor_apply,
    exhibitor_profile_update,
    staff_invite,
    staff_remove,
    staff_role_change,
)

TAG = "my exhibitors"


class MembershipListApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="membership_list",
        tags=[TAG],
        summary="Companies the caller is staff of, with the caller's role",
        responses=MembershipOutputSerializer(many=True),
    )
    def get(self, request):
        memberships = memberships_of(request.user).order_by("exhibitor__display_name", "id")
        return Response(MembershipOutputSerializer(memberships, many=True).data)


class ExhibitorApplyApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    error_field = "business_licence"  # the only check here that is not a model field's

    @extend_schema(
        operation_id="exhibitor_apply",
        tags=[TAG],
        summary="Apply as an exhibitor",
        description=(
            "Creates a pending company with the caller as its owner. Nothing of it is public "
            "until an organiser approves it."
        ),
        request=ExhibitorApplyInputSerializer,
        responses={201: MyExhibitorOutputSerializer},
    )
    def post(self, request):
        data = ExhibitorApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exhibitor = exhibitor_apply(user=request.user, **data.validated_data)
        return Response(MyExhibitorOutputSerializer(exhibitor).data, status=status.HTTP_201_CREATED)


class MyExhibitorDetailApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="my_exhibitor_detail",
        tags=[TAG],
        summary="The company profile and review status (any staff role)",
        responses=MyExhibitorOutputSerializer,
    )
    def get(self, request, exhibitor_id: int):
        exhibitor, _membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
        return Response(MyExhibitorOutputSerializer(exhibitor).data)


class ExhibitorProfileUpdateApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="exhibitor_update",
        tags=[TAG],
        summary="Edit the company profile (owner or admin)",
        request=ExhibitorProfileInputSerializer(partial=True),
        responses=MyExhibitorOutputSerializer,
    )
    def patch(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = ExhibitorProfileInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        exhibitor = exhibitor_profile_update(
            user=request.user, exhibitor_id=exhibitor_id, data=data.validated_data
        )
        return Response(MyExhibitorOutputSerializer(exhibitor).data)


class StaffListApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="staff_list",
        tags=[TAG],
        summary="The company's staff (any staff role)",
        responses=StaffMemberOutputSerializer(many=True),
    )
    def get(self, request, exhibitor_id: int):
        exhibitor, _membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
        return Response(StaffMemberOutputSerializer(staff_of(exhibitor=exhibitor), many=True).data)


class StaffInviteApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="staff_invite",
        tags=[TAG],
        summary="Invite a colleague by email (owner or admin; only owners invite owners)",
        request=StaffInviteInputSerializer,
        responses={201: InvitationOutputSerializer},
    )
    def post(self, request, exhibitor_id: int):
        # Access first: an outsider gets 404 before any input is judged.
        access_exhibitor(user=request.user, exhibitor_id=exhibitor_id, edit=True)
        data = StaffInviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = staff_invite(
            actor=request.user,
            exhibitor_id=exhibitor_id,
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            base_url=request.build_absolute_uri("/"),
        )
        return Response(InvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED)


class StaffRoleChangeApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="staff_role_change",
        tags=[TAG],
        summary="Change a staff member's role (owners only; a company keeps one owner)",
        request=StaffRoleInputSerializer,
        responses=StaffMemberOutputSerializer,
    )
    def post(self, request, member_id: int):
        data = StaffRoleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = staff_role_change(
            actor=request.user, member_id=member_id, role=data.validated_data["role"]
        )
        return Response(StaffMemberOutputSerializer(member).data)


class StaffRemoveApi(ExhibitorsApiView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="staff_remove",
        tags=[TAG],
        summary="Remove a staff member, or leave (not the last owner)",
        description="Owners remove anyone, admins remove sales staff, anyone may leave.",
        request=None,
        responses={204: None},
    )
    def delete(self, request, member_id: int):
        staff_remove(actor=request.user, member_id=member_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
