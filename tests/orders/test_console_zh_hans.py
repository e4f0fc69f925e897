"""The order, after-sale, payment and distributor pages in Simplified Chinese (the default
language; tests otherwise run in English): labels, statuses, buttons and actions come from
the zh_Hans catalogue, not the English source text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mall.settings import base as base_settings
from mall.tenancy.models import Staff
from orders import services
from payments.models import Payment
from tests.distribution.factories import distributor
from tests.mall.factories import StaffFactory, UserFactory
from tests.orders.conftest import pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese_default(settings: Any) -> None:
    settings.LANGUAGE_CODE = base_settings.LANGUAGE_CODE  # "zh-hans"; tests run in English


def _owner(tenant: Any) -> Client:
    staff = StaffFactory(
        tenant=tenant, role=Staff.Role.OWNER, user=UserFactory(username=f"zh@{tenant.slug}")
    )
    client = Client()
    client.force_login(staff.user)
    return client


def _page(client: Client, url: str) -> str:
    response = client.get(url)  # no Accept-Language: the default language
    assert response.status_code == 200, url
    return response.content.decode()


def test_orders_after_sales_payments_and_distributors_render_in_chinese(
    chinese_default: None, tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    console = _owner(tenant)
    order = pay(place([(make_sku(), 1)]))
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="不想要了", actor="m"
    )
    Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference=order.number,
        gateway="sandbox",
        out_trade_no="P-zh-1",
        amount=Decimal("10.00"),
        status="succeeded",
        purpose_accepted=True,
        paid_at=timezone.now(),
    )
    distributor(tenant)

    orders = _page(console, "/console/orders/order/")
    assert '<html lang="zh-hans"' in orders
    for text in ("待付款", "待发货", "已发货", "已完成", "已取消", "售后中", "发货", "实付金额"):
        assert text in orders, text
    assert "导出所选订单（XLSX）" in orders  # the admin action
    assert "To ship" not in orders and "Pending payment" not in orders

    detail = _page(console, f"/console/orders/order/{order.pk}/change/")
    for text in ("收货地址", "商品总额", "订单日志", "售后"):
        assert text in detail, text

    after_sale_page = _page(console, f"/console/orders/aftersale/{after_sale.pk}/change/")
    for text in ("同意", "拒绝", "仅退款", "待处理", "退款"):
        assert text in after_sale_page, text
    assert "Refund only" not in after_sale_page
    confirm = _page(console, f"/console/orders/aftersale/{after_sale.pk}/approve/")
    assert "确认后将立即向买家退款" in confirm and "¥" in confirm

    payments = _page(console, "/console/payments/payment/")
    for text in ("支付记录", "商户订单号", "成功", "导出 XLSX", "合计"):
        assert text in payments, text
    assert "Succeeded" not in payments

    distributors = _page(console, "/console/distribution/distributor/")
    for text in ("分销员", "邀请码", "已通过", "通过所选申请", "冻结所选分销员", "团队", "对账单"):
        assert text in distributors, text
    assert "Approve selected applications" not in distributors
