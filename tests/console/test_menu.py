"""The left menu: grouped entries, shown only to roles whose pages answer 200, and every
console page a role may not use answers 403."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client, RequestFactory
from django.urls import URLPattern

from mall.console.menu import MENU, entry_link, entry_permission, role_matrix_markdown
from mall.console.site import console_site
from mall.tenancy.models import Staff, Tenant

Role = Staff.Role
ROLES = list(Role.values)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console.md"


def _request_as(role: str, path: str = "/console/") -> object:
    request = RequestFactory().get(path)
    request.staff = Staff(role=role)  # type: ignore[attr-defined]
    return request


def _menu_entries() -> list[tuple[str, str, object]]:
    return [
        (str(group.title), link, entry)
        for group in MENU
        for entry in group.entries
        if (link := entry_link(entry)) is not None
    ]


def _argless_model_urls() -> list[tuple[type, str]]:
    """Every console model page without an object id: changelist, add, custom list views."""
    urls = []
    for model, model_admin in console_site._registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if not isinstance(pattern, URLPattern) or "<" in route or "(?P" in route:
                continue
            urls.append((model, f"/console/{opts.app_label}/{opts.model_name}/{route}"))
    return urls


def test_the_menu_is_grouped_the_way_merchants_think() -> None:
    keys = [g.key for g in MENU]

    assert keys == [
        "overview",
        "products",
        "orders",
        "marketing",
        "members",
        "distribution",
        "finance",
        "settings",
    ]


def test_every_registered_console_page_is_in_the_menu() -> None:
    in_menu = {e.model for g in MENU for e in g.entries if e.model}

    registered = {m._meta.label for m in console_site._registry}

    assert registered - in_menu == set()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_the_entries_it_may_open(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))
    html = client.get("/console/").content.decode()

    for _group, link, entry in _menu_entries():
        allowed = entry_permission(entry)(_request_as(role, link))
        response = client.get(link)
        if allowed:
            assert f'href="{link}"' in html, (role, link)
            assert response.status_code == 200, (role, link)
        else:
            assert f'href="{link}"' not in html, (role, link)
            assert response.status_code == 403, (role, link)


# Add pages that lead to another model's add page instead of a form of their own.
ADD_LEADS_TO = {"mall.Staff": "mall.StaffInvitation"}


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_models_a_role_may_not_view_answer_403(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))
    checked = 0

    for model, url in _argless_model_urls():
        model_admin = console_site._registry[model]
        request = _request_as(role, url)
        status = client.get(url).status_code
        if not model_admin.has_view_permission(request):
            assert status == 403, (role, url, status)
            checked += 1
        elif url.endswith("/add/") and model._meta.label in ADD_LEADS_TO:
            # "Add staff" leads to the invitation form, for those who may invite.
            target = console_site._registry[apps.get_model(ADD_LEADS_TO[model._meta.label])]
            assert status == (302 if target.has_add_permission(request) else 403), (role, url)
        elif url.endswith("/add/"):
            assert status == (200 if model_admin.has_add_permission(request) else 403), (role, url)
        elif url.count("/") == 4:  # the changelist
            assert status == 200, (role, url)
    for label in {m._meta.app_label for m in console_site._registry}:
        visible = any(
            a.has_view_permission(_request_as(role))
            for m, a in console_site._registry.items()
            if m._meta.app_label == label
        )
        assert client.get(f"/console/{label}/").status_code == (200 if visible else 403), label
    assert checked > 0 or role in (Role.OWNER,)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.OWNER, 200),
        (Role.ADMIN, 200),
        (Role.OPERATOR, 403),
        (Role.FINANCE, 403),
        (Role.SERVICE, 403),
    ],
)
def test_custom_console_views_follow_the_role(
    role: str,
    expected: int,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))

    assert client.get("/console/settings/").status_code == expected
    assert client.get("/console/switch-tenant/").status_code == 405  # POST only, every role


def test_service_staff_menu_has_no_finance_or_settings(
    shop_a: Tenant, make_staff: Callable[..., Staff], console_client: Callable[[Staff], Client]
) -> None:
    html = console_client(make_staff(shop_a, Role.SERVICE)).get("/console/").content.decode()

    assert "/console/orders/aftersale/" in html and "/console/members/member/" in html
    for hidden in ("/console/payments/payment/", "/console/mall/staff/", "/console/settings/"):
        assert hidden not in html


def test_docs_hold_the_current_role_matrix() -> None:
    assert role_matrix_markdown() in DOCS.read_text(encoding="utf-8")


def _paid_order_and_after_sale(tenant: Tenant) -> tuple[Any, Any]:
    """A paid express order (ship page) and a requested after-sale of it (decision pages)."""
    from decimal import Decimal

    from orders import services
    from tests.catalog.factories import ProductFactory, SkuFactory
    from tests.mall.factories import ChannelFactory
    from tests.members.factories import AddressFactory, MemberFactory
    from tests.orders.conftest import pay

    member = MemberFactory(tenant=tenant)
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("30.00"), stock=9)
    order = services.order_place(
        tenant=tenant,
        member=member,
        channel=ChannelFactory(tenant=tenant),
        lines=[services.CheckoutLine(sku.pk, 1)],
        address_id=AddressFactory(tenant=tenant, member=member).pk,
    )
    order = pay(order)
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="walk", actor="m"
    )
    return order, after_sale


def _free_fixed_numbers(tenant: Tenant, index: int) -> None:
    """The payments factories number their rows ``P<tenant>matrix`` etc. (one per tenant):
    rename those made so far so the next factory's rows fit beside them."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from payments.models import Payment, Payout, ProfitSharingOrder, Refund

    for model, column in (
        (Payment, "out_trade_no"),
        (Refund, "out_refund_no"),
        (Payout, "out_bill_no"),
        (ProfitSharingOrder, "out_order_no"),
    ):
        model.objects.filter(tenant=tenant, **{f"{column}__endswith": "matrix"}).update(
            **{column: Concat(F(column), Value(f"-{index}"))}
        )


