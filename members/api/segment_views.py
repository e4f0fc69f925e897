"""Merchant open API of tags: a member's tags by name, bulk apply and remove, the tag list
(scope ``members``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.idempotency import idempotent
from mall.api.views import MerchantAPIView, MerchantGenericAPIView
from mall.errors import NotFoundError
from mall.tenancy.models import ApiKey
from members import selectors
from members.models import Tag
from members.segments import services
from members.segments.selectors import tags_for_tenant

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key", type=str, location=OpenApiParameter.HEADER, required=False
)


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ("id", "name", "created_at")


class MemberTagsInSerializer(serializers.Serializer):
    add = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=50
    )
    remove = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=50
    )


class MemberTagsOutSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    tags = serializers.ListField(child=serializers.CharField())


class BulkInSerializer(serializers.Serializer):
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000
    )


class BulkOutSerializer(serializers.Serializer):
    tag_id = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Members who got (or lost) the tag now.")


class MerchantTagListView(MerchantGenericAPIView):
    required_scope = ApiKey.Scope.MEMBERS
    serializer_class = TagSerializer

    @extend_schema(
        operation_id="merchant_tags_list",
        summary="The shop's member tags",
        responses=TagSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(tags_for_tenant(self.tenant).order_by("name", "pk"))
        return self.get_paginated_response(TagSerializer(page, many=True).data)


class MerchantMemberTagsView(MerchantAPIView):
    required_scope = ApiKey.Scope.MEMBERS

    @extend_schema(
        operation_id="merchant_member_tags_set",
        summary="Add and remove a member's tags by name",
        description="Names in `add` are created when new; names in `remove` the member does "
        "not have are ignored. Answers the member's tags after.",
        request=MemberTagsInSerializer,
        responses={200: MemberTagsOutSerializer, 404: OpenApiResponse(description="Not found")},
    )
    def post(self, request: Request, pk: int) -> Response:
        member = selectors.member_get_for_sync(tenant=self.tenant, member_id=pk)
        if member is None:
            raise NotFoundError(_("Member not found."))
        data = MemberTagsInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tags = services.member_tags_set(
            tenant=self.tenant,
            member=member,
            add=data.validated_data["add"],
            remove=data.validated_data["remove"],
        )
        return Response({"member_id": member.pk, "tags": tags})


class _BulkView(MerchantAPIView):
    required_scope = ApiKey.Scope.MEMBERS
    remove = False

    def _run(self, request: Request, tag_id: int) -> Response:
        tag = services.tag_get(tenant=self.tenant, tag_id=tag_id)
        data = BulkInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["member_ids"]
        if self.remove:
            changed = services.tag_remove(tenant=self.tenant, tag=tag, member_ids=ids)
        else:
            changed = services.tag_apply(tenant=self.tenant, tag=tag, member_ids=ids, source="api")
        return Response({"tag_id": tag.pk, "changed": changed})


class MerchantTagApplyView(_BulkView):
    @extend_schema(
        operation_id="merchant_tag_members_add",
        summary="Put a tag on members (bulk)",
        description="At most 1,000 member ids; ids of other shops or unknown ids are ignored.",
        request=BulkInSerializer,
        responses={200: BulkOutSerializer, 404: OpenApiResponse(description="No such tag")},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request, tag_id: int) -> Response:
        return self._run(request, tag_id)


class MerchantTagRemoveView(_BulkView):
    remove = True

    @extend_schema(
        operation_id="merchant_tag_members_remove",
        summary="Take a tag off members (bulk)",
        request=BulkInSerializer,
        responses={200: BulkOutSerializer, 404: OpenApiResponse(description="No such tag")},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request, tag_id: int) -> Response:
        return self._run(request, tag_id)
