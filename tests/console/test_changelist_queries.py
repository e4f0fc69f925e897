"""Every console list answers in a number of queries that does not grow with its rows: the
changelist of each registered tenant model is measured with one row and with four."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mall.console.site import console_site
from mall.tenancy.scoping import tenant_owned_models
from tests.security import factories as f

MARKER = f.MARKER

pytestmark = pytest.mark.django_db

# Models with at most one row per tenant: nothing to grow.
SINGLETONS = {"promotions.PromotionSettings", "distribution.DistributionSettings"}


def _console_models() -> list[str]:
    owned = {m._meta.label for m in tenant_owned_models()}
    return sorted(m._meta.label for m in console_site._registry if m._meta.label in owned)


def _make(label: str, tenant: Any, monkeypatch: Any, n: int = 0) -> bool:
    """One more row; the factories put MARKER in unique text columns, so each extra row gets
    its own marker."""
    if n:
        monkeypatch.setattr(f, "MARKER", f"{MARKER}-{n}")
    try:
        with transaction.atomic():
            f.MODEL_FACTORIES[label](tenant)
    except IntegrityError:
        return False
    finally:
        monkeypatch.setattr(f, "MARKER", MARKER)
    return True


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries)


@pytest.mark.parametrize("label", [x for x in _console_models() if x not in SINGLETONS])
def test_changelist_queries_do_not_grow_with_rows(label: str, monkeypatch: Any) -> None:
    tenant = f.make_tenant("q")
    client = Client()
    client.force_login(f.make_owner(tenant).user)
    model = next(m for m in console_site._registry if m._meta.label == label)
    url = f"/console/{model._meta.app_label}/{model._meta.model_name}/"
    assert _make(label, tenant, monkeypatch)
    rows = model._default_manager.filter(tenant=tenant).count()
    client.get(url)  # warm per-process caches (content types, channel cache ...)
    one = _count(client, url)
    for n in range(1, 4):
        _make(label, tenant, monkeypatch, n)
    more = model._default_manager.filter(tenant=tenant).count()
    if more <= rows:
        pytest.skip(
            f"{label}: the factory makes one row per tenant (payments lists are measured in "
            "tests/payments/test_console_finance.py)"
        )
    assert _count(client, url) == one, f"{label}: {rows} rows vs {more} rows"
