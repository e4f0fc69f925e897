"""Shopper API of promotions: quote, campaigns, coupons, claim, my coupons; query counts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import Product, Sku
from mall.api.errors import ApplicationError
from promotions.api.serializers import (
    QuoteInputSerializer,
    QuoteOutputSerializer,
    quote_input_parse,
    quote_payload,
)
from promotions.models import CampaignDisplay, Coupon
from promotions.pricing import Problem, quote
from promotions.selectors import CartLine, quote_inputs_load
from promotions.services import campaign_budget_consume, flash_sale_consume
from tests.catalog.factories import (
    CategoryFactory,
    FreightTemplateFactory,
    ProductFactory,
    SkuFactory,
)
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.promotions.factories import (
    CampaignFactory,
    CouponFactory,
    CouponTemplateFactory,
    FlashSaleSkuFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(tenant: Any) -> Any:
    return MemberFactory(tenant=tenant, points=5000)


@pytest.fixture
def client(channel: Any, member: Any) -> Any:
    return shopper_client(channel.app_id, access_token_for(member))


def _sku(tenant: Any, price: str = "100.00", **product: Any) -> Any:
    return SkuFactory(
        product=ProductFactory(tenant=tenant, **product), price=Decimal(price), stock=50
    )


def test_quote_applies_campaign_coupon_points_and_shipping(
    tenant: Any, client: Any, member: Any
) -> None:
    template = FreightTemplateFactory(
        tenant=tenant, first_fee=Decimal("8.00"), free_shipping_threshold=Decimal("500")
    )
    a = _sku(tenant, "100.00", freight_template=template)
    b = _sku(tenant, "59.90", freight_template=template)
    CampaignFactory(tenant=tenant)  # over 199 minus 30
    coupon = CouponFactory(template__tenant=tenant, member=member)  # over 100 minus 20
    address = AddressFactory(tenant=tenant, member=member)
    response = client.post(
        "/api/v1/checkout/quote",
        {
            "lines": [{"sku_id": b.pk, "quantity": 1}, {"sku_id": a.pk, "quantity": 2}],
            "coupon_ids": [coupon.pk],
            "use_points": 1000,
            "fulfillment": "express",
            "address_id": address.pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    # 259.90 - 30 - 20 = 209.90 goods; 10.00 points; shipping 8.00 (1 + 2 pieces, first fee)
    assert body["subtotal"] == "259.90"
    assert body["discount_total"] == "50.00"
    assert body["points_deduction"] == "10.00"
    assert body["points_used"] == 1000
    assert body["shipping_fee"] == "8.00"
    assert body["payable"] == "207.90"
    assert sum(Decimal(line["payable"]) for line in body["lines"]) == Decimal("207.90")
    assert {p["source"] for p in body["promotions"]} == {"campaign", "coupon"}
    assert body["problems"] == []
    assert body["coupon_ids_used"] == [coupon.pk]


def test_quote_reports_problems(tenant: Any, other_tenant: Any, client: Any, member: Any) -> None:
    sku = _sku(tenant, "50.00")
    off_shelf = _sku(tenant, "10.00", status=Product.Status.OFF_SHELF)
    foreign_coupon = CouponFactory(
        template__tenant=other_tenant, member=MemberFactory(tenant=other_tenant)
    )
    others_coupon = CouponFactory(template__tenant=tenant, member=MemberFactory(tenant=tenant))
    small = CouponFactory(template__tenant=tenant, member=member)  # threshold 100
    response = client.post(
        "/api/v1/checkout/quote",
        {
            "lines": [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": off_shelf.pk, "quantity": 1}],
            "coupon_ids": [foreign_coupon.pk, others_coupon.pk, small.pk],
            "fulfillment": "pickup",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert [line["sku_id"] for line in body["lines"]] == [sku.pk]
    problems = {(p["code"], p["coupon_id"] or p["sku_id"]) for p in body["problems"]}
    assert problems == {
        ("sku_unavailable", off_shelf.pk),
        ("coupon_not_found", foreign_coupon.pk),
        ("coupon_not_found", others_coupon.pk),
        ("coupon_threshold_not_met", small.pk),
    }
    assert body["payable"] == "50.00"


def test_quote_foreign_sku_and_address_are_404(
    tenant: Any, other_tenant: Any, client: Any, member: Any
) -> None:
    foreign = _sku(other_tenant)
    response = client.post(
        "/api/v1/checkout/quote", {"lines": [{"sku_id": foreign.pk, "quantity": 1}]}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "sku_not_found"
    mine = _sku(tenant)
    someone_else = AddressFactory(tenant=tenant, member=MemberFactory(tenant=tenant))
    response = client.post(
        "/api/v1/checkout/quote",
        {"lines": [{"sku_id": mine.pk, "quantity": 1}], "address_id": someone_else.pk},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "address_not_found"
    # The address is checked first, also when no SKU of the cart is this shop's.
    for sku in (mine, foreign):
        response = client.post(
            "/api/v1/checkout/quote",
            {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": someone_else.pk},
            format="json",
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "address_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lines": []},
        {"lines": [{"sku_id": 2**63, "quantity": 1}]},
        {"lines": [{"sku_id": 1, "quantity": 1}], "coupon_ids": [2**64]},
        {"lines": [{"sku_id": 1, "quantity": 1}], "address_id": 2**70},
        {"lines": [{"sku_id": 1, "quantity": 0}]},
        {"lines": [{"sku_id": "x", "quantity": 1}]},
        {"lines": [{"sku_id": 1, "quantity": 1}], "use_points": -1},
        {"lines": [{"sku_id": 1, "quantity": 1}], "fulfillment": "teleport"},
    ],
)
def test_quote_bad_input_is_400(client: Any, body: dict) -> None:
    response = client.post("/api/v1/checkout/quote", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_quote_needs_a_member(api: Any) -> None:
    response = api.post(
        "/api/v1/checkout/quote", {"lines": [{"sku_id": 1, "quantity": 1}]}, format="json"
    )
    assert response.status_code in (401, 403)


def test_campaigns_on_this_platform_with_its_display(tenant: Any, api: Any) -> None:
    shown = CampaignFactory(tenant=tenant, name="Double 11", title="Default title")
    CampaignDisplay.objects.create(
        tenant=tenant, campaign=shown, platform="wechat", title="WeChat title", banner=""
    )
    CampaignFactory(tenant=tenant, on_wechat=False)
    CampaignFactory(tenant=tenant, status="cancelled")
    CampaignFactory(
        tenant=tenant,
        ends_at=timezone.now() - timedelta(minutes=1),
        starts_at=timezone.now() - timedelta(days=1),
    )
    response = api.get("/api/v1/campaigns")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(c["id"], c["title"]) for c in results] == [(shown.pk, "WeChat title")]


def test_coupon_claim_flow(tenant: Any, other_tenant: Any, client: Any) -> None:
    template = CouponTemplateFactory(tenant=tenant, total_quantity=5)
    CouponTemplateFactory(tenant=tenant, claim_channel="automation")
    foreign = CouponTemplateFactory(tenant=other_tenant)
    listed = client.get("/api/v1/coupons").json()["results"]
    assert [t["id"] for t in listed] == [template.pk]
    assert listed[0]["remaining"] == 5

    first = client.post(f"/api/v1/coupons/{template.pk}/claim", HTTP_IDEMPOTENCY_KEY="claim-1")
    assert first.status_code == 201
    replay = client.post(f"/api/v1/coupons/{template.pk}/claim", HTTP_IDEMPOTENCY_KEY="claim-1")
    assert replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    again = client.post(f"/api/v1/coupons/{template.pk}/claim")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "coupon_limit_reached"
    assert client.post(f"/api/v1/coupons/{foreign.pk}/claim").status_code == 404
    assert Coupon.objects.filter(template=template).count() == 1

    mine = client.get("/api/v1/me/coupons?status=unused").json()["results"]
    assert [c["id"] for c in mine] == [first.json()["id"]]
    assert client.get("/api/v1/me/coupons?status=used").json()["results"] == []
    assert client.get("/api/v1/me/coupons?status=bogus").status_code == 400


def test_my_coupons_show_expired_before_the_task_runs(
    tenant: Any, client: Any, member: Any
) -> None:
    coupon = CouponFactory(
        template__tenant=tenant,
        member=member,
        valid_from=timezone.now() - timedelta(days=2),
        valid_until=timezone.now() - timedelta(seconds=1),
    )
    expired = client.get("/api/v1/me/coupons?status=expired").json()["results"]
    assert [(c["id"], c["status"]) for c in expired] == [(coupon.pk, "expired")]
    assert client.get("/api/v1/me/coupons?status=unused").json()["results"] == []


def _cart(tenant: Any, count: int) -> list[CartLine]:
    root = CategoryFactory(tenant=tenant)
    child = CategoryFactory(tenant=tenant, parent=root)
    template = FreightTemplateFactory(tenant=tenant, first_fee=Decimal("5"))
    return [
        CartLine(
            sku_id=SkuFactory(
                product=ProductFactory(tenant=tenant, category=child, freight_template=template),
                stock=10,
            ).pk,
            quantity=1,
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("by_id", [False, True], ids=["address", "address_id"])
@pytest.mark.parametrize("count", [1, 20])
def test_quote_inputs_load_in_constant_queries(
    tenant: Any, member: Any, django_assert_num_queries: Any, count: int, by_id: bool
) -> None:
    lines = _cart(tenant, count)
    gift_sku = SkuFactory(product=ProductFactory(tenant=tenant))
    for _ in range(3):
        CampaignFactory(tenant=tenant)
    CampaignFactory(
        tenant=tenant,
        kind="gift",
        rules={
            "threshold": "0",
            "min_quantity": 0,
            "gifts": [{"sku_id": gift_sku.pk, "quantity": 1}],
        },
    )
    FlashSaleSkuFactory(campaign__tenant=tenant, sku_id=lines[0].sku_id)
    coupons = [CouponFactory(template__tenant=tenant, member=member) for _ in range(3)]
    address = AddressFactory(tenant=tenant, member=member)
    load = {
        "tenant": tenant,
        "member": member,
        "platform": "wechat",
        "lines": lines,
        "coupon_ids": [c.pk for c in coupons],
        **({"address_id": address.pk} if by_id else {"address": address}),
    }
    # Cold: SKUs (with gift SKUs, and the flash-sale sold counts and the coupons as
    # subqueries); the snapshot (campaigns + displays + flash-sale rows, 4 scope links,
    # settings, freight templates + rules); category map; 3 coupon template links.
    with django_assert_num_queries(15):
        quote_inputs_load(**load, now=timezone.now())
    # Warm: one statement, the SKUs with the counters, the coupons and (by id) the address's
    # province; the rest comes from the cache.
    with django_assert_num_queries(1):
        loaded = quote_inputs_load(**load, now=timezone.now())
    # The freight template prices the province, read either way.
    assert quote(loaded.inputs).shipping_fee_original == Decimal("5.00")
    assert len(loaded.inputs.lines) == count
    assert all(len(line.category_ids) == 2 for line in loaded.inputs.lines)
    assert loaded.skus[gift_sku.pk].stock == gift_sku.stock
    assert len(loaded.inputs.campaigns) == 5


QUOTE_BODIES = [
    {"lines": [{"sku_id": 1, "quantity": 2}]},
    {"lines": [{"sku_id": 1, "quantity": 2, "addon_campaign_id": 3}], "coupon_ids": [4, 5]},
    {"lines": [{"sku_id": 1, "quantity": 1, "addon_campaign_id": None}], "use_points": 0},
    {"lines": [{"sku_id": 1, "quantity": 1}], "fulfillment": "pickup", "store_id": 2},
    {"lines": [{"sku_id": 1, "quantity": 1}], "address_id": None, "remark": "door"},
    {"lines": [{"sku_id": 1, "quantity": 1}], "from_cart": False, "extra": "ignored"},
    {"lines": [{"sku_id": 1, "quantity": 9999}], "use_points": 100_000_000},
    {"lines": [{"sku_id": "1", "quantity": 1}]},
    {"lines": [{"sku_id": True, "quantity": 1}]},
    {"lines": [{"sku_id": 1, "quantity": 1.0}]},
    {"lines": [{"sku_id": 1, "quantity": 0}]},
    {"lines": [{"sku_id": 1, "quantity": 10000}]},
    {"lines": [{"sku_id": 0, "quantity": 1}]},
    {"lines": []},
    {"lines": [{"sku_id": 1, "quantity": 1}] * 101},
    {"lines": "x"},
    {"lines": [{"sku_id": 1, "quantity": 1}], "coupon_ids": [1] * 11},
    {"lines": [{"sku_id": 1, "quantity": 1}], "coupon_ids": [0]},
    {"lines": [{"sku_id": 1, "quantity": 1}], "use_points": -1},
    {"lines": [{"sku_id": 1, "quantity": 1}], "fulfillment": "drone"},
    {"lines": [{"sku_id": 1, "quantity": 1}], "from_cart": True},
    {"lines": [{"sku_id": 1, "quantity": 1}], "address_id": "3"},
    {"lines": [{"sku_id": 1, "quantity": 1}], "remark": " padded "},
    {"lines": [{"sku_id": 1, "quantity": 1}], "remark": "x" * 201},
    [],
    {},
]


@pytest.mark.parametrize("body", QUOTE_BODIES)
def test_quote_fast_parse_agrees_with_the_serializer(body: Any) -> None:
    parsed = quote_input_parse(body)
    serializer = QuoteInputSerializer(data=body)
    if parsed is None:  # the view falls back to the serializer: nothing to compare
        return
    assert serializer.is_valid(), serializer.errors
    expected = serializer.validated_data
    assert parsed == {
        **expected,
        "lines": [dict(line) for line in expected["lines"]],
    }


def test_quote_fast_parse_takes_the_common_case() -> None:
    assert all(quote_input_parse(body) is not None for body in QUOTE_BODIES[:7])
    assert all(quote_input_parse(body) is None for body in QUOTE_BODIES[7:])


def test_quote_payload_matches_the_documented_serializer(
    tenant: Any, client: Any, member: Any
) -> None:
    a, b = _sku(tenant, "100.00"), _sku(tenant, "59.90")
    CampaignFactory(tenant=tenant)
    FlashSaleSkuFactory(campaign__tenant=tenant, sku=b, price=Decimal("39.90"))
    coupon = CouponFactory(template__tenant=tenant, member=member)
    loaded = quote_inputs_load(
        tenant=tenant,
        member=member,
        platform="wechat",
        lines=[CartLine(a.pk, 2), CartLine(b.pk, 1)],
        coupon_ids=[coupon.pk, 999_999],
        points_to_use=100,
        now=timezone.now(),
    )
    result = quote(loaded.inputs)
    problems = [*loaded.problems, *result.problems, Problem("address_required", "Choose.")]
    assert result.promotions and result.lines[1].breakdown
    payload = asdict(result)
    payload["problems"] = [asdict(p) for p in problems]
    payload["coupon_ids_used"] = list(result.used_coupon_ids)
    assert quote_payload(result, problems) == QuoteOutputSerializer(payload).data


def test_quote_reads_counters_fresh_while_the_snapshot_is_cached(
    tenant: Any, client: Any, member: Any
) -> None:
    a, b = _sku(tenant, "200.00"), _sku(tenant, "59.90")
    reduction = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))  # over 199 minus 30
    flash = FlashSaleSkuFactory(campaign__tenant=tenant, sku=b, price=Decimal("39.90"), quota=3)
    body = {"lines": [{"sku_id": a.pk, "quantity": 1}, {"sku_id": b.pk, "quantity": 2}]}

    def quoted() -> tuple[str, set[str]]:
        answer = client.post("/api/v1/checkout/quote", body, format="json").json()
        return answer["payable"], {p["code"] for p in answer["problems"]}

    assert quoted() == ("249.80", {"address_required"})  # 200 - 30 + 2 x 39.90
    flash_sale_consume(tenant=tenant, campaign_id=flash.campaign_id, sku_id=b.pk, quantity=2)
    assert campaign_budget_consume(tenant=tenant, campaign_id=reduction.pk, amount=Decimal("80"))
    payable, codes = quoted()  # guarded UPDATEs only: no signal, the snapshot stays cached
    assert payable == "319.80"  # 200 + 2 x 59.90: quota 1 left < 2, budget 20 left < 30
    assert {"flash_sale_sold_out", "campaign_budget_exhausted"} <= codes


def test_quote_gives_a_gift_only_while_its_stock_lasts_with_the_snapshot_cached(
    tenant: Any, client: Any
) -> None:
    item, gift = _sku(tenant, "100.00"), _sku(tenant, "5.00")
    Sku.objects.filter(pk=gift.pk).update(stock=1)
    CampaignFactory(
        tenant=tenant,
        kind="gift",
        rules={"threshold": "50", "min_quantity": 0, "gifts": [{"sku_id": gift.pk, "quantity": 1}]},
    )
    body = {"lines": [{"sku_id": item.pk, "quantity": 1}], "fulfillment": "pickup"}

    first = client.post("/api/v1/checkout/quote", body, format="json").json()
    Sku.objects.filter(pk=gift.pk).update(stock=0)  # sold elsewhere; no campaign change
    second = client.post("/api/v1/checkout/quote", body, format="json").json()

    assert [g["sku_id"] for g in first["gifts"]] == [gift.pk]
    assert second["gifts"] == []
    assert "gift_out_of_stock" in {p["code"] for p in second["problems"]}


def test_quote_inputs_read_the_chosen_coupons_exactly(
    tenant: Any, other_tenant: Any, member: Any
) -> None:
    """The coupons come back from the SKUs' statement with the values the ORM holds: exact
    amounts, timestamps to the microsecond, status; others' and foreign ones are problems."""
    [line] = _cart(tenant, 1)
    percent = CouponFactory(
        template=CouponTemplateFactory(
            tenant=tenant,
            kind="percent",
            amount=None,
            percent_off=Decimal("12.50"),
            max_discount=Decimal("33.33"),
            threshold=Decimal("0.00"),
        ),
        member=member,
        valid_from=timezone.now() + timedelta(days=2, microseconds=123457),
    )
    used = CouponFactory(template__tenant=tenant, member=member, status="used")
    others = CouponFactory(template__tenant=tenant, member=MemberFactory(tenant=tenant))
    foreign = CouponFactory(
        template__tenant=other_tenant, member=MemberFactory(tenant=other_tenant)
    )
    wanted = [percent.pk, used.pk, others.pk, foreign.pk]

    loaded = quote_inputs_load(
        tenant=tenant,
        member=member,
        platform="wechat",
        lines=[line],
        coupon_ids=wanted,
        now=timezone.now(),
    )

    by_id = {c.id: c for c in loaded.inputs.coupons}
    assert sorted(by_id) == sorted([percent.pk, used.pk])
    got = by_id[percent.pk]
    percent.refresh_from_db()
    assert (got.kind, got.percent_off, got.max_discount, got.threshold, got.amount) == (
        "percent", Decimal("12.50"), Decimal("33.33"), Decimal("0.00"), None,
    )  # fmt: skip
    assert (got.valid_from, got.valid_until) == (percent.valid_from, percent.valid_until)
    assert (by_id[used.pk].status, by_id[used.pk].amount) == ("used", Decimal("20.00"))
    not_found = {p.coupon_id for p in loaded.problems if p.code == "coupon_not_found"}
    assert not_found == {others.pk, foreign.pk}
    result = quote(loaded.inputs)
    codes = {(p.code, p.coupon_id) for p in result.problems}
    assert ("coupon_not_started", percent.pk) in codes and ("coupon_used", used.pk) in codes


