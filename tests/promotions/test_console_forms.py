"""Console marketing forms: campaign rules and coupon templates typed, never JSON.

Each test posts the console form as a merchant's browser would (Django test client logged in
as staff) and checks what the shop then does (a quote, the stored rows) or what the merchant
reads (the error naming the tier or row)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mall.tenancy.models import Staff
from promotions.models import Campaign, CouponTemplate, FlashSaleSku
from promotions.rules import validate_rules
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.factories import StaffFactory, UserFactory
from tests.members.factories import MemberFactory, access_token_for
from tests.promotions.factories import CampaignFactory, FlashSaleSkuFactory

pytestmark = pytest.mark.django_db

ADD = "/console/promotions/campaign/add/"


def _staff_client(tenant: Any, role: str) -> Client:
    staff = StaffFactory(tenant=tenant, user=UserFactory(), role=role)
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.fixture
def owner_console(tenant: Any) -> Client:
    return _staff_client(tenant, Staff.Role.OWNER)


@pytest.fixture
def operator_console(tenant: Any) -> Client:
    return _staff_client(tenant, Staff.Role.OPERATOR)


def _when(moment: Any, name: str) -> dict[str, str]:
    local = timezone.localtime(moment)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def _rows(name: str, rows: list[dict[str, Any]]) -> dict[str, str]:
    data = {f"{name}-TOTAL_FORMS": str(len(rows))}
    for index, row in enumerate(rows):
        data.update({f"{name}-{index}-{key}": str(value) for key, value in row.items()})
    return data


def _campaign(kind: str, **overrides: Any) -> dict[str, Any]:
    """The campaign form as the console posts it: no JSON anywhere."""
    now = timezone.now()
    data: dict[str, Any] = {
        "name": f"A {kind}",
        "kind": kind,
        "status": "active",
        **_when(now - timedelta(hours=1), "starts_at"),
        **_when(now + timedelta(days=2), "ends_at"),
        "priority": "0",
        "all_items": "on",
        "on_wechat": "on",
        "on_alipay": "on",
        "on_h5": "on",
        "stacking_default": "on",
        "fr_mode": "tiers",
        "flash_skus-TOTAL_FORMS": "0",
        "flash_skus-INITIAL_FORMS": "0",
        "displays-TOTAL_FORMS": "0",
        "displays-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def _errors(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.context["errors"]) + str(
        [fs.non_form_errors() for fs in response.context["inline_admin_formsets"]]
    )


def _sku(tenant: Any, price: str, stock: int = 50) -> Any:
    return SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal(price), stock=stock)


def _quote(channel: Any, tenant: Any, lines: list[tuple[Any, int]]) -> dict[str, Any]:
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    response = client.post(
        "/api/v1/checkout/quote",
        {
            "lines": [{"sku_id": sku.pk, "quantity": qty} for sku, qty in lines],
            "fulfillment": "pickup",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


# --- Full reduction --------------------------------------------------------------------------


def test_full_reduction_with_two_tiers_by_form_applies_in_a_quote(
    tenant: Any, channel: Any, owner_console: Client
) -> None:
    response = owner_console.post(
        ADD,
        _campaign(
            "full_reduction",
            **_rows(
                "fr_tiers",
                [{"threshold": "100", "reduction": "10"}, {"threshold": "200", "reduction": "30"}],
            ),
        ),
    )
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get(tenant=tenant)
    assert campaign.rules["tiers"] == [
        {"threshold": "100", "reduction": "10"},
        {"threshold": "200", "reduction": "30"},
    ]
    assert campaign.stacks_with is None

    sku = _sku(tenant, "75.00")
    below = _quote(channel, tenant, [(sku, 1)])  # 75: no tier
    assert below["discount_total"] == "0.00"
    first = _quote(channel, tenant, [(sku, 2)])  # 150: spend 100, 10 off
    assert (first["discount_total"], first["payable"]) == ("10.00", "140.00")
    second = _quote(channel, tenant, [(sku, 3)])  # 225: spend 200, 30 off
    assert (second["discount_total"], second["payable"]) == ("30.00", "195.00")
    assert [(p["ref_id"], p["amount"]) for p in second["promotions"]] == [(campaign.pk, "30.00")]


def test_tiers_out_of_order_are_refused_naming_the_tier(owner_console: Client) -> None:
    response = owner_console.post(
        ADD,
        _campaign(
            "full_reduction",
            **_rows(
                "fr_tiers",
                [{"threshold": "200", "reduction": "30"}, {"threshold": "100", "reduction": "10"}],
            ),
        ),
    )
    form = response.context["adminform"].form
    assert form.errors["fr_tiers"] == ["Tier 2: threshold must be greater than tier 1's (200)."]
    response = owner_console.post(
        ADD,
        _campaign(
            "full_reduction",
            **_rows(
                "fr_tiers",
                [{"threshold": "100", "reduction": "30"}, {"threshold": "200", "reduction": "20"}],
            ),
        ),
    )
    form = response.context["adminform"].form
    assert form.errors["fr_tiers"] == ["Tier 2: reduction must be greater than tier 1's (30)."]
    assert not Campaign.objects.exists()


def test_a_bad_cell_is_named_by_row_and_column_and_the_typed_values_stay(
    owner_console: Client,
) -> None:
    response = owner_console.post(
        ADD,
        _campaign(
            "full_reduction",
            **_rows(
                "fr_tiers",
                [{"threshold": "100", "reduction": "10"}, {"threshold": "lots", "reduction": "30"}],
            ),
        ),
    )
    form = response.context["adminform"].form
    assert form.errors["fr_tiers"] == ["Tier 2, Spend at least: Enter a number."]
    html = response.content.decode()
    assert 'name="fr_tiers-1-threshold" value="lots"' in html
    assert not Campaign.objects.exists()


def test_a_reduction_above_its_threshold_and_no_tiers_are_refused(owner_console: Client) -> None:
    response = owner_console.post(
        ADD,
        _campaign("full_reduction", **_rows("fr_tiers", [{"threshold": "50", "reduction": "60"}])),
    )
    assert response.context["adminform"].form.errors["fr_tiers"] == [
        "Tier 1: the reduction cannot exceed the threshold (50)."
    ]
    response = owner_console.post(ADD, _campaign("full_reduction"))
    assert response.context["adminform"].form.errors["fr_tiers"] == [
        "Give tiers, or repeat every with repeat reduction."
    ]
    assert not Campaign.objects.exists()


def test_repeating_full_reduction_with_a_cap(tenant: Any, owner_console: Client) -> None:
    response = owner_console.post(
        ADD,
        _campaign(
            "full_reduction",
            fr_mode="repeat",
            fr_repeat_every="100",
            fr_repeat_reduction="10",
            fr_cap="25",
        ),
    )
    assert response.status_code == 302, _errors(response)
    assert Campaign.objects.get(tenant=tenant).rules == {
        "tiers": [],
        "repeat_every": "100",
        "repeat_reduction": "10",
        "cap": "25",
    }


# --- Flash sale, gift, add-on, member price, discount, free shipping ------------------------


def test_flash_sale_with_sku_rows(tenant: Any, operator_console: Client) -> None:
    a, b = _sku(tenant, "50.00"), _sku(tenant, "80.00")
    data = _campaign("flash_sale", status="scheduled")
    data.update(
        {
            "flash_skus-TOTAL_FORMS": "2",
            "flash_skus-0-sku": str(a.pk),
            "flash_skus-0-price": "19.90",
            "flash_skus-0-quota": "10",
            "flash_skus-0-per_member_limit": "1",
            "flash_skus-1-sku": str(b.pk),
            "flash_skus-1-price": "39.90",
            "flash_skus-1-quota": "5",
            "flash_skus-1-per_member_limit": "0",
        }
    )
    response = operator_console.post(ADD, data)
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get(tenant=tenant)
    assert campaign.rules == {}
    rows = FlashSaleSku.objects.filter(campaign=campaign).order_by("sku_id")
    assert [(r.sku_id, r.price, r.quota, r.per_member_limit) for r in rows] == [
        (a.pk, Decimal("19.90"), 10, 1),
        (b.pk, Decimal("39.90"), 5, 0),
    ]


def test_gift_campaign_with_a_picked_gift_sku(
    tenant: Any, other_tenant: Any, channel: Any, operator_console: Client
) -> None:
    item, gift = _sku(tenant, "80.00"), _sku(tenant, "5.00", stock=3)
    foreign = _sku(other_tenant, "5.00")
    data = _campaign(
        "gift",
        gift_threshold="150",
        **_rows("gift_items", [{"sku": foreign.pk, "quantity": 1}]),
    )
    response = operator_console.post(ADD, data)
    assert response.context["adminform"].form.errors["gift_items"] == [
        "Gift 1, SKU: Select a valid choice. That choice is not one of the available choices."
    ]
    data.update(_rows("gift_items", [{"sku": gift.pk, "quantity": 2}]))
    response = operator_console.post(ADD, data)
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get(tenant=tenant)
    assert campaign.rules == {
        "threshold": "150",
        "min_quantity": 0,
        "gifts": [{"sku_id": gift.pk, "quantity": 2}],
    }
    body = _quote(channel, tenant, [(item, 2)])  # 160 >= 150
    assert [(g["sku_id"], g["quantity"]) for g in body["gifts"]] == [(gift.pk, 2)]


def test_the_same_gift_sku_twice_is_refused_naming_the_row(
    tenant: Any, operator_console: Client
) -> None:
    gift = _sku(tenant, "5.00")
    response = operator_console.post(
        ADD,
        _campaign(
            "gift",
            **_rows(
                "gift_items", [{"sku": gift.pk, "quantity": 1}, {"sku": gift.pk, "quantity": 1}]
            ),
        ),
    )
    assert response.context["adminform"].form.errors["gift_items"] == [
        "Gift 2: this SKU is already listed above."
    ]


def test_addon_member_price_discount_and_free_shipping_by_form(
    tenant: Any, owner_console: Client
) -> None:
    sku = _sku(tenant, "29.90")
    forms = {
        "addon": _campaign(
            "addon",
            addon_threshold="99",
            **_rows("addon_offers", [{"sku": sku.pk, "price": "9.90", "max_quantity": 2}]),
        ),
        "member_price": _campaign(
            "member_price",
            member_percent_off="5",
            **_rows("member_prices", [{"sku": sku.pk, "price": "25.00"}]),
        ),
        "discount": _campaign(
            "discount",
            **_rows(
                "discount_tiers",
                [
                    {"percent_off": "10", "min_quantity": "2", "min_amount": ""},
                    {"percent_off": "15", "min_quantity": "", "min_amount": "300"},
                ],
            ),
        ),
        "free_shipping": _campaign(
            "free_shipping", free_shipping_threshold="59", free_shipping_min_quantity="2"
        ),
    }
    for data in forms.values():
        response = owner_console.post(ADD, data)
        assert response.status_code == 302, _errors(response)
    rules = dict(Campaign.objects.filter(tenant=tenant).values_list("kind", "rules"))
    assert rules == {
        "addon": {
            "threshold": "99",
            "offers": [{"sku_id": sku.pk, "price": "9.90", "max_quantity": 2}],
        },
        "member_price": {"rate": "0.95", "prices": [{"sku_id": sku.pk, "price": "25.00"}]},
        "discount": {
            "tiers": [
                {"rate": "0.90", "min_quantity": 2, "min_amount": "0"},
                {"rate": "0.85", "min_quantity": 0, "min_amount": "300"},
            ]
        },
        "free_shipping": {"threshold": "59", "min_quantity": 2},
    }


def test_stacking_is_chosen_by_checkboxes(tenant: Any, owner_console: Client) -> None:
    data = _campaign(
        "full_reduction",
        **_rows("fr_tiers", [{"threshold": "100", "reduction": "10"}]),
        stacking=["flash_sale", "member_price"],
    )
    del data["stacking_default"]
    response = owner_console.post(ADD, data)
    assert response.status_code == 302, _errors(response)
    assert Campaign.objects.get(tenant=tenant).stacks_with == ["flash_sale", "member_price"]


def test_sku_search_offers_only_the_tenants_skus(
    tenant: Any, other_tenant: Any, operator_console: Client
) -> None:
    mine = SkuFactory(product=ProductFactory(tenant=tenant, title="Green tea"), code="TEA-1")
    SkuFactory(product=ProductFactory(tenant=other_tenant, title="Green tea"), code="TEA-2")
    response = operator_console.get(
        "/console/autocomplete/",
        {
            "app_label": "promotions",
            "model_name": "flashsalesku",
            "field_name": "sku",
            "term": "tea",
        },
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(mine.pk)]


# --- Round trip: campaigns stored as JSON open in the typed form -----------------------------


class _FormValues(HTMLParser):
    """The values a browser would submit from a rendered form (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_template = 0

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._in_template += 1
        if self._in_template or ("name" not in a and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._add(a["name"], "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._in_template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and not self._in_template:
            self.data[self._textarea][-1] += data


def _resubmit(client: Client, url: str) -> Any:
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormValues()
    parser.feed(page.content.decode())
    data = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    data["_save"] = "Save"
    return page, client.post(url, data)


@pytest.mark.parametrize(
    ("kind", "rules", "shown"),
    [
        (
            "full_reduction",
            {
                "tiers": [
                    {"threshold": "99.00", "reduction": "10.00"},
                    {"threshold": "199.00", "reduction": "30.00"},
                ],
                "cap": "25.00",
            },
            ['name="fr_tiers-1-threshold" value="199.00"', 'name="fr_cap" value="25.00"'],
        ),
        (
            "full_reduction",
            {"repeat_every": "100", "repeat_reduction": "10"},
            ['name="fr_repeat_every" value="100"', 'value="repeat"'],
        ),
        (
            "discount",
            {"tiers": [{"rate": "0.85", "min_quantity": 2, "min_amount": "0"}]},
            ['name="discount_tiers-0-percent_off" value="15"'],
        ),
        (
            "gift",
            {"threshold": "150", "gifts": [{"sku_id": "SKU", "quantity": 2}]},
            ['name="gift_threshold" value="150"', 'name="gift_items-0-quantity" value="2"'],
        ),
        (
            "addon",
            {"threshold": "99", "offers": [{"sku_id": "SKU", "price": "9.90", "max_quantity": 1}]},
            ['name="addon_offers-0-price" value="9.90"'],
        ),
        (
            "member_price",
            {"rate": "0.95", "prices": [{"sku_id": "SKU", "price": "88.00"}]},
            ['name="member_percent_off" value="5"', 'name="member_prices-0-price" value="88.00"'],
        ),
        (
            "free_shipping",
            {"threshold": "59", "min_quantity": 0},
            ['name="free_shipping_threshold" value="59"'],
        ),
    ],
)
def test_a_stored_campaign_opens_typed_and_saves_unchanged(
    tenant: Any, owner_console: Client, kind: str, rules: dict[str, Any], shown: list[str]
) -> None:
    sku = _sku(tenant, "120.00")
    for key in ("gifts", "offers", "prices"):
        for entry in rules.get(key, []):
            entry["sku_id"] = sku.pk
    campaign = CampaignFactory(
        tenant=tenant,
        kind=kind,
        rules=validate_rules(kind, rules),
        stacks_with=["tier_price"] if kind == "discount" else None,
    )
    stored = dict(campaign.rules)
    url = f"/console/promotions/campaign/{campaign.pk}/change/"
    page, response = _resubmit(owner_console, url)
    html = page.content.decode()
    for fragment in shown:
        assert fragment in html
    assert 'name="rules"' not in html and 'name="stacks_with"' not in html
    if "sku_id" in str(rules):
        assert f'<option value="{sku.pk}" selected>{sku.code}</option>' in html
    assert response.status_code == 302, _errors(response)
    campaign.refresh_from_db()
    assert campaign.rules == stored
    assert campaign.stacks_with == (["tier_price"] if kind == "discount" else None)


def test_a_flash_sale_opens_with_its_sku_rows(tenant: Any, owner_console: Client) -> None:
    sku = _sku(tenant, "50.00")
    row = FlashSaleSkuFactory(campaign__tenant=tenant, sku=sku, price=Decimal("19.90"), quota=7)
    page, response = _resubmit(
        owner_console, f"/console/promotions/campaign/{row.campaign_id}/change/"
    )
    assert 'name="flash_skus-0-price" value="19.90"' in page.content.decode()
    assert response.status_code == 302, _errors(response)
    row.refresh_from_db()
    assert (row.price, row.quota) == (Decimal("19.90"), 7)


# --- Coupon templates ---------------------------------------------------------------------------


def test_coupon_template_created_through_its_form(tenant: Any, operator_console: Client) -> None:
    now = timezone.now()
    product = ProductFactory(tenant=tenant)
    response = operator_console.post(
        "/console/promotions/coupontemplate/add/",
        {
            "name": "Over 100, 15 off",
            "description": "",
            "kind": "threshold",
            "amount": "15",
            "threshold": "100",
            "scope_type": "products",
            "products": [str(product.pk)],
            "total_quantity": "500",
            "per_member_limit": "2",
            "validity_type": "relative",
            "valid_days": "7",
            "claim_channel": "public",
            **_when(now, "claim_starts_at"),
            **_when(now + timedelta(days=10), "claim_ends_at"),
            "is_active": "on",
        },
    )
    assert response.status_code == 302, _errors(response)
    template = CouponTemplate.objects.get(tenant=tenant)
    assert (template.kind, template.amount, template.threshold, template.valid_days) == (
        "threshold",
        Decimal("15.00"),
        Decimal("100.00"),
        7,
    )
    assert list(template.products.all()) == [product]


def test_coupon_template_error_names_the_field(operator_console: Client) -> None:
    response = operator_console.post(
        "/console/promotions/coupontemplate/add/",
        {
            "name": "Broken",
            "kind": "threshold",
            "amount": "30",
            "threshold": "20",
            "scope_type": "all",
            "total_quantity": "10",
            "per_member_limit": "1",
            "validity_type": "relative",
            "valid_days": "7",
            "claim_channel": "public",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amount"] == [
        "The amount off cannot exceed the threshold."
    ]
    assert not CouponTemplate.objects.exists()
