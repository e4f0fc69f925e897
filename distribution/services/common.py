"""Shared helpers of the distribution services."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from distribution import lock_objects
from distribution.errors import DistributionErrorCode
from distribution.models import DistributionSettings, Distributor
from mall.errors import ApplicationError, ConflictError
from mall.tenancy.models import Tenant


def settings_get(*, tenant: Tenant | int) -> DistributionSettings:
    """The tenant's settings row (created with the defaults on first use)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = DistributionSettings.objects.for_tenant(tenant_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return DistributionSettings.objects.create(tenant_id=tenant_id)
    except IntegrityError:
        return DistributionSettings.objects.for_tenant(tenant_id).get()


def settings_require_enabled(*, tenant: Tenant) -> DistributionSettings:
    found = settings_get(tenant=tenant)
    if not found.enabled:
        raise ApplicationError(
            DistributionErrorCode.DISABLED, _("Distribution is not open in this shop.")
        )
    return found


def invalid_transition(entity: str, current: str, to: str) -> ApplicationError:
    return ConflictError(
        DistributionErrorCode.INVALID_TRANSITION,
        _("A %(entity)s cannot go from %(current)s to %(to)s.")
        % {"entity": entity, "current": current, "to": to},
        details={"from": current, "to": to},
    )


def distributor_lock(*, tenant: Tenant | int, distributor_id: int) -> Distributor:
    return lock_objects.distributor_for_update(tenant=tenant, pk=distributor_id)


def plain(value: Any) -> Any:
    """A JSON-safe copy (Decimals as strings)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
