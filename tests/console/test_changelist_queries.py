"""Every console list answers in a number of queries that does not grow with its rows: the
changelist of each registered tenant model is measured with two rows and with six.

Rows come from the cross-tenant matrix's factories (``tests/security/factories.py``). Where a
factory makes only one row per tenant (fixed unique values: payment numbers, API key prefixes,
invitation tokens...), further rows are copies of the first with their unique columns made
unique (``_copy``): the copies keep the same related rows, which is enough to catch an N+1 —
Django fetches a related row once per row that reads it, whatever its id."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mall.console.site import console_site
from mall.tenancy.scoping import tenant_owned_models
from tests.security import factories as f

MARKER = f.MARKER

pytestmark = pytest.mark.django_db

# Models with at most one row per tenant: nothing to grow.
SINGLETONS = {
    "promotions.PromotionSettings",
    "distribution.DistributionSettings",
    "members.PointsSettings",
    "members.TierSettings",
}


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


def _unique_columns(model: type[models.Model]) -> set[str]:
    names = {f.name for f in model._meta.fields if f.unique and not f.primary_key}
    for together in model._meta.unique_together:
        names.update(together)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    return names - {"tenant"}


def _copy(row: models.Model, n: int) -> models.Model | None:
    """Another row like ``row``, its unique columns changed: text gets ``-n``, a date or
    number ``+ n``, a foreign key a copy of its row, and a choice (only when it is the sole
    unique column, e.g. one gateway configuration per gateway) a value not used yet. None
    when the model cannot hold another row."""
    model = type(row)
    clone = copy.copy(row)
    clone.pk = None
    clone._state = copy.copy(row._state)
    clone._state.adding = True
    fields = [model._meta.get_field(name) for name in _unique_columns(model)]
    choices_only = all(field.choices for field in fields)
    for field in fields:
        value = getattr(clone, field.attname)
        if field.choices:
            if not choices_only:
                continue
            used = set(
                model._default_manager.filter(tenant_id=row.tenant_id).values_list(
                    field.attname, flat=True
                )
            )
            free = [choice for choice, _label in field.flatchoices if choice not in used]
            if not free:
                return None
            setattr(clone, field.attname, free[0])
        elif isinstance(field, models.ForeignKey):
            related = _copy(getattr(row, field.name), n)
            if related is None:
                return None
            setattr(clone, field.attname, related.pk)
        elif isinstance(field, models.CharField | models.TextField):
            suffix = f"-{n}"
            limit = (field.max_length or 255) - len(suffix)
            setattr(clone, field.attname, f"{str(value)[:limit]}{suffix}")
        elif isinstance(field, models.DateField):
            setattr(clone, field.attname, value + timedelta(days=n))
        elif isinstance(field, models.IntegerField):
            setattr(clone, field.attname, value + n)
        else:
            return None
    try:
        with transaction.atomic():
            clone.save(force_insert=True)
    except IntegrityError:
        return None
    return clone


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries.captured_queries)


def _grow(label: str, tenant: Any, monkeypatch: Any, model: Any, target: int) -> int:
    """Rows of the tenant, grown towards ``target`` by the factory, else by copies."""
    rows = model._default_manager.filter(tenant=tenant)
    n = rows.count()
    attempt = n
    while rows.count() < target and attempt < target * 3:
        attempt += 1
        if not _make(label, tenant, monkeypatch, attempt) or rows.count() == n:
            first = rows.order_by("pk").first()
            if first is None or _copy(first, attempt) is None:
                break
        n = rows.count()
    return rows.count()


@pytest.mark.parametrize("label", [x for x in _console_models() if x not in SINGLETONS])
def test_changelist_queries_do_not_grow_with_rows(label: str, monkeypatch: Any) -> None:
    tenant = f.make_tenant("q")
    client = Client()
    client.force_login(f.make_owner(tenant).user)
    model = next(m for m in console_site._registry if m._meta.label == label)
    url = f"/console/{model._meta.app_label}/{model._meta.model_name}/"
    assert _make(label, tenant, monkeypatch)
    few = _grow(label, tenant, monkeypatch, model, 2)
    client.get(url)  # warm per-process caches (content types, channel cache ...)
    one = _count(client, url)
    more = _grow(label, tenant, monkeypatch, model, 6)
    # A tenant has at most one gateway configuration per gateway (three gateways).
    assert few >= 2 and more >= (3 if label == "payments.GatewayConfig" else 6), (few, more)
    assert _count(client, url) == one, f"{label}: {few} rows vs {more} rows"
