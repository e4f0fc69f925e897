"""Objects of tenant A for the cross-tenant matrix, each carrying MARKER where it has text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from catalog.models import (
    Category,
    Product,
    ProductImage,
    Sku,
    SpecName,
    SpecValue,
    StockMovement,
)
from mall.api.models import IdempotencyRecord
from mall.events.models import OutboxEvent
from mall.followups.models import FollowUp
from mall.tenancy.models import ApiKey, Channel, Staff, StaffInvitation, Tenant
from members.models import Address, Member, MemberIdentity, MemberMerge
from promotions.models import CampaignDisplay, Coupon, FlashSaleSku, PromotionSettings
from tests.catalog.factories import (
    FreightRuleFactory,
    FreightTemplateFactory,
    ProductFactory,
    SkuFactory,
)
from tests.mall.factories import ChannelFactory, StaffFactory, TenantFactory, UserFactory
from tests.promotions.factories import (
    CampaignFactory,
    CouponFactory,
    CouponTemplateFactory,
    FlashSaleSkuFactory,
)
from tests.security.matrix import MARKER, MemberOnly, ObjectRoute


def make_tenant(suffix: str) -> Tenant:
    return TenantFactory(slug=f"matrix-{suffix}", name=f"Matrix {suffix}")


def make_channel(tenant: Tenant) -> Channel:
    return ChannelFactory(tenant=tenant, app_id=f"wx-matrix-{tenant.slug}")


def make_member(tenant: Tenant, nickname: str = MARKER) -> Member:
    return Member.objects.create(tenant=tenant, nickname=nickname)


def make_owner(tenant: Tenant) -> Staff:
    return StaffFactory(tenant=tenant, user=UserFactory(username=f"owner-{tenant.slug}@x.test"))


def _channel(t: Tenant) -> Channel:
    return ChannelFactory(tenant=t, name=MARKER)


def _staff(t: Tenant) -> Staff:
    return StaffFactory(
        tenant=t, role=Staff.Role.OPERATOR, user=UserFactory(username=f"{MARKER}-op@x.test")
    )


def _api_key(t: Tenant) -> ApiKey:
    return ApiKey.objects.create(
        tenant=t, name=MARKER, prefix="abcd", key_hash="0" * 64, scopes=["catalog"]
    )


def _identity(t: Tenant) -> MemberIdentity:
    return MemberIdentity.objects.create(
        tenant=t, member=make_member(t), platform="wechat", app_id="wx-a", openid=MARKER
    )


def _address(t: Tenant) -> Address:
    return Address.objects.create(
        tenant=t,
        member=make_member(t),
        name=MARKER,
        phone="13800138000",
        province="Guangdong",
        city="Shenzhen",
        detail=MARKER,
    )


def _merge(t: Tenant) -> MemberMerge:
    return MemberMerge.objects.create(
        tenant=t,
        survivor=make_member(t),
        merged=make_member(t),
        phone="13800138000",
        moved={"note": MARKER},
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "mall.Channel": _channel,
    "mall.Staff": _staff,
    "mall.ApiKey": _api_key,
    "mall.StaffInvitation": lambda t: StaffInvitation.objects.create(
        tenant=t,
        email=f"{MARKER}@x.test",
        role=Staff.Role.OPERATOR,
        token_hash=f"{t.pk:064d}",
        expires_at=timezone.now() + timedelta(days=7),
    ),
    "mall.IdempotencyRecord": lambda t: IdempotencyRecord.objects.create(
        tenant=t, principal="member:1", key=MARKER, method="POST", path="/x", request_hash="0"
    ),
    "mall.OutboxEvent": lambda t: OutboxEvent.objects.create(tenant=t, name="x", subject=MARKER),
    "mall.FollowUp": lambda t: FollowUp.objects.create(
        tenant=t, task="mall.tasks.ping", key=MARKER, due_at=timezone.now()
    ),
    "members.Member": lambda t: make_member(t),
    "members.MemberIdentity": _identity,
    "members.Address": _address,
    "members.MemberMerge": _merge,
    "catalog.Category": lambda t: Category.objects.create(tenant=t, name=MARKER),
}


def _product(t: Tenant) -> Product:
    return ProductFactory(tenant=t, title=MARKER, subtitle=MARKER)


def _sku(t: Tenant) -> Sku:
    return SkuFactory(product=_product(t), code=f"{MARKER}-{Sku.objects.count()}")


def _spec_name(t: Tenant) -> SpecName:
    return SpecName.objects.create(tenant=t, product=_product(t), name=MARKER)


def _spec_value(t: Tenant) -> SpecValue:
    return SpecValue.objects.create(tenant=t, spec_name=_spec_name(t), value=MARKER)


def _image(t: Tenant) -> ProductImage:
    return ProductImage.objects.create(
        tenant=t,
        product=_product(t),
        file=f"{MARKER}.png",
        thumb_small=f"{MARKER}-s.png",
        thumb_medium=f"{MARKER}-m.png",
        width=10,
        height=10,
    )


def _movement(t: Tenant) -> StockMovement:
    sku = _sku(t)
    return StockMovement.objects.create(
        tenant=t,
        sku=sku,
        reason=StockMovement.Reason.ADJUST,
        quantity=1,
        stock_after=11,
        note=MARKER,
    )


def _coupon(t: Tenant) -> Coupon:
    return CouponFactory(
        template=CouponTemplateFactory(tenant=t, name=MARKER), member=make_member(t)
    )


def _campaign_display(t: Tenant) -> CampaignDisplay:
    return CampaignDisplay.objects.create(
        tenant=t,
        campaign=CampaignFactory(tenant=t, name=MARKER, title=MARKER),
        platform="wechat",
        title=MARKER,
    )


def _flash_sku(t: Tenant) -> FlashSaleSku:
    return FlashSaleSkuFactory(
        campaign=CampaignFactory(tenant=t, name=MARKER, kind="flash_sale", rules={}), sku=_sku(t)
    )


MODEL_FACTORIES.update(
    {
        "catalog.Product": _product,
        "catalog.Sku": _sku,
        "catalog.SpecName": _spec_name,
        "catalog.SpecValue": _spec_value,
        "catalog.ProductImage": _image,
        "catalog.FreightTemplate": lambda t: FreightTemplateFactory(tenant=t, name=MARKER),
        "catalog.FreightRule": lambda t: FreightRuleFactory(
            template=FreightTemplateFactory(tenant=t, name=f"{MARKER} (rules)")
        ),
        "catalog.StockMovement": _movement,
        "promotions.PromotionSettings": lambda t: PromotionSettings.objects.create(tenant=t),
        "promotions.CouponTemplate": lambda t: CouponTemplateFactory(tenant=t, name=MARKER),
        "promotions.Coupon": _coupon,
        "promotions.Campaign": lambda t: CampaignFactory(tenant=t, name=MARKER, title=MARKER),
        "promotions.CampaignDisplay": _campaign_display,
        "promotions.FlashSaleSku": _flash_sku,
    }
)

# Filled as the apps grow: route -> case, and models that the console does not show.
ROUTES: dict[str, Any] = {}
NOT_IN_CONSOLE: dict[str, str] = {}
# Console registrations of models that are not tenant-owned (must be scoped by other means).
CONSOLE_GLOBAL_MODELS: set[str] = set()


# --- payments (entries prepared in tests/payments/security_matrix.py) ----------------------------
def _merge_payments() -> None:
    from tests.payments import security_matrix as payments_matrix

    MODEL_FACTORIES.update(payments_matrix.MODEL_FACTORIES)
    ROUTES.update(payments_matrix.ROUTES)
    NOT_IN_CONSOLE.update(payments_matrix.NOT_IN_CONSOLE)


_merge_payments()


# --- distribution --------------------------------------------------------------------------------
def _distributor(t: Tenant) -> Any:
    from tests.distribution.factories import distributor

    return distributor(t, member=make_member(t))


def _paid_line(t: Tenant) -> Any:
    from tests.distribution.factories import paid_order

    order = paid_order(t, make_member(t), [{"payable": "100.00", "title": MARKER}])
    return order.lines.get()


def _commission(t: Tenant) -> Any:
    from distribution.models import Commission

    line = _paid_line(t)
    return Commission.objects.create(
        tenant=t,
        order=line.order,
        order_line=line,
        beneficiary=_distributor(t),
        buyer=line.order.member,
        tier=1,
        base_amount=Decimal("100.00"),
        rate=Decimal("0.1"),
        amount=Decimal("10.00"),
        rule={"note": MARKER},
    )


def _dist_models() -> dict[str, Callable[[Tenant], Any]]:
    from distribution.models import (
        Binding,
        CommissionReversal,
        CommissionRule,
        DistributionSettings,
        LedgerEntry,
        TeamReward,
        Withdrawal,
    )
    from tests.distribution.factories import grade

    return {
        "distribution.DistributionSettings": lambda t: DistributionSettings.objects.create(
            tenant=t, enabled=True
        ),
        "distribution.DistributorGrade": lambda t: grade(t, name=MARKER),
        "distribution.Distributor": _distributor,
        "distribution.Binding": lambda t: Binding.objects.create(
            tenant=t, customer=make_member(t), distributor=_distributor(t), source="share"
        ),
        "distribution.CommissionRule": lambda t: CommissionRule.objects.create(
            tenant=t, product=_product(t), tier1_value=Decimal("0.1")
        ),
        "distribution.Commission": _commission,
        "distribution.CommissionReversal": lambda t: CommissionReversal.objects.create(
            tenant=t, commission=_commission(t), refund_ref=MARKER, amount=Decimal("1.00")
        ),
        "distribution.LedgerEntry": lambda t: LedgerEntry.objects.create(
            tenant=t,
            distributor=_distributor(t),
            kind="credit",
            reference=MARKER,
            amount=Decimal("1.00"),
            note=MARKER,
        ),
        "distribution.Withdrawal": lambda t: Withdrawal.objects.create(
            tenant=t,
            distributor=_distributor(t),
            amount=Decimal("5.00"),
            net_amount=Decimal("5.00"),
            reason=MARKER,
        ),
        "distribution.TeamReward": lambda t: TeamReward.objects.create(
            tenant=t,
            distributor=_distributor(t),
            month=date(2026, 10, 1),
            team_sales=Decimal("12345.67"),
            amount=Decimal("246.91"),
        ),
    }


MODEL_FACTORIES.update(_dist_models())
NOT_IN_CONSOLE["distribution.CommissionReversal"] = (
    "audit rows of commission reversals; shown on the commission page"
)
ROUTES.update(
    {
        "api/v1/distribution/bind": ObjectRoute(
            "distribution.Distributor",
            methods=("post",),
            body=lambda d, _m: {"code": d.share_code},
        ),
        "api/v1/distribution/apply": MemberOnly(methods=("post",)),
        "api/v1/distribution/me": MemberOnly(),
        "api/v1/distribution/team": MemberOnly(),
        "api/v1/distribution/commissions": MemberOnly(),
        "api/v1/distribution/withdrawals": MemberOnly(methods=("post",)),
        "api/v1/distribution/poster": ObjectRoute(
            "catalog.Product", query=lambda p: f"?product_id={p.pk}"
        ),
    }
)


def make_distributor_account(tenant: Tenant, member: Member) -> Any:
    """Tenant B's member is an approved distributor, so distributor routes reach their lookups."""
    from distribution.models import DistributionSettings
    from tests.distribution.factories import distributor

    DistributionSettings.objects.create(tenant=tenant, enabled=True)
    return distributor(tenant, member=member)


