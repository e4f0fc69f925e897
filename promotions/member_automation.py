"""Promotions' part of the members' segments and automation (``members.automation.hooks``):
issuing a coupon template to members (an automation action), and the templates a rule may
issue for the console form. Registered by ``PromotionsConfig.ready()``."""

from __future__ import annotations

from collections.abc import Sequence

from mall.errors import ApplicationError
from mall.tenancy.models import Tenant
from members.models import Member
from promotions.models import CouponTemplate
from promotions.services.coupons import coupon_claim

Channel = CouponTemplate.Channel


class CouponIssuer:
    """Each member in its own savepoint: one refusal (limit, sold out) does not undo others."""

    def __call__(
        self, *, tenant_id: int, template_id: int, member_ids: Sequence[int]
    ) -> dict[int, tuple[int | None, str]]:
        members = {
            m.pk: m
            for m in Member.objects.for_tenant(tenant_id).filter(
                pk__in=list(member_ids), is_active=True, merged_into__isnull=True
            )
        }
        tenant = Tenant.objects.get(pk=tenant_id)
        out: dict[int, tuple[int | None, str]] = {}
        for member_id in sorted(set(member_ids)):
            member = members.get(member_id)
            if member is None:
                out[member_id] = (None, "member_not_found")
                continue
            try:
                coupon = coupon_claim(
                    tenant=tenant,
                    member=member,
                    template_id=template_id,
                    channel=Channel.AUTOMATION,
                )
            except ApplicationError as exc:
                out[member_id] = (None, str(exc.code))
            else:
                out[member_id] = (coupon.pk, "")
        return out

    def choices(self, tenant_id: int) -> list[tuple[int, str]]:
        return [
            (pk, name)
            for pk, name in CouponTemplate.objects.for_tenant(tenant_id)
            .filter(is_active=True)
            .order_by("name", "pk")
            .values_list("pk", "name")
        ]
