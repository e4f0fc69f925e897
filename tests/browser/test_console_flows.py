"""The merchant console clicked through in Chromium (issue 11's browser acceptance): logging in
and the role's menu, the dashboard's charts, the product editor, shipping (whole and partial),
an after-sale refunded through the sandbox gateway, a two-tier full reduction used by a quote,
and the language switch. Each step writes a screenshot (``shot``); each test checks both what
the page shows and what the database holds.

The data each test needs is made with the services and factories (orders placed and paid the
way ``tests/orders`` does); everything the merchant does is clicks and typing in the page.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import Product, Sku, StockMovement
from mall.tenancy.models import Staff
from orders import services
from orders.models import AfterSale, Order, Shipment
from payments.models import Refund
from promotions.models import Campaign
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory, StaffFactory, TenantFactory, UserFactory
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.orders.conftest import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-123"
ALL_GROUPS = ["概况", "商品", "订单", "营销", "会员", "分销", "财务", "设置"]


# --- Helpers -----------------------------------------------------------------------------------


def _shop() -> Any:
    return TenantFactory(slug="browser-shop", name="Browser Shop")


def _staff(tenant: Any, role: str) -> Staff:
    user = UserFactory(username=f"{role}@browser.local", email=f"{role}@browser.local")
    user.set_password(PASSWORD)
    user.save()
    return StaffFactory(tenant=tenant, user=user, role=role)


def _login(page: Any, base: str, staff: Staff, shot: Any) -> None:
    """Log in through the console's login form, as a merchant does."""
    page.goto(f"{base}/console/")
    page.wait_for_selector("input[name=username]")
    shot(page, f"login form ({staff.role})")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[type=submit]")
    page.wait_for_selector("#nav-sidebar-apps")


def _menu_groups(page: Any) -> list[str]:
    titles = page.locator("#nav-sidebar-apps h2:visible").all_text_contents()
    return [title.strip() for title in titles]