# --- orders (entries prepared in tests/orders/matrix_entries.py) --------------------------------
def _merge_orders() -> None:
    from tests.orders import matrix_entries as orders_matrix

    MODEL_FACTORIES.update(orders_matrix.MODEL_FACTORIES)
    ROUTES.update(orders_matrix.ROUTES)
    NOT_IN_CONSOLE.update(orders_matrix.NOT_IN_CONSOLE)


_merge_orders()


# --- member cards (entries prepared in tests/members/card_matrix.py) -----------------------------
def _merge_cards() -> None:
    from tests.members import card_matrix

    MODEL_FACTORIES.update(card_matrix.MODEL_FACTORIES)
    ROUTES.update(card_matrix.ROUTES)
    NOT_IN_CONSOLE.update(card_matrix.NOT_IN_CONSOLE)


_merge_cards()


# --- tags, segments, automation (entries prepared in tests/members/segment_matrix.py) ----------
def _merge_segments() -> None:
    from tests.members import segment_matrix

    MODEL_FACTORIES.update(segment_matrix.MODEL_FACTORIES)
    ROUTES.update(segment_matrix.ROUTES)
    NOT_IN_CONSOLE.update(segment_matrix.NOT_IN_CONSOLE)


_merge_segments()


# --- tiers and card benefits (entries prepared in tests/members/tier_matrix.py) ----------------
def _merge_tiers() -> None:
    from tests.members import tier_matrix

    MODEL_FACTORIES.update(tier_matrix.MODEL_FACTORIES)
    ROUTES.update(tier_matrix.ROUTES)
    NOT_IN_CONSOLE.update(tier_matrix.NOT_IN_CONSOLE)


_merge_tiers()


# --- points and check-in (entries prepared in tests/members/points_matrix.py) -------------------
def _merge_points() -> None:
    from tests.members import points_matrix

    MODEL_FACTORIES.update(points_matrix.MODEL_FACTORIES)
    ROUTES.update(points_matrix.ROUTES)
    NOT_IN_CONSOLE.update(points_matrix.NOT_IN_CONSOLE)


_merge_points()
