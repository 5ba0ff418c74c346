"""API of the fair core: the signed-in account and the category tree."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fair.api.schema import ApiAutoSchema
from fair.models import available_time_zones
from fair.selectors import category_tree
from fair.services import user_preferences_update


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    language = serializers.CharField()
    time_zone = serializers.CharField()
    is_organiser = serializers.BooleanField()


class MeInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate_time_zone(self, value: str) -> str:
        if value and value not in available_time_zones():
            raise serializers.ValidationError(
                f"“{value}” is not a known time zone. Use an IANA name such as Asia/Riyadh."
            )
        return value


class MeApi(APIView):
    schema = ApiAutoSchema()
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)

    @extend_schema(request=MeInputSerializer, responses=MeOutputSerializer)
    def patch(self, request):
        data = MeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        user_preferences_update(
            user=user,
            full_name=data.validated_data.get("full_name", user.full_name),
            language=data.validated_data.get("language", user.language),
            time_zone=data.validated_data.get("time_zone", user.time_zone),
        )
        return Response(MeOutputSerializer(user).data)


class SectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField(source="display_name")


class CategorySerializer(SectionSerializer):
    sections = SectionSerializer(source="children.all", many=True)


class CategoryListApi(APIView):
    """The whole category tree in the caller's language (``Accept-Language`` or cookie)."""

    permission_classes = [permissions.AllowAny]
    schema = ApiAutoSchema()

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        return Response(CategorySerializer(category_tree(), many=True).data)
