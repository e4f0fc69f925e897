"""distribution.sql: the raw reads give what the plain ORM gives."""

from __future__ import annotations

from typing import Any

import pytest

from distribution.services.commissions import _attribution_settings
from distribution.services.common import settings_get

pytestmark = pytest.mark.django_db


def test_attribution_settings_match_the_orm(tenant: Any, config: Any) -> None:
    config.self_purchase_commission = True
    config.rules_version = 4
    config.save()
    found = _attribution_settings(tenant.pk)
    orm = settings_get(tenant=tenant)
    assert (found.enabled, found.rules_version, found.tiers, found.self_purchase_commission) == (
        orm.enabled,
        orm.rules_version,
        orm.tiers,
        orm.self_purchase_commission,
    )


def test_attribution_settings_are_created_with_the_defaults_on_first_use(tenant: Any) -> None:
    found = _attribution_settings(tenant.pk)
    orm = settings_get(tenant=tenant)
    assert (found.enabled, found.tiers) == (orm.enabled, orm.tiers)
