"""What the payments console registrations share: the finance roles, the read-only mixin and
the dashboard's paid-today counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mall.console.dashboard import register_dashboard_counter
from mall.tenancy.models import Staff, Tenant
from payments.models import Payment

Role = Staff.Role
FINANCE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
SETTLEMENT_ROLES = frozenset({Role.OWNER, Role.FINANCE})


def payments_paid_today(tenant: Tenant, day_start: datetime, day_end: datetime) -> int:
    return (
        Payment.objects.for_tenant(tenant)
        .filter(
            status=Payment.Status.SUCCEEDED,
            purpose_accepted=True,
            paid_at__gte=day_start,
            paid_at__lt=day_end,
        )
        .count()
    )


register_dashboard_counter(
    "payments_paid_today", _("Paid today"), payments_paid_today, roles=FINANCE_ROLES, order=30
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