@pytest.mark.parametrize("role", ROLES)
def test_object_pages_answer_200_where_the_role_may_and_403_where_not(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
    monkeypatch: Any,
) -> None:
    """The role walk above visits the menu entries; this one opens an object of every console
    model (the cross-tenant matrix's factories): its change (detail), history and delete pages,
    and the workflow pages of a paid order and of an after-sale."""
    from django.db import transaction

    from mall.console.introspection import console_object_urls
    from orders.admin import FULFILMENT_ROLES, SERVICE_ROLES
    from tests.security import factories as f

    staff = make_staff(shop_a, role)
    client = console_client(staff)
    request = RequestFactory().get("/console/")
    request.staff, request.user, request.tenant = staff, staff.user, shop_a  # type: ignore[attr-defined]
    seen: dict[int, int] = {200: 0, 403: 0}
    marker = f.MARKER
    for index, (model, model_admin) in enumerate(console_site._registry.items()):
        label = model._meta.label
        # Each model's factory gets its own marker (unique names across related factories).
        monkeypatch.setattr(f, "MARKER", f"{marker}-{index}")
        with transaction.atomic():
            obj = f.MODEL_FACTORIES[label](shop_a)
        _free_fixed_numbers(shop_a, index)
        may_view = model_admin.has_view_permission(request, obj)
        expected = {
            "change": 200 if may_view else 403,
            "history": 200 if may_view else 403,
            "delete": 200 if model_admin.has_delete_permission(request, obj) else 403,
        }
        for view, url in console_object_urls(obj).items():
            status = client.get(url).status_code
            assert status == expected[view], (role, label, view, status)
            seen[status] += 1

    order, after_sale = _paid_order_and_after_sale(shop_a)
    fulfils, handles = role in FULFILMENT_ROLES, role in SERVICE_ROLES
    pages = {
        f"/console/orders/order/{order.pk}/change/": 200,
        f"/console/orders/order/{order.pk}/ship/": 200 if fulfils else 403,
        f"/console/orders/aftersale/{after_sale.pk}/change/": 200,
        f"/console/orders/aftersale/{after_sale.pk}/approve/": 200 if handles else 403,
        f"/console/orders/aftersale/{after_sale.pk}/refuse/": 200 if handles else 403,
    }
    for url, expected_status in pages.items():
        assert client.get(url).status_code == expected_status, (role, url)
    # The pickup page of an order: refused outright to a role that may not verify pickups
    # (an express order is sent back to its page with a message for the others).
    pickup = client.get(f"/console/orders/order/{order.pk}/pickup/").status_code
    assert (pickup == 403) == (not fulfils), (role, pickup)
    assert seen[200] > 0 and (seen[403] > 0 or role == Role.OWNER)
