from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from promotions.models import Campaign, Coupon, CouponTemplate, FlashSaleSku
from tests.mall.factories import TenantFactory


class CouponTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponTemplate

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Coupon {n}")
    kind = CouponTemplate.Kind.THRESHOLD
    amount = Decimal("20.00")
    threshold = Decimal("100.00")
    total_quantity = 100
    per_member_limit = 1
    validity_type = CouponTemplate.Validity.FIXED
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    template = factory.SubFactory(CouponTemplateFactory)
    tenant = factory.SelfAttribute("template.tenant")
    member = None
    valid_from = factory.SelfAttribute("template.valid_from")
    valid_until = factory.SelfAttribute("template.valid_until")
    channel = CouponTemplate.Channel.PUBLIC


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    kind = "full_reduction"
    status = Campaign.Status.ACTIVE
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    rules = factory.LazyFunction(
        lambda: {
            "tiers": [{"threshold": "199.00", "reduction": "30.00"}],
            "repeat_every": None,
            "repeat_reduction": None,
            "cap": None,
        }
    )


class FlashSaleSkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlashSaleSku

    campaign = factory.SubFactory(CampaignFactory, kind="flash_sale", rules={})
    tenant = factory.SelfAttribute("campaign.tenant")
    sku = None
    price = Decimal("9.90")
    quota = 10
