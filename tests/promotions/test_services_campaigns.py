"""Campaign services: beat transitions and read-time checks with frozen time, budgets (also
under concurrency), flash-sale quota."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from mall.api.errors import ApplicationError
from promotions.models import Campaign, FlashSaleSku
from promotions.selectors import campaigns_live_queryset
from promotions.services import (
    campaign_budget_consume,
    campaign_budget_release,
    campaign_cancel,
    campaign_discounts_consume,
    campaign_schedule,
    flash_sale_consume,
)
from promotions.tasks import campaign_transitions
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.promotions.factories import CampaignFactory, FlashSaleSkuFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 11, 11, 0, 0, tzinfo=SHANGHAI)
END = datetime(2025, 11, 12, 0, 0, tzinfo=SHANGHAI)


def _status(campaign: Campaign) -> str:
    return Campaign.objects.get(pk=campaign.pk).status


def _live(tenant: Any) -> list[int]:
    return list(
        campaigns_live_queryset(tenant=tenant, now=timezone.now()).values_list("id", flat=True)
    )


def test_beat_starts_and_ends_at_the_minute(tenant: Any) -> None:
    campaign = CampaignFactory(
        tenant=tenant, status=Campaign.Status.SCHEDULED, starts_at=START, ends_at=END
    )
    with time_machine.travel(START - timedelta(seconds=1), tick=False):
        campaign_transitions.delay()
        assert _status(campaign) == "scheduled"
        assert _live(tenant) == []
    with time_machine.travel(START, tick=False):
        assert _live(tenant) == [campaign.pk]  # read time, before the beat runs
        campaign_transitions.delay()
        assert _status(campaign) == "active"
    with time_machine.travel(END - timedelta(seconds=1), tick=False):
        campaign_transitions.delay()
        assert _status(campaign) == "active"
        assert _live(tenant) == [campaign.pk]
    with time_machine.travel(END, tick=False):
        assert _live(tenant) == []  # read time: a late beat never keeps it alive
        assert _status(campaign) == "active"
        campaign_transitions.delay()
        assert _status(campaign) == "ended"
        campaign_transitions.delay()  # idempotent
        assert _status(campaign) == "ended"


def test_draft_and_cancelled_never_go_live(tenant: Any) -> None:
    draft = CampaignFactory(tenant=tenant, status="draft", starts_at=START, ends_at=END)
    cancelled = CampaignFactory(tenant=tenant, status="scheduled", starts_at=START, ends_at=END)
    campaign_cancel(tenant=tenant, campaign=cancelled)
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        campaign_transitions.delay()
        assert _status(draft) == "draft"
        assert _status(cancelled) == "cancelled"
        assert _live(tenant) == []


def test_transition_table(tenant: Any) -> None:
    campaign = CampaignFactory(tenant=tenant, status="draft")
    assert campaign_schedule(tenant=tenant, campaign=campaign).status == "scheduled"
    assert campaign_schedule(tenant=tenant, campaign=campaign).status == "scheduled"
    campaign_cancel(tenant=tenant, campaign=campaign)
    with pytest.raises(ApplicationError) as exc:
        campaign_schedule(tenant=tenant, campaign=campaign)
    assert exc.value.code == "invalid_transition"


def test_budget_consume_stops_exactly_at_the_budget(tenant: Any) -> None:
    campaign = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))
    assert campaign_budget_consume(tenant=tenant, campaign_id=campaign.pk, amount=Decimal("60"))
    assert not campaign_budget_consume(tenant=tenant, campaign_id=campaign.pk, amount=Decimal("41"))
    assert campaign_budget_consume(tenant=tenant, campaign_id=campaign.pk, amount=Decimal("40"))
    campaign.refresh_from_db()
    assert campaign.discount_given == Decimal("100.00")
    assert campaign_budget_release(tenant=tenant, campaign_id=campaign.pk, amount=Decimal("30"))
    campaign.refresh_from_db()
    assert campaign.discount_given == Decimal("70.00")


def test_budget_of_another_tenant_is_not_touched(tenant: Any, other_tenant: Any) -> None:
    campaign = CampaignFactory(tenant=other_tenant, budget=Decimal("100.00"))
    assert not campaign_budget_consume(tenant=tenant, campaign_id=campaign.pk, amount=Decimal("1"))


def test_discounts_consume_is_all_or_nothing(tenant: Any) -> None:
    roomy = CampaignFactory(tenant=tenant, budget=None)
    tight = CampaignFactory(tenant=tenant, budget=Decimal("10.00"))
    with pytest.raises(ApplicationError) as exc:
        campaign_discounts_consume(
            tenant=tenant, discounts=[(roomy.pk, Decimal("50")), (tight.pk, Decimal("11"))]
        )
    assert exc.value.code == "campaign_budget_exhausted"
    roomy.refresh_from_db()
    assert roomy.discount_given == Decimal("0.00")


def test_one_campaign_is_consumed_in_one_guarded_statement(tenant: Any) -> None:
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    campaign = CampaignFactory(tenant=tenant, budget=Decimal("10.00"))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        campaign_discounts_consume(tenant=tenant, discounts=[(campaign.pk, Decimal("6"))])
    assert len(queries.captured_queries) == 1  # no savepoint around a single UPDATE
    with pytest.raises(ApplicationError) as exc:
        campaign_discounts_consume(tenant=tenant, discounts=[(campaign.pk, Decimal("4.01"))])
    assert exc.value.code == "campaign_budget_exhausted"
    assert exc.value.details == {"campaign_id": campaign.pk}
    campaign.refresh_from_db()
    assert campaign.discount_given == Decimal("6.00")
    campaign_discounts_consume(tenant=tenant, discounts=[(campaign.pk, Decimal("4"))])
    campaign.refresh_from_db()
    assert campaign.discount_given == Decimal("10.00")


def test_discounts_consume_names_the_exhausted_campaign_and_keeps_none(tenant: Any) -> None:
    first = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))
    second = CampaignFactory(tenant=tenant, budget=Decimal("5.00"))
    with pytest.raises(ApplicationError) as exc:
        # Given in any order; consumed in id order.
        campaign_discounts_consume(
            tenant=tenant, discounts=[(second.pk, Decimal("6")), (first.pk, Decimal("1"))]
        )
    assert exc.value.details == {"campaign_id": second.pk}
    first.refresh_from_db()
    assert first.discount_given == Decimal("0.00")


def test_flash_sale_quota(tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant))
    flash = FlashSaleSkuFactory(campaign__tenant=tenant, sku=sku, quota=3)
    flash_sale_consume(tenant=tenant, campaign_id=flash.campaign_id, sku_id=sku.pk, quantity=2)
    with pytest.raises(ApplicationError) as exc:
        flash_sale_consume(tenant=tenant, campaign_id=flash.campaign_id, sku_id=sku.pk, quantity=2)
    assert exc.value.code == "flash_sale_sold_out"
    assert FlashSaleSku.objects.get(pk=flash.pk).sold == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_exceed_the_budget(tenant: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    campaign = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))
    barrier = threading.Barrier(40)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            ok = campaign_budget_consume(
                tenant=tenant, campaign_id=campaign.pk, amount=Decimal("7.00")
            )
        finally:
            connection.close()
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    campaign.refresh_from_db()
    assert results.count(True) == 14  # 14 * 7.00 = 98.00; a 15th would exceed 100.00
    assert campaign.discount_given == Decimal("98.00")
