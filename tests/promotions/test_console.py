"""Console: campaign and coupon template validation, issue to members."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from mall.tenancy.models import Staff
from promotions.models import Campaign, Coupon, CouponTemplate
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.mall.factories import StaffFactory, UserFactory
from tests.members.factories import MemberFactory
from tests.promotions.factories import CouponTemplateFactory, FlashSaleSkuFactory

pytestmark = pytest.mark.django_db

FMT = "%Y-%m-%d %H:%M:%S"


@pytest.fixture
def console(tenant: Any) -> Client:
    staff = StaffFactory(tenant=tenant, user=UserFactory(), role=Staff.Role.OPERATOR)
    client = Client()
    client.force_login(staff.user)
    return client


def _campaign_form(**overrides: Any) -> dict[str, Any]:
    start = timezone.localtime() + timedelta(days=1)
    data = {
        "name": "Flash",
        "kind": "flash_sale",
        "status": "scheduled",
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": (start + timedelta(hours=2)).strftime("%Y-%m-%d"),
        "ends_at_1": (start + timedelta(hours=2)).strftime("%H:%M:%S"),
        "priority": "0",
        "all_items": "on",
        "on_wechat": "on",
        "rules": "{}",
        "stacks_with": "null",
        "flash_skus-TOTAL_FORMS": "0",
        "flash_skus-INITIAL_FORMS": "0",
        "displays-TOTAL_FORMS": "0",
        "displays-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def _errors(response: Any) -> str:
    return str(response.context["errors"]) + str(
        [fs.non_form_errors() for fs in response.context["inline_admin_formsets"]]
    )


@pytest.mark.parametrize(
    "now",
    # 00:30 Beijing time: "start minus one hour" is the day before (it once crossed midnight
    # while keeping the start's date, and the test failed between 00:00 and 01:00).
    ["2026-03-01T00:30:00+08:00", "2026-03-01T12:00:00+08:00"],
)
def test_end_must_follow_start_and_rules_validated(console: Client, now: str) -> None:
    with time_machine.travel(now, tick=False):
        _end_must_follow_start_and_rules_validated(console)


def _end_must_follow_start_and_rules_validated(console: Client) -> None:
    start = timezone.localtime() + timedelta(days=1)
    end = start - timedelta(hours=1)
    response = console.post(
        "/console/promotions/campaign/add/",
        _campaign_form(
            kind="full_reduction",
            ends_at_0=end.strftime("%Y-%m-%d"),
            ends_at_1=end.strftime("%H:%M:%S"),
            rules='{"tiers": [{"threshold": "100", "reduction": "-5"}]}',
        ),
    )
    assert response.status_code == 200
    errors = _errors(response)
    assert "The end must be after the start." in errors
    assert "&#x27;reduction&#x27; must be an amount" in errors or "'reduction' must be" in errors
    assert not Campaign.objects.exists()


def test_overlapping_flash_sale_on_the_same_sku_is_refused(tenant: Any, console: Client) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("50.00"))
    start = timezone.localtime() + timedelta(days=1)
    FlashSaleSkuFactory(
        campaign__tenant=tenant,
        campaign__starts_at=start - timedelta(hours=1),
        campaign__ends_at=start + timedelta(hours=1),
        sku=sku,
    )
    form = _campaign_form(
        **{
            "flash_skus-TOTAL_FORMS": "1",
            "flash_skus-0-sku": str(sku.pk),
            "flash_skus-0-price": "19.90",
            "flash_skus-0-quota": "10",
            "flash_skus-0-per_member_limit": "1",
        }
    )
    response = console.post("/console/promotions/campaign/add/", form)
    assert response.status_code == 200
    assert "is already in the flash sale" in _errors(response)
    assert Campaign.objects.count() == 1

    later = start + timedelta(hours=3)
    form.update(
        {
            "starts_at_0": later.strftime("%Y-%m-%d"),
            "starts_at_1": later.strftime("%H:%M:%S"),
            "ends_at_0": (later + timedelta(hours=1)).strftime("%Y-%m-%d"),
            "ends_at_1": (later + timedelta(hours=1)).strftime("%H:%M:%S"),
        }
    )
    response = console.post("/console/promotions/campaign/add/", form)
    assert response.status_code == 302
    assert Campaign.objects.count() == 2


def test_percent_out_of_range_is_refused(console: Client) -> None:
    now = timezone.localtime()
    response = console.post(
        "/console/promotions/coupontemplate/add/",
        {
            "name": "Too much",
            "kind": "percent",
            "percent_off": "120",
            "threshold": "0",
            "scope_type": "all",
            "total_quantity": "10",
            "per_member_limit": "1",
            "validity_type": "fixed",
            "valid_from_0": now.strftime("%Y-%m-%d"),
            "valid_from_1": now.strftime("%H:%M:%S"),
            "valid_until_0": (now + timedelta(days=3)).strftime("%Y-%m-%d"),
            "valid_until_1": now.strftime("%H:%M:%S"),
            "claim_channel": "public",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert not CouponTemplate.objects.exists()


def test_issue_to_members_action(tenant: Any, other_tenant: Any, console: Client) -> None:
    template = CouponTemplateFactory(tenant=tenant, claim_channel="automation")
    members = [MemberFactory(tenant=tenant) for _ in range(2)]
    stranger = MemberFactory(tenant=other_tenant)
    response = console.post(
        "/console/promotions/coupontemplate/",
        {
            "action": "issue_to_members",
            "_selected_action": [str(template.pk)],
            "member_ids": f"{members[0].pk}, {members[1].pk}, {stranger.pk}",
        },
    )
    assert response.status_code == 302
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted(
        m.pk for m in members
    )
    listing = console.get("/console/promotions/coupontemplate/")
    assert listing.status_code == 200


def test_seed_is_idempotent(tenant: Any) -> None:
    from io import StringIO

    from django.core.management.base import OutputWrapper

    from promotions.models import FlashSaleSku
    from promotions.seed import seed

    for _ in range(2):
        SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("80.00"), stock=20)
    out = StringIO()
    seed(tenant=tenant, stdout=OutputWrapper(out))
    seed(tenant=tenant, stdout=OutputWrapper(out))
    assert sorted(Campaign.objects.for_tenant(tenant).values_list("kind", flat=True)) == [
        "flash_sale",
        "full_reduction",
        "gift",
    ]
    assert CouponTemplate.objects.for_tenant(tenant).count() == 3
    assert FlashSaleSku.objects.for_tenant(tenant).get().price == Decimal("48.00")
    assert "promotions: 6 new" in out.getvalue()
    assert "promotions: 0 new" in out.getvalue()
