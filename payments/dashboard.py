"""Read paths of the console dashboard about payments (registered in ``payments/admin.py``):
failed refunds, WeChat shipping uploads that failed or are stuck, and the refunds KPI."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from mall.console.dashboard import (
    KpiValues,
    Period,
    register_dashboard_kpi,
    register_dashboard_kpi_source,
    register_dashboard_todo,
)
from mall.money import quantize
from mall.tenancy.models import Tenant
from payments.models import Refund, ShippingUpload

ZERO = Decimal("0.00")
# A pending upload is retried by Celery within minutes; pending longer than this needs a look.
SHIPPING_UPLOAD_STUCK_AFTER = timedelta(hours=1)


def refunds_failed_count(tenant: Tenant, now: datetime) -> int:
    """Refunds the gateway refused (retryable from the console)."""
    return Refund.objects.for_tenant(tenant).filter(status=Refund.Status.FAILED).count()


REFUNDS_FAILED_QUERY: dict[str, str] = {"status__exact": Refund.Status.FAILED}


def shipping_uploads_failed_count(tenant: Tenant, now: datetime) -> int:
    """Shipping uploads WeChat refused for good (retry from the console)."""
    return (
        ShippingUpload.objects.for_tenant(tenant)
        .filter(status=ShippingUpload.Status.FAILED)
        .count()
    )


SHIPPING_UPLOADS_FAILED_QUERY: dict[str, str] = {"status__exact": ShippingUpload.Status.FAILED}


def _stuck_before(now: datetime) -> datetime:
    return now - SHIPPING_UPLOAD_STUCK_AFTER


def shipping_uploads_stuck_count(tenant: Tenant, now: datetime) -> int:
    """Shipping uploads still pending an hour after their last change."""
    return (
        ShippingUpload.objects.for_tenant(tenant)
        .filter(status=ShippingUpload.Status.PENDING, updated_at__lt=_stuck_before(now))
        .count()
    )


def shipping_uploads_stuck_query(tenant: Tenant, now: datetime) -> dict[str, str]:
    return {
        "status__exact": ShippingUpload.Status.PENDING,
        "updated_at__lt": _stuck_before(now).isoformat(),
    }


def refund_kpis(tenant: Tenant, periods: list[Period]) -> KpiValues:
    """Money refunded on orders (refunds that succeeded, by their ``refunded_at``) in every
    period and the one before it, in one query. Automatic refunds of a payment the order
    refused (``auto:`` requests) are left out: that money never counted as paid."""
    aggregates: dict[str, Any] = {}
    for p in periods:
        for side, (start, end) in (("cur", (p.start, p.end)), ("prev", (p.prev_start, p.prev_end))):
            window = Q(refunded_at__gte=start, refunded_at__lt=end)
            aggregates[f"{p.key}_{side}"] = Sum("amount", filter=window, default=ZERO)
    row = (
        Refund.objects.for_tenant(tenant)
        .filter(
            status=Refund.Status.SUCCEEDED,
            payment__purpose="order",
            refunded_at__gte=min(p.prev_start for p in periods),
            refunded_at__lt=max(p.end for p in periods),
        )
        .exclude(request_ref__startswith=Refund.AUTO_PREFIX)
        .aggregate(**aggregates)
    )
    return {
        "refunds": {
            p.key: (quantize(row[f"{p.key}_cur"]), quantize(row[f"{p.key}_prev"])) for p in periods
        }
    }


def dashboard_register() -> None:
    """Called once from ``payments/admin.py``."""
    register_dashboard_todo(
        "refunds_failed",
        _("Failed refunds"),
        refunds_failed_count,
        model=Refund,
        query=REFUNDS_FAILED_QUERY,
        order=50,
    )
    register_dashboard_todo(
        "shipping_uploads_failed",
        _("WeChat shipping uploads failed"),
        shipping_uploads_failed_count,
        model=ShippingUpload,
        query=SHIPPING_UPLOADS_FAILED_QUERY,
        order=60,
    )
    register_dashboard_todo(
        "shipping_uploads_stuck",
        _("WeChat shipping uploads pending over an hour"),
        shipping_uploads_stuck_count,
        model=ShippingUpload,
        query=shipping_uploads_stuck_query,
        order=61,
    )
    register_dashboard_kpi_source("payments_refunds", refund_kpis)
    register_dashboard_kpi(
        "refunds",
        _("Refunds"),
        source="payments_refunds",
        model=Refund,
        kind="money",
        help=_("Money refunded to buyers of orders in the period (refunds that succeeded)."),
        order=50,
    )