def _submit(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state()


def _looks_like_a_button(page: Any, selector: str) -> bool:
    """A filled background or a border: not bare text a merchant would not think to click."""
    style = page.eval_on_selector(
        selector,
        "e => { const s = getComputedStyle(e);"
        " return [s.backgroundColor, s.borderTopWidth, s.borderTopStyle]; }",
    )
    background, border_width, border_style = style
    filled = background not in ("rgba(0, 0, 0, 0)", "transparent")
    return filled or (border_style != "none" and border_width != "0px")


def _overlap(page: Any, first: Any, second: Any) -> bool:
    a, b = first.bounding_box(), second.bounding_box()
    assert a is not None and b is not None
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def _messages(page: Any) -> str:
    return page.locator("body").inner_text()


def _place_paid(tenant: Any, lines: list[tuple[Sku, int]]) -> Order:
    """A paid express order, placed and paid through the order services."""
    channel = ChannelFactory(tenant=tenant)
    member = MemberFactory(tenant=tenant)
    address = AddressFactory(tenant=tenant, member=member)
    order = services.order_place(
        tenant=tenant,
        member=member,
        channel=channel,
        lines=[services.CheckoutLine(sku.pk, quantity) for sku, quantity in lines],
        address_id=address.pk,
    )
    return pay(order)


def _sku(tenant: Any, title: str, price: str, stock: int = 20) -> Sku:
    return SkuFactory(
        product=ProductFactory(tenant=tenant, title=title), price=Decimal(price), stock=stock
    )


# --- 1. Login and the role's menu ---------------------------------------------------------------


def test_owner_sees_the_full_menu_and_service_only_its_entries(
    live_server: Any, browser: Any, page: Any, shot: Any
) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    service = _staff(tenant, Staff.Role.SERVICE)

    _login(page, live_server.url, owner, shot)
    shot(page, "owner dashboard and menu")
    assert _menu_groups(page) == ALL_GROUPS
    sidebar = page.locator("#nav-sidebar-apps")
    for entry in ("/console/payments/payment/", "/console/orders/order/", "/console/settings/"):
        if entry == "/console/settings/":
            continue
        assert sidebar.locator(f'a[href="{entry}"]').count() == 1
    assert "Browser Shop" in page.locator("#console-tenant").inner_text()
    assert page.js_errors == []

    other = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    try:
        service_page = other.new_page()
        _login(service_page, live_server.url, service, shot)
        shot(service_page, "service dashboard and menu")
        groups = _menu_groups(service_page)
        assert groups == ["概况", "商品", "订单", "营销", "会员", "分销"]
        service_sidebar = service_page.locator("#nav-sidebar-apps")
        assert service_sidebar.locator('a[href="/console/payments/payment/"]').count() == 0
        assert service_sidebar.locator('a[href="/console/orders/aftersale/"]').count() == 1
        # What the menu hides answers 403 when typed in.
        response = service_page.goto(f"{live_server.url}/console/payments/payment/")
        assert response is not None and response.status == 403
        shot(service_page, "service refused finance page")
    finally:
        other.close()


# --- 2. Dashboard charts ------------------------------------------------------------------------


def test_dashboard_renders_its_charts_without_javascript_errors(
    live_server: Any, page: Any, shot: Any
) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    order = _place_paid(tenant, [(_sku(tenant, "Tea cup", "88.00"), 2)])

    _login(page, live_server.url, owner, shot)
    page.wait_for_selector("canvas")
    charts = page.locator("canvas")
    assert charts.count() >= 5  # by day, by platform, top products, campaigns, funnel
    # Chart.js drew them: each canvas has a size.
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
    shot(page, "dashboard with charts")
    body = page.locator("#content").inner_text()
    assert "¥176.00" in body  # today's paid amount (GMV)
    assert order.paid_amount == Decimal("176.00")
    # Count axes tick at whole numbers (one order must not show 0.2, 0.4 ... ticks); amount
    # axes keep Chart.js's steps.
    axes = page.evaluate(_AXES_JS)
    count_axes = [axis for axis in axes if not axis["money"]]
    assert count_axes and any(axis["money"] for axis in axes)
    for axis in count_axes:
        assert axis["precision"] == 0, axis
        assert all(float(value).is_integer() for value in axis["ticks"]), axis
    for axis in (axis for axis in axes if axis["money"]):
        assert axis["precision"] is None, axis
    _check_lower_blocks(page)
    page.locator("#dashboard-tenant").scroll_into_view_if_needed()
    shot(page, "dashboard shop today channels zh-Hans")
    assert page.locator("#dashboard-today h2").inner_text().startswith("今日")

    _switch_language(page, "English")
    page.wait_for_selector("canvas")
    _check_lower_blocks(page)
    shot(page, "dashboard shop today channels English")
    assert page.locator("#dashboard-today h2").inner_text().startswith("Today")
    assert page.locator("#dashboard-channels thead").inner_text().split() == [
        "Platform",
        "Name",
        "App",
        "id",
        "Sandbox",
        "Active",
    ]
    assert page.js_errors == []


# Each chart's value axes: whether they carry amounts, their tick precision and tick values.
_AXES_JS = """() => Array.from(document.querySelectorAll("canvas[data-chart-config]"))
.flatMap(c => {
  const chart = window.Chart.getChart(c);
  return chart.data.datasets.map(d => {
    const id = d.yAxisID && chart.options.indexAxis !== "y" ? d.yAxisID : d.xAxisID;
    const scale = chart.scales[id];
    return {chart: c.getAttribute("data-chart-config"), axis: id, money: !!d.money,
            precision: scale.options.ticks.precision ?? null,
            ticks: scale.ticks.map(t => t.value)};
  });
})"""


def _check_lower_blocks(page: Any) -> None:
    """The shop, today and channels panels look like unfold cards: a bordered panel, a bold
    title apart from the rows, and each row's label apart from its value (they had run together
    as "经营模式B2C（单商户）")."""
    for block in ("#dashboard-tenant", "#dashboard-today", "#dashboard-channels"):
        panel = page.locator(block)
        style = panel.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.borderTopWidth, s.borderTopStyle, s.borderRadius]; }"
        )
        assert style[0] != "0px" and style[1] == "solid" and style[2] != "0px", (block, style)
        title = panel.locator("h2")
        weight = title.evaluate("e => getComputedStyle(e).fontWeight")
        assert int(weight) >= 600, (block, weight)
        title_box = title.bounding_box()
        first_row = panel.locator("tr, dl > div").first.bounding_box()
        assert title_box and first_row
        assert first_row["y"] >= title_box["y"] + title_box["height"] + 8
    label = _text_box(page.locator("#dashboard-tenant tbody th").first)
    value = _text_box(page.locator("#dashboard-tenant tbody td").first)
    assert value["x"] - (label["x"] + label["width"]) >= 16, (label, value)
    counter_label = _text_box(page.locator("#dashboard-today dt").first)
    counter_value = _text_box(page.locator("#dashboard-today dd").first)
    assert counter_value["y"] >= counter_label["y"] + counter_label["height"]
    headers = page.locator("#dashboard-channels thead th")
    boxes = [_text_box(headers.nth(i)) for i in range(headers.count())]
    for left, right in itertools.pairwise(boxes):
        assert right["x"] - (left["x"] + left["width"]) >= 12, (left, right)


