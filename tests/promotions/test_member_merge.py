"""A phone-binding merge moves every coupon to the survivor, renumbering colliding ones."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from members.models import Member
from members.services.merge import member_merge_locked
from promotions.models import Coupon
from tests.members.factories import MemberFactory
from tests.promotions.factories import CouponFactory, CouponTemplateFactory


def test_coupons_move_to_the_survivor_without_collisions(tenant: Any) -> None:
    survivor = MemberFactory(tenant=tenant)
    loser = MemberFactory(tenant=tenant)
    template = CouponTemplateFactory(tenant=tenant, per_member_limit=2)
    other = CouponTemplateFactory(tenant=tenant)
    CouponFactory(template=template, member=survivor, seq=1)
    CouponFactory(template=template, member=loser, seq=1)
    CouponFactory(template=template, member=loser, seq=2)
    CouponFactory(template=other, member=loser, seq=1, status=Coupon.Status.USED)

    with transaction.atomic():
        member_merge_locked(survivor=survivor, loser=loser, phone="13800000001")

    assert Coupon.objects.filter(member=loser).count() == 0
    held = sorted(
        Coupon.objects.filter(member=survivor).values_list("template_id", "seq", "status")
    )
    assert held == sorted(
        [
            (template.pk, 1, "unused"),
            (template.pk, 2, "unused"),
            (template.pk, 3, "unused"),
            (other.pk, 1, "used"),
        ]
    )
    assert Member.objects.get(pk=loser.pk).merged_into_id == survivor.pk
