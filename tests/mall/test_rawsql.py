"""The raw hot-path reads give exactly what the ORM gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Model

from catalog.models import Sku
from catalog.selectors import skus_for_pricing
from mall.rawsql import as_datetime, as_decimal, as_json, fetch_instances, placeholders
from members.models import Address, Member
from tests.catalog.factories import CategoryFactory, SkuFactory
from tests.members.factories import AddressFactory, MemberFactory

pytestmark = pytest.mark.django_db


def _values(instance: Model) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_fetch_instances_matches_the_orm_for_every_field_of_a_member() -> None:
    member = MemberFactory(
        points=1234,
        birthday=dt.date(1990, 5, 17),
        gender=Member.Gender.FEMALE,
        phone="13800138000",
        is_active=False,
    )
    member.merged_into = MemberFactory(tenant=member.tenant)
    member.save()

    [fetched] = fetch_instances(Member, "tenant_id = %s AND id = %s", [member.tenant_id, member.pk])

    expected = _values(Member.objects.get(pk=member.pk))
    assert _values(fetched) == expected
    assert isinstance(fetched.created_at, dt.datetime) and fetched.created_at.tzinfo is not None
    assert fetched.birthday == dt.date(1990, 5, 17)
    assert fetched.is_active is False
    assert fetched._state.adding is False  # a saved instance: save() updates, never inserts
    assert fetched.get_deferred_fields() == set()


def test_fetch_instances_matches_the_orm_for_decimal_columns_and_finds_nothing_foreign() -> None:
    address = AddressFactory(latitude=Decimal("22.543096"), longitude=Decimal("113.934528"))
    other = MemberFactory()

    [fetched] = fetch_instances(
        Address, "tenant_id = %s AND id = %s", [address.tenant_id, address.pk]
    )

    assert _values(fetched) == _values(Address.objects.get(pk=address.pk))
    assert fetched.latitude == Decimal("22.543096")
    assert (
        fetch_instances(Address, "tenant_id = %s AND id = %s", [other.tenant_id, address.pk]) == []
    )


def test_skus_for_pricing_matches_the_orm_and_answers_extra_columns() -> None:
    category = CategoryFactory()
    sku = SkuFactory(
        product__tenant=category.tenant,
        product__category=category,
        product__main_image="products/1/main.jpg",
        product__on_alipay=False,
        price=Decimal("19.90"),
        stock=7,
        weight_grams=350,
        specs=[{"name": "Colour", "value": "Red"}, {"name": "Size", "value": "M"}],
    )
    other_shop = SkuFactory()

    skus, extra = skus_for_pricing(
        tenant_id=sku.tenant_id,
        sku_ids=[sku.pk, other_shop.pk],
        extra=[("SELECT %s + 1", [41]), ("SELECT price FROM catalog_sku WHERE id = %s", [sku.pk])],
    )

    orm = Sku.objects.select_related("product").get(pk=sku.pk)
    assert list(skus) == [sku.pk]
    row = skus[sku.pk]
    assert (row.pk, row.product_id, row.code, row.price, row.stock, row.is_active) == (
        orm.pk, orm.product_id, orm.code, Decimal("19.90"), 7, True,
    )  # fmt: skip
    assert row.weight_grams == 350 and row.specs == orm.specs
    assert row.specs_label == orm.specs_label == "Colour: Red / Size: M"
    product = row.product
    assert (product.title, product.status, product.category_id) == (
        orm.product.title, orm.product.status, category.pk,
    )  # fmt: skip
    assert (product.main_image, product.on_wechat, product.on_alipay) == (
        "products/1/main.jpg", True, False,
    )  # fmt: skip
    assert extra is not None and extra[0] == 42 and as_decimal(extra[1]) == Decimal("19.90")
    assert skus_for_pricing(tenant_id=sku.tenant_id, sku_ids=[]) == ({}, None)
    assert skus_for_pricing(tenant_id=sku.tenant_id, sku_ids=[other_shop.pk]) == ({}, None)


def test_converters_give_one_type_whatever_the_backend_hands_back() -> None:
    assert as_decimal(19.9) == Decimal("19.90") and as_decimal(3) == Decimal(3)
    assert as_decimal(None) is None and as_decimal(Decimal("1.50")) == Decimal("1.50")
    aware = as_datetime("2026-11-26 08:30:00")
    assert aware == dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC)
    assert as_datetime(dt.datetime(2026, 1, 1)) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # PostgreSQL's text form of a timestamptz (CAST(... AS TEXT)), in UTC and with an offset
    assert as_datetime("2026-11-26 08:30:00.123456+00") == dt.datetime(
        2026, 11, 26, 8, 30, 0, 123456, tzinfo=dt.UTC
    )
    assert as_datetime("2026-11-26 16:30:00+08") == dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.UTC)
    assert as_datetime(None) is None
    with pytest.raises(ValueError, match="not a timestamp"):
        as_datetime("yesterday")
    assert as_json('[{"a": 1}]') == [{"a": 1}] and as_json([1]) == [1]
    assert placeholders(3) == "%s, %s, %s"
    with pytest.raises(ValueError):
        placeholders(0)
