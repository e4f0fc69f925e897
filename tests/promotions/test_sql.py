"""promotions.sql: the raw reads give what the plain ORM gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from promotions.models import Campaign, FlashSaleSku
from promotions.selectors.inputs import counters_load
from promotions.sql import campaign_name_expression
from tests.catalog.factories import SkuFactory
from tests.promotions.factories import CampaignFactory, FlashSaleSkuFactory

pytestmark = pytest.mark.django_db


def test_counters_match_the_orm(tenant: Any) -> None:
    budgeted = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))
    Campaign.objects.filter(pk=budgeted.pk).update(discount_given=Decimal("12.34"))
    row = FlashSaleSkuFactory(campaign__tenant=tenant, sku=SkuFactory(product__tenant=tenant))
    FlashSaleSku.objects.filter(pk=row.pk).update(sold=7)
    gone = 10**12  # a deleted row or campaign is left out

    counters = counters_load([row.pk, gone], [budgeted.pk, gone], tenant_id=tenant.pk)

    assert counters.sold == dict(
        FlashSaleSku.objects.filter(pk__in=[row.pk, gone]).values_list("id", "sold")
    )
    assert counters.given == dict(
        Campaign.objects.filter(pk__in=[budgeted.pk, gone]).values_list("id", "discount_given")
    )
    assert counters_load([], [], tenant_id=tenant.pk).sold == {}


def test_campaign_name_expression_reads_only_the_tenants_campaign(tenant: Any) -> None:
    from django.db import connection

    from tests.mall.factories import TenantFactory

    mine = CampaignFactory(tenant=tenant, name="Spring")
    other = CampaignFactory(tenant=TenantFactory(slug="other-shop"), name="Theirs")
    sql, params = campaign_name_expression(tenant_id=tenant.pk, campaign_id="%s")
    with connection.cursor() as cursor:
        for campaign, expected in ((mine, "Spring"), (other, None)):
            cursor.execute(f"SELECT {sql}", [campaign.pk, *params])
            assert cursor.fetchone()[0] == expected
