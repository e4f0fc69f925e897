"""Write paths behind console pages (tenant settings, staff memberships, tenant switching)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError
from mall.tenancy.models import Staff, Tenant

TENANT_SETTINGS_FIELDS = (
    "name",
    "timezone",
    "order_timeout_minutes",
    "auto_receive_days",
    "after_sale_days",
)


def tenant_settings_update(*, tenant: Tenant, data: dict[str, Any]) -> Tenant:
    """Owner-editable settings of a tenant (not slug, status or business model)."""
    unknown = sorted(set(data) - set(TENANT_SETTINGS_FIELDS))
    if unknown:
        raise InvalidInputError(
            "validation_error",
            _("These tenant fields cannot be changed here."),
            details={"fields": unknown},
        )
    with transaction.atomic():
        for name, value in data.items():
            setattr(tenant, name, value)
        tenant.full_clean()
        tenant.save(update_fields=[*data.keys(), "updated_at"])
    return tenant


def staff_last_active_owner(*, staff: Staff) -> bool:
    """True when ``staff`` is the tenant's only active owner."""
    if staff.pk is None or staff.role != Staff.Role.OWNER or not staff.is_active:
        return False
    return (
        not Staff.objects.for_tenant(staff.tenant_id)
        .filter(role=Staff.Role.OWNER, is_active=True)
        .exclude(pk=staff.pk)
        .exists()
    )


def console_tenant_switch(*, session: Any, user: Any, tenant_id: int) -> Staff | None:
    """Make ``tenant_id`` the session's console tenant; None unless the user is staff there."""
    staff = (
        Staff.objects.select_related("tenant")
        .filter(user=user, is_active=True, tenant_id=tenant_id)
        .first()
    )
    if staff is None:
        return None
    session["console_tenant_id"] = staff.tenant_id
    return staff
