"""Tags', segments' and automation's part of the cross-tenant matrix (merged into
tests/security/factories.py like card_matrix). Every model is registered in the console, so its
console pages are classified by the registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import (
    AutomationExecution,
    AutomationRule,
    Member,
    MemberRfm,
    MemberTag,
    Segment,
    SegmentCondition,
    Tag,
)
from tests.security.matrix import MARKER, ListRoute, ObjectRoute


def _member(t: Tenant) -> Member:
    return Member.objects.create(tenant=t, nickname=MARKER)


def _tag(t: Tenant) -> Tag:
    return Tag.objects.create(tenant=t, name=f"{MARKER}-{Tag.objects.for_tenant(t).count()}")


def _member_tag(t: Tenant) -> MemberTag:
    return MemberTag.objects.create(tenant=t, member=_member(t), tag=_tag(t))


def _segment(t: Tenant) -> Segment:
    return Segment.objects.create(
        tenant=t, name=f"{MARKER}-{Segment.objects.for_tenant(t).count()}", description=MARKER
    )


def _condition(t: Tenant) -> SegmentCondition:
    return SegmentCondition.objects.create(
        tenant=t, segment=_segment(t), kind=SegmentCondition.Kind.CITY, city=MARKER
    )


def _rfm(t: Tenant) -> MemberRfm:
    return MemberRfm.objects.create(tenant=t, member=_member(t), computed_at=timezone.now())


def _rule(t: Tenant) -> AutomationRule:
    return AutomationRule.objects.create(
        tenant=t,
        name=f"{MARKER}-{AutomationRule.objects.for_tenant(t).count()}",
        trigger=AutomationRule.Trigger.TIER_UP,
        notify=True,
        notify_title=MARKER,
    )


def _execution(t: Tenant) -> AutomationExecution:
    return AutomationExecution.objects.create(
        tenant=t, rule=_rule(t), member=_member(t), period_key=MARKER
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "members.Tag": _tag,
    "members.MemberTag": _member_tag,
    "members.Segment": _segment,
    "members.SegmentCondition": _condition,
    "members.MemberRfm": _rfm,
    "members.AutomationRule": _rule,
    "members.AutomationExecution": _execution,
}

ROUTES: dict[str, Any] = {
    "api/merchant/v1/tags": ListRoute("members.Tag"),
    "api/merchant/v1/members/<int:pk>/tags": ObjectRoute(
        "members.Member", methods=("post",), body={"add": ["x"]}
    ),
    "api/merchant/v1/tags/<int:tag_id>/members": ObjectRoute(
        "members.Tag", methods=("post",), body={"member_ids": [1]}
    ),
    "api/merchant/v1/tags/<int:tag_id>/members/remove": ObjectRoute(
        "members.Tag", methods=("post",), body={"member_ids": [1]}
    ),
}

NOT_IN_CONSOLE: dict[str, str] = {
    "members.MemberTag": "applied and removed from the member list's actions (Add / Remove a tag)",
    "members.SegmentCondition": "edited as an inline of Segment",
}
