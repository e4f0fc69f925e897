"""Read path of the console dashboard about the catalog (registered in ``catalog/admin.py``):
SKUs at or below their low-stock threshold (the SKU list's "Low" stock filter)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Sku
from mall.console.dashboard import register_dashboard_todo
from mall.tenancy.models import Tenant


def low_stock_q() -> Q:
    """At or below the SKU's own threshold; a threshold of 0 means "do not warn"."""
    return Q(stock__lte=F("low_stock_threshold"), low_stock_threshold__gt=0)


def low_stock_skus_count(tenant: Tenant, now: datetime) -> int:
    return Sku.objects.for_tenant(tenant).filter(low_stock_q()).count()


LOW_STOCK_QUERY = {"stock_state": "low"}


def dashboard_register() -> None:
    """Called once from ``catalog/admin.py``."""
    register_dashboard_todo(
        "low_stock_skus",
        _("Low-stock SKUs"),
        low_stock_skus_count,
        model=Sku,
        query=LOW_STOCK_QUERY,
        order=30,
    )
