"""Demo data of payments (called by ``seed_demo``): the tenant's sandbox gateway keys."""

from __future__ import annotations

from typing import Any

from mall.tenancy.models import Tenant
from mall.tenancy.sandbox import sandbox_allowed
from payments.gateways.config import sandbox_config_ensure


def seed(*, tenant: Tenant, stdout: Any) -> None:
    if not sandbox_allowed():
        stdout.write("  payments: sandbox disabled (DEBUG off, MALL_ALLOW_SANDBOX unset); skipped")
        return
    config = sandbox_config_ensure(tenant=tenant)
    stdout.write(f"  payments: sandbox gateway ready ({config.mch_id}); pay with gateway=sandbox")
