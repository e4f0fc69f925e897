"""A check-in reward's coupon is issued by promotions (the hook it registers in ready())."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from members.checkin.services import checkin_do
from members.models import CheckInReward, Member
from promotions.models import Coupon
from tests.members.factories import MemberFactory
from tests.promotions.factories import CouponTemplateFactory

pytestmark = pytest.mark.django_db


def test_check_in_issues_the_coupon_and_a_refusal_keeps_the_check_in(tenant: Any) -> None:
    template = CouponTemplateFactory(tenant=tenant, per_member_limit=1)
    CheckInReward.objects.create(tenant=tenant, day=1, points=2, coupon_template_id=template.pk)
    member = MemberFactory(tenant=tenant)
    now = timezone.now()

    first = checkin_do(tenant=tenant, member=member, now=now)
    # Two days later the streak starts again at day 1: the per-member limit refuses the coupon.
    later = checkin_do(tenant=tenant, member=member, now=now + timedelta(days=2))

    assert first.checkin.rewards == [
        {"type": "points", "points": 2},
        {"type": "coupon", "template_id": template.pk},
    ]
    assert later.created and later.checkin.rewards == [{"type": "points", "points": 2}]
    assert Coupon.objects.for_tenant(tenant).filter(member=member, template=template).count() == 1
    assert Member.objects.get(pk=member.pk).points == 4