def _text_box(locator: Any) -> dict[str, float]:
    """Where an element's text is drawn (not its cell, which padding may widen)."""
    return locator.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " const b = r.getBoundingClientRect();"
        " return {x: b.x, y: b.y, width: b.width, height: b.height}; }"
    )


# --- 3. Product editor ----------------------------------------------------------------------------


def _add_spec(page: Any, index: int, name: str, values: list[str]) -> None:
    page.click("[data-spec-add-row]")
    row = page.locator(".spec-editor-rows .spec-editor-row").nth(index)
    row.locator(".spec-editor-name").fill(name)
    for position, value in enumerate(values):
        if position:
            row.locator("[data-spec-add-value]").click()
        row.locator(".spec-editor-value input").nth(position).fill(value)


def test_product_with_two_specs_gets_four_skus_priced_stocked_and_on_sale(
    live_server: Any, page: Any, shot: Any
) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    _login(page, live_server.url, owner, shot)

    page.click('#nav-sidebar-apps a[href="/console/catalog/product/"]')
    page.wait_for_url("**/console/catalog/product/")
    shot(page, "product list")
    page.goto(f"{live_server.url}/console/catalog/product/add/")
    page.fill("input[name=ref]", "TEE")
    page.fill("input[name=title]", "Browser tee")
    page.select_option("select[name=status]", "draft")
    _add_spec(page, 0, "颜色", ["红", "蓝"])
    _add_spec(page, 1, "尺码", ["S", "M"])
    page.fill("input[name=new_sku_price]", "99.00")
    shot(page, "new product with two specs")
    _submit(page, "button[name=_save]")

    product = Product.objects.get(tenant=tenant, ref="TEE")
    assert re.search(rf"/console/catalog/product/{product.pk}/change/", page.url)
    shot(page, "sku table of the new product")
    assert Sku.objects.filter(product=product).count() == 4

    wanted = {
        "TEE-红-S": ("101.00", 5),
        "TEE-红-M": ("102.00", 6),
        "TEE-蓝-S": ("103.00", 7),
        "TEE-蓝-M": ("104.00", 8),
    }
    codes = page.locator("input[name^=skus-][name$=-code]")
    assert codes.count() == 4
    for index in range(4):
        code_input = codes.nth(index)
        prefix = code_input.get_attribute("name").removesuffix("-code")
        price, stock = wanted[code_input.input_value()]
        page.fill(f"input[name={prefix}-price]", price)
        page.fill(f"input[name={prefix}-new_stock]", str(stock))
    page.select_option("select[name=status]", "on_sale")
    shot(page, "prices and stocks typed")
    _submit(page, "button[name=_save]")
    shot(page, "product list after saving")
    assert "/console/catalog/product/" in page.url
    assert page.locator(".errornote, .errorlist").count() == 0

    product.refresh_from_db()
    assert product.status == Product.Status.ON_SALE
    skus = {sku.code: (str(sku.price), sku.stock) for sku in Sku.objects.filter(product=product)}
    assert skus == wanted
    movements = StockMovement.objects.filter(sku__product=product)
    assert movements.count() == 4
    assert set(movements.values_list("reason", flat=True)) == {StockMovement.Reason.CONSOLE}
    assert {m.sku.code: m.quantity for m in movements.select_related("sku")} == {
        code: stock for code, (_price, stock) in wanted.items()
    }
    assert page.locator("#result_list").get_by_text("Browser tee").count() == 1
    assert page.js_errors == []


