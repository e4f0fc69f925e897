"""Template filters of the console: ``{% load console %}`` (see mall/console/formatting.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from mall.console.formatting import DATE_FORMAT, format_tenant_datetime, format_yuan

register = template.Library()


@register.filter
def yuan(amount: Any) -> str:
    """``{{ amount|yuan }}`` -> ``¥1,234.50``."""
    return format_yuan(amount)


@register.filter
def tenant_datetime(value: datetime | None, tenant: Any) -> str:
    """``{{ dt|tenant_datetime:tenant }}`` -> ``2026-03-01 09:30`` in the tenant's zone."""
    return format_tenant_datetime(value, tenant)


@register.filter
def tenant_date(value: datetime | None, tenant: Any) -> str:
    return format_tenant_datetime(value, tenant, fmt=DATE_FORMAT)
