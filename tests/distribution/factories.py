"""Factories and builders of the distribution tests (orders are written directly, with exact
line payables, so the worked examples control every amount)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from distribution.models import DistributionSettings, Distributor, DistributorGrade
from distribution.services.distributors import share_code_new
from members.models import Member
from orders.models import Order, OrderLine
from tests.members.factories import MemberFactory


def enable(tenant: Any, **fields: Any) -> DistributionSettings:
    config, _ = DistributionSettings.objects.get_or_create(tenant=tenant)
    fields.setdefault("enabled", True)
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()
    return config


def grade(tenant: Any, rates: tuple[str, str, str] = ("0.10", "0.05", "0.02"), **kw: Any):
    kw.setdefault("name", f"grade {DistributorGrade.objects.count() + 1}")
    kw.setdefault("level", DistributorGrade.objects.filter(tenant=tenant).count() + 1)
    return DistributorGrade.objects.create(
        tenant=tenant,
        tier1_rate=Decimal(rates[0]),
        tier2_rate=Decimal(rates[1]),
        tier3_rate=Decimal(rates[2]),
        **kw,
    )


def distributor(
    tenant: Any,
    *,
    parent: Distributor | None = None,
    member: Member | None = None,
    grade_obj: DistributorGrade | None = None,
    status: str = Distributor.Status.APPROVED,
) -> Distributor:
    """An approved distributor under ``parent`` with its chain columns and path."""
    member = member or MemberFactory(tenant=tenant)
    d = Distributor.objects.create(
        tenant=tenant,
        member=member,
        status=status,
        grade=grade_obj,
        share_code=share_code_new(),
        parent=parent,
        ancestor2_id=parent.parent_id if parent else None,
        ancestor3_id=parent.ancestor2_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
    )
    d.path = f"{parent.path if parent else '/'}{d.pk}/"
    d.save(update_fields=["path"])
    return d


def paid_order(
    tenant: Any,
    member: Member,
    lines: list[dict[str, Any]],
    *,
    distribution: dict[str, Any] | None = None,
    status: str = Order.Status.PAID,
) -> Order:
    """An order already paid, with lines ``{"payable": "100.00", "shipping_fee": "0", ...}``."""
    now = timezone.now()
    payable = sum((Decimal(x["payable"]) for x in lines), Decimal(0))
    order = Order.objects.create(
        tenant=tenant,
        member=member,
        number=f"T{Order.objects.count() + 1:012d}",
        status=status,
        subtotal=payable,
        payable=payable,
        paid_amount=payable,
        paid_at=now,
        distribution=distribution or {},
    )
    for i, x in enumerate(lines):
        OrderLine.objects.create(
            tenant=tenant,
            order=order,
            sku=x.get("sku"),
            product_id=x.get("product_id"),
            title=x.get("title", f"line {i}"),
            quantity=x.get("quantity", 1),
            unit_price=Decimal(x["payable"]),
            subtotal=Decimal(x["payable"]),
            shipping_fee=Decimal(x.get("shipping_fee", "0")),
            payable=Decimal(x["payable"]),
        )
    return order


def complete(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.COMPLETED, completed_at=timezone.now()
    )