# --- 4. Shipping --------------------------------------------------------------------------------


def test_paid_orders_are_shipped_whole_and_in_part(live_server: Any, page: Any, shot: Any) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    whole = _place_paid(tenant, [(_sku(tenant, "Kettle", "120.00"), 1)])
    partial = _place_paid(
        tenant, [(_sku(tenant, "Plate", "10.00"), 3), (_sku(tenant, "Bowl", "20.00"), 2)]
    )
    _login(page, live_server.url, owner, shot)

    page.click('#nav-sidebar-apps a[href="/console/orders/order/"]')
    page.wait_for_url("**/console/orders/order/")
    shot(page, "order list")
    with page.expect_navigation():
        page.click(f'a[href="/console/orders/order/{whole.pk}/ship/"]')
    courier = page.locator("select[name=carrier]")
    assert courier.locator("option[value=shunfeng]").count() == 1
    page.select_option("select[name=carrier]", "shunfeng")
    page.fill("input[name=tracking_no]", "SF1234567890")
    assert _looks_like_a_button(page, "#ship-form [type=submit]")
    shot(page, "ship form filled")
    _submit(page, "#ship-form [type=submit]")
    shot(page, "after shipping")
    assert page.locator(".errornote, .errorlist").count() == 0

    whole.refresh_from_db()
    assert whole.status == Order.Status.SHIPPED
    shipment = Shipment.objects.get(order=whole)
    assert (shipment.carrier, shipment.tracking_no) == ("shunfeng", "SF1234567890")

    # The second order: from its page, one line's quantity lowered.
    page.goto(f"{live_server.url}/console/orders/order/{partial.pk}/change/")
    shot(page, "second order page")
    ship_action = page.locator(f'a[href="/console/orders/order/{partial.pk}/ship/"]')
    history = page.locator(f'a[href="/console/orders/order/{partial.pk}/history/"]')
    assert not _overlap(page, ship_action, history)  # the Ship button is not under History
    with page.expect_navigation():
        page.click(f'a[href="/console/orders/order/{partial.pk}/ship/"]')
    plate, bowl = partial.lines.order_by("pk")
    assert page.input_value(f"input[name=qty_{plate.pk}]") == "3"
    page.select_option("select[name=carrier]", "zhongtong")
    page.fill("input[name=tracking_no]", "ZT987654321")
    page.fill(f"input[name=qty_{plate.pk}]", "1")
    shot(page, "partial shipment filled")
    _submit(page, "#ship-form [type=submit]")
    shot(page, "after partial shipping")
    assert page.locator(".errornote, .errorlist").count() == 0

    partial.refresh_from_db()
    plate.refresh_from_db()
    bowl.refresh_from_db()
    assert partial.status == Order.Status.PARTIALLY_SHIPPED
    assert (plate.shipped_quantity, bowl.shipped_quantity) == (1, 2)
    shipment = Shipment.objects.get(order=partial)
    assert (shipment.carrier, shipment.tracking_no) == ("zhongtong", "ZT987654321")
    # Still to ship: the order page offers Ship again for the rest.
    page.goto(f"{live_server.url}/console/orders/order/{partial.pk}/change/")
    assert page.locator(f'a[href="/console/orders/order/{partial.pk}/ship/"]').count() >= 1
    assert page.js_errors == []


