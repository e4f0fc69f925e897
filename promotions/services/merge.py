"""Phone-binding member merge: the absorbed member's coupons move to the survivor."""

from __future__ import annotations

from django.db.models import Max

from members.models import Member
from promotions.models import Coupon


def coupons_merge(*, survivor: Member, loser: Member) -> int:
    """Move every coupon; renumber ``seq`` where the survivor already holds that template.

    Nothing is dropped: the survivor may end up above a template's per-member limit, which only
    limits future claims.
    """
    moved = 0
    coupons = list(
        Coupon.objects.for_tenant(loser.tenant_id)
        .filter(member=loser)
        .order_by("template_id", "seq", "id")
    )
    next_seq: dict[int, int] = {
        row["template_id"]: row["top"]
        for row in Coupon.objects.for_tenant(survivor.tenant_id)
        .filter(member=survivor)
        .values("template_id")
        .annotate(top=Max("seq"))
    }
    for coupon in coupons:
        seq = next_seq.get(coupon.template_id, 0) + 1
        next_seq[coupon.template_id] = seq
        moved += (
            Coupon.objects.for_tenant(survivor.tenant_id)
            .filter(pk=coupon.pk)
            .update(member=survivor, seq=seq)
        )
    return moved
