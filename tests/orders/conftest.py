"""Fixtures of the orders tests: a shop with products, a member with points and an address,
helpers to place, pay and fetch orders."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from catalog.models import Sku
from mall.tenancy.services import api_key_create
from members.models import Member
from orders import services
from orders.models import Order
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for


@pytest.fixture
def member(tenant: Any) -> Member:
    return MemberFactory(tenant=tenant, points=1000)


@pytest.fixture
def address(tenant: Any, member: Member) -> Any:
    return AddressFactory(tenant=tenant, member=member)


@pytest.fixture
def make_sku(tenant: Any) -> Callable[..., Sku]:
    def make(price: str = "50.00", stock: int = 10, **product: Any) -> Sku:
        return SkuFactory(
            product=ProductFactory(tenant=tenant, **product), price=Decimal(price), stock=stock
        )

    return make


@pytest.fixture
def client(channel: Any, member: Member) -> APIClient:
    return shopper_client(channel.app_id, access_token_for(member))


@pytest.fixture
def merchant(tenant: Any) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, scopes=["orders", "catalog"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


@pytest.fixture
def place(tenant: Any, member: Member, channel: Any, address: Any) -> Callable[..., Order]:
    """Place an order through the service: ``place([(sku, qty), ...], **options)``."""

    def do(lines: list[tuple[Sku, int]], **options: Any) -> Order:
        options.setdefault("address_id", address.pk)
        return services.order_place(
            tenant=tenant,
            member=options.pop("member", member),
            channel=channel,
            lines=[services.CheckoutLine(sku.pk, qty) for sku, qty in lines],
            **options,
        )

    return do


def pay(order: Order) -> Order:
    assert services.order_mark_paid(
        tenant=order.tenant, number=order.number, amount=order.payable, payment_reference="p1"
    )
    order.refresh_from_db()
    return order


def stock(sku: Sku) -> int:
    return Sku.objects.get(pk=sku.pk).stock


def points(member: Member) -> int:
    return Member.objects.get(pk=member.pk).points


class FakeRefund:
    def __init__(self, request_ref: str, amount: Decimal) -> None:
        self.request_ref = request_ref
        self.amount = amount


@pytest.fixture
def refunds(monkeypatch: Any) -> list[dict[str, Any]]:
    """Replace payments' ``refund_request`` (the callee of orders.refunds) and record calls;
    its up-front ``refund_check`` then checks only the amount (these orders are paid through
    ``order_mark_paid`` without a payment row)."""
    import payments.refunds.services
    from payments.refunds.services import _valid_request

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        payments.refunds.services, "refund_request", lambda **kw: calls.append(kw), raising=False
    )
    monkeypatch.setattr(
        payments.refunds.services,
        "refund_check",
        lambda **kw: _valid_request(kw["amount"], kw["request_ref"]),
        raising=False,
    )
    return calls


def refund_finished(tenant: Any, call: dict[str, Any]) -> None:
    """What payments does when the gateway reports the refund succeeded."""
    from payments.purposes import purpose_handler

    purpose_handler("order").on_refunded(
        tenant=tenant,
        reference=call["reference"],
        refund=FakeRefund(call["request_ref"], call["amount"]),
    )