# --- 5. After-sale refunded through the sandbox ---------------------------------------------------


def _sandbox_paid_order(tenant: Any) -> tuple[Order, Any]:
    """An order placed and paid by a shopper through the API and the sandbox gateway."""
    channel = ChannelFactory(tenant=tenant, app_id="wx-browser-sandbox", is_sandbox=True)
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    sku = _sku(tenant, "Teapot", "30.00", stock=5)
    address = AddressFactory(tenant=tenant, member=member)
    created = client.post(
        "/api/v1/orders",
        {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": address.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    trade = client.post(f"/api/v1/orders/{number}/pay", {"gateway": "sandbox"}, format="json")
    assert trade.status_code == 200, trade.content
    done = client.post(f"/api/v1/payments/sandbox/{trade.json()['out_trade_no']}/complete")
    assert done.json()["status"] == "succeeded", done.content
    return Order.objects.get(tenant=tenant, number=number), member


def _after_sale_button(page: Any, action: str) -> None:
    with page.expect_navigation():
        page.click(f'a[data-action="{action}"]')


def test_after_sale_is_approved_and_refunded_by_buttons(
    live_server: Any, page: Any, shot: Any
) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    order, member = _sandbox_paid_order(tenant)
    services.order_ship(
        tenant=tenant, order=order, actor="test", carrier="shunfeng", tracking_no="SF1"
    )
    line = order.lines.get()
    after_sale = services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        type="return_refund",
        reason="too small",
        lines=[services.AfterSaleLineInput(line.pk, 1)],
        actor="member",
    )
    base = f"{live_server.url}/console/orders/aftersale/{after_sale.pk}"
    _login(page, live_server.url, owner, shot)

    page.goto(f"{base}/change/")
    shot(page, "after-sale requested")
    for action in ("approve", "refuse"):
        assert _looks_like_a_button(page, f'a[data-action="{action}"]')
    order_link = page.locator(f'a[href="/console/orders/order/{order.pk}/change/"]').first
    assert order_link.inner_text().strip().endswith("订单")  # a shop order, not "sort order"
    _after_sale_button(page, "approve")
    assert page.locator("#refund-amount").inner_text() == "¥30.00"
    assert _looks_like_a_button(page, "#content-main form [type=submit]")
    shot(page, "approve confirmation with the amount")
    _submit(page, "#content-main form [type=submit]")
    shot(page, "after-sale approved")
    after_sale.refresh_from_db()
    assert after_sale.status == AfterSale.Status.APPROVED

    # The buyer sends the goods back (shopper side, through the service).
    services.after_sale_return_ship(
        tenant=tenant, after_sale=after_sale, actor="member", carrier="shunfeng", tracking_no="R1"
    )
    page.reload()
    _after_sale_button(page, "receive")
    shot(page, "receive confirmation")
    _submit(page, "#content-main form [type=submit]")
    shot(page, "goods received")

    _after_sale_button(page, "refund")
    assert page.locator("#refund-amount").inner_text() == "¥30.00"
    assert Refund.objects.filter(tenant=tenant).count() == 0  # nothing moves before confirming
    shot(page, "refund confirmation with the amount")
    _submit(page, "#content-main form [type=submit]")
    shot(page, "after refunding")
    assert "¥30.00" in _messages(page)

    after_sale.refresh_from_db()
    order.refresh_from_db()
    assert after_sale.status == AfterSale.Status.REFUNDED
    refund = Refund.objects.get(tenant=tenant)
    assert (refund.amount, refund.status) == (Decimal("30.00"), Refund.Status.SUCCEEDED)
    assert order.refunded_amount == Decimal("30.00")
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert page.js_errors == []


# --- 6. Full reduction by form, used by a quote ---------------------------------------------------


def test_full_reduction_with_two_tiers_created_by_form_applies_in_a_quote(
    live_server: Any, page: Any, shot: Any
) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    channel = ChannelFactory(tenant=tenant, app_id="wx-browser-quote", is_sandbox=True)
    sku = _sku(tenant, "Notebook", "75.00", stock=50)
    _login(page, live_server.url, owner, shot)

    page.click('#nav-sidebar-apps a[href="/console/promotions/campaign/"]')
    page.wait_for_url("**/console/promotions/campaign/")
    page.goto(f"{live_server.url}/console/promotions/campaign/add/")
    page.fill("input[name=name]", "满100减10 满200减30")
    page.select_option("select[name=kind]", "full_reduction")
    page.select_option("select[name=status]", "active")
    start = timezone.localtime(timezone.now() - timedelta(hours=1))
    end = start + timedelta(days=7)
    page.fill("input[name=starts_at_0]", start.strftime("%Y-%m-%d"))
    page.fill("input[name=starts_at_1]", start.strftime("%H:%M:%S"))
    page.fill("input[name=ends_at_0]", end.strftime("%Y-%m-%d"))
    page.fill("input[name=ends_at_1]", end.strftime("%H:%M:%S"))
    page.check("input[name=fr_mode][value=tiers]")
    tiers = page.locator('[data-rows-prefix="fr_tiers"]')
    while tiers.locator("tbody tr.promo-row").count() < 2:
        tiers.locator(".promo-rows-add").click()
    page.fill("input[name=fr_tiers-0-threshold]", "100")
    page.fill("input[name=fr_tiers-0-reduction]", "10")
    page.fill("input[name=fr_tiers-1-threshold]", "200")
    page.fill("input[name=fr_tiers-1-reduction]", "30")
    page.check("input[name=all_items]")
    for platform in ("on_wechat", "on_alipay", "on_h5"):
        page.check(f"input[name={platform}]")
    shot(page, "full reduction form filled")
    _submit(page, "button[name=_save]")
    shot(page, "campaign list after saving")
    assert page.locator(".errornote, .errorlist").count() == 0

    campaign = Campaign.objects.get(tenant=tenant)
    assert campaign.kind == "full_reduction" and campaign.status == "active"
    assert campaign.rules["tiers"] == [
        {"threshold": "100", "reduction": "10"},
        {"threshold": "200", "reduction": "30"},
    ]
    assert page.locator("#result_list").get_by_text("满100减10 满200减30").count() == 1

    shopper = shopper_client(channel.app_id, access_token_for(MemberFactory(tenant=tenant)))
    quote = shopper.post(
        "/api/v1/checkout/quote",
        {"lines": [{"sku_id": sku.pk, "quantity": 3}], "fulfillment": "pickup"},
        format="json",
    )
    assert quote.status_code == 200, quote.content
    body = quote.json()
    assert (body["discount_total"], body["payable"]) == ("30.00", "195.00")
    assert [(p["ref_id"], p["amount"]) for p in body["promotions"]] == [(campaign.pk, "30.00")]
    assert page.js_errors == []


# --- 7. Language switch -------------------------------------------------------------------------


def _switch_language(page: Any, label: str) -> None:
    menu = page.locator('[x-data="{ openUserLinks: false }"]')
    menu.locator("div.cursor-pointer").first.click()  # the user menu, bottom of the left menu
    button = menu.locator("nav form button", has_text=label)
    button.wait_for(state="visible")
    with page.expect_navigation():
        button.click()
    page.wait_for_selector("#nav-sidebar-apps")


def test_language_switches_to_english_and_back(live_server: Any, page: Any, shot: Any) -> None:
    tenant = _shop()
    owner = _staff(tenant, Staff.Role.OWNER)
    _login(page, live_server.url, owner, shot)
    assert "商品" in _menu_groups(page)

    _switch_language(page, "English")
    shot(page, "console in English")
    groups = _menu_groups(page)
    assert "Products" in groups and "Orders" in groups and "商品" not in groups
    owner.refresh_from_db()
    assert owner.language == "en"

    _switch_language(page, "简体中文")
    shot(page, "console back in Chinese")
    assert _menu_groups(page) == ALL_GROUPS
    owner.refresh_from_db()
    assert owner.language == "zh-hans"
    assert page.js_errors == []
