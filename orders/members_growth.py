"""What a paid order tells the members app (filled into ``orders.hooks.register_order_paid`` by
``OrdersConfig.ready()``): the member's last paid order for RFM and the dormant trigger at
once, and the automation trigger "first paid order"."""

from __future__ import annotations

from datetime import datetime, timedelta

from mall.tenancy.models import Tenant
from members.automation.models import AutomationRule
from members.automation.services import automation_trigger
from members.segments.services import rfm_note_paid
from orders.models import Order
from orders.selectors import carts_left_since


def member_on_order_paid(*, tenant: Tenant, order: Order) -> None:
    if order.paid_at is not None:
        rfm_note_paid(tenant=tenant, member_id=order.member_id, paid_at=order.paid_at)
    wanted = (
        AutomationRule.objects.for_tenant(tenant)
        .filter(is_active=True, trigger=AutomationRule.Trigger.FIRST_PAID_ORDER)
        .exists()
    )
    if not wanted:
        return
    earlier = (
        Order.objects.for_tenant(tenant)
        .filter(member_id=order.member_id, paid_at__isnull=False)
        .exclude(pk=order.pk)
        .exists()
    )
    if not earlier:
        automation_trigger(order.member, AutomationRule.Trigger.FIRST_PAID_ORDER, key="first")


def cart_left_candidates(
    *, tenant_id: int, days: int | None, hours: int | None, now: datetime
) -> list[tuple[int, str]]:
    """Automation trigger "cart left for N hours": carts untouched for N hours (up to 7 days
    more, the catch-up window), period = the cart's last change."""
    before = now - timedelta(hours=hours or 0)
    rows = carts_left_since(tenant_id, before).filter(left_at__gt=before - timedelta(days=7))
    return [(row["member_id"], row["left_at"].isoformat()) for row in rows]
