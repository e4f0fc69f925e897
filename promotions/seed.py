"""Demo promotions for ``manage.py seed_demo`` (idempotent): a running full reduction, a flash
sale and a gift campaign on the catalog seed's SKUs, and claimable coupons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone

from catalog.models import Product, Sku
from mall.money import quantize
from mall.tenancy.models import Tenant
from promotions.models import Campaign, CouponTemplate, FlashSaleSku
from promotions.rules import validate_rules

FULL_REDUCTION = "Demo: over 199 minus 30, over 299 minus 50"
FLASH_SALE = "Demo: flash sale"
GIFT = "Demo: gift over 150"


def _campaign(*, tenant: Tenant, name: str, kind: str, rules: dict, days: int = 30) -> bool:
    if Campaign.objects.for_tenant(tenant).filter(name=name).exists():
        return False
    now = timezone.now()
    Campaign.objects.create(
        tenant=tenant,
        name=name,
        kind=kind,
        status=Campaign.Status.ACTIVE,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=days),
        rules=validate_rules(kind, rules),
        title=name.removeprefix("Demo: ").capitalize(),
    )
    return True


def _template(*, tenant: Tenant, name: str, **fields: object) -> bool:
    if CouponTemplate.objects.for_tenant(tenant).filter(name=name).exists():
        return False
    template = CouponTemplate(tenant=tenant, name=name, **fields)
    template.full_clean()
    template.save()
    return True


@transaction.atomic
def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    created = 0
    created += _campaign(
        tenant=tenant,
        name=FULL_REDUCTION,
        kind="full_reduction",
        rules={
            "tiers": [
                {"threshold": "199.00", "reduction": "30.00"},
                {"threshold": "299.00", "reduction": "50.00"},
            ]
        },
    )
    now = timezone.now()
    created += _template(
        tenant=tenant,
        name="Demo: 10 off over 99",
        kind=CouponTemplate.Kind.THRESHOLD,
        amount=Decimal("10.00"),
        threshold=Decimal("99.00"),
        total_quantity=1000,
        per_member_limit=1,
        validity_type=CouponTemplate.Validity.RELATIVE,
        valid_days=7,
    )
    created += _template(
        tenant=tenant,
        name="Demo: 15% off, at most 30",
        kind=CouponTemplate.Kind.PERCENT,
        percent_off=Decimal("15"),
        max_discount=Decimal("30.00"),
        total_quantity=500,
        per_member_limit=2,
        validity_type=CouponTemplate.Validity.FIXED,
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30),
    )
    created += _template(
        tenant=tenant,
        name="Demo: free shipping",
        kind=CouponTemplate.Kind.SHIPPING,
        total_quantity=1000,
        per_member_limit=3,
        validity_type=CouponTemplate.Validity.RELATIVE,
        valid_days=14,
    )

    skus = list(
        Sku.objects.for_tenant(tenant)
        .filter(is_active=True, product__status=Product.Status.ON_SALE, stock__gt=0)
        .order_by("id")[:2]
    )
    if len(skus) < 2:
        stdout.write(
            f"  promotions: {created} new; no on-sale SKUs yet, flash sale and gift skipped "
            "(run the catalog seed first)"
        )
        return
    flash_sku, gift_sku = skus
    if _campaign(tenant=tenant, name=FLASH_SALE, kind="flash_sale", rules={}, days=3):
        created += 1
        FlashSaleSku.objects.create(
            tenant=tenant,
            campaign=Campaign.objects.for_tenant(tenant).get(name=FLASH_SALE),
            sku=flash_sku,
            price=quantize(flash_sku.price * Decimal("0.6")),
            quota=min(flash_sku.stock, 50),
            per_member_limit=2,
        )
    created += _campaign(
        tenant=tenant,
        name=GIFT,
        kind="gift",
        rules={"threshold": "150.00", "gifts": [{"sku_id": gift_sku.pk, "quantity": 1}]},
    )
    stdout.write(f"  promotions: {created} new")