def test_quote_inputs_without_any_sku_of_the_shop_still_check_the_address_first(
    tenant: Any, other_tenant: Any, member: Any
) -> None:
    foreign = _sku(other_tenant)
    mine = AddressFactory(tenant=tenant, member=member)
    coupon = CouponFactory(template__tenant=tenant, member=member)
    load = {"tenant": tenant, "member": member, "platform": "wechat", "now": timezone.now()}
    lines = [CartLine(sku_id=foreign.pk, quantity=1)]
    with pytest.raises(ApplicationError) as raised:
        quote_inputs_load(**load, lines=lines, address_id=mine.pk, coupon_ids=[coupon.pk])
    assert raised.value.code == "sku_not_found"
    with pytest.raises(ApplicationError) as raised:
        quote_inputs_load(**load, lines=lines, address_id=mine.pk + 1000, coupon_ids=[coupon.pk])
    assert raised.value.code == "address_not_found"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"lines": [{"sku_id": SKU, "quantity": 2}], "fulfillment": "pickup"}', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 2}]}', "application/json; charset=UTF-8"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 2}]}', "application/json; charset=latin-1"),
        (b'\xef\xbb\xbf{"lines": [{"sku_id": SKU, "quantity": 1}]}', "json"),
        (b'{"lines": [{"sku_id": 123456789012345678901234567890, "quantity": 1}]}', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 1e400}]}', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": NaN}]}', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 1}], "use_points": 1.0}', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 1}]} trailing', "json"),
        (b'{"lines": [{"sku_id": SKU, "quantity": 1}]}', "text/plain"),
        (b"[]", "json"),
    ],
)
def test_quote_fast_body_path_answers_exactly_as_drf(
    tenant: Any, client: Any, monkeypatch: Any, raw: bytes, content_type: str
) -> None:
    from promotions.api import views

    sku = _sku(tenant, "10.00")
    body = raw.replace(b"SKU", str(sku.pk).encode())
    kind = "application/json" if content_type == "json" else content_type

    def post() -> Any:
        return client.generic("POST", "/api/v1/checkout/quote", body, content_type=kind)

    fast = post()
    monkeypatch.setattr(views, "_quote_body_fast", lambda request: None)
    drf = post()

    assert (fast.status_code, fast.content) == (drf.status_code, drf.content)
    assert fast.status_code in (200, 400, 415)  # an id beyond bigint is a 400 (IdField)
    assert fast["Content-Type"] == drf["Content-Type"]
