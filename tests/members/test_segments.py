"""Tags, segment conditions (one query), the nightly RFM rows and scores, with exact numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from mall.errors import ApplicationError
from members.models import MemberRfm, MemberTag, SegmentCondition, Tag
from members.segments.selectors import (
    segment_count,
    segment_member_ids,
    segment_members,
)
from members.segments.services import (
    member_tags_set,
    rfm_note_paid,
    rfm_refresh,
    rfm_refresh_all,
    tag_apply,
    tag_remove,
)
from orders.models import Order
from tests.distribution.factories import distributor
from tests.members.factories import AddressFactory, MemberFactory, MemberIdentityFactory
from tests.members.segment_helpers import paid, segment

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
K = SegmentCondition.Kind


def ids(*members: Any) -> list[int]:
    return sorted(m.pk for m in members)


# --- Tags ----------------------------------------------------------------------------------


def test_tags_apply_and_remove_in_bulk(tenant: Any, other_tenant: Any) -> None:
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    a, b, c = (MemberFactory(tenant=tenant) for _ in range(3))
    stranger = MemberFactory(tenant=other_tenant)

    assert tag_apply(tenant=tenant, tag=vip, member_ids=[a.pk, b.pk, stranger.pk]) == 2
    assert tag_apply(tenant=tenant, tag=vip, member_ids=[a.pk, b.pk, c.pk]) == 1  # c only
    assert MemberTag.objects.filter(tag=vip).count() == 3
    assert not MemberTag.objects.filter(member=stranger).exists()

    assert tag_remove(tenant=tenant, tag=vip, member_ids=[a.pk, stranger.pk]) == 1
    assert sorted(MemberTag.objects.filter(tag=vip).values_list("member_id", flat=True)) == ids(
        b, c
    )


def test_tags_refuse_another_tenants_tag_and_empty_or_huge_lists(
    tenant: Any, other_tenant: Any
) -> None:
    theirs = Tag.objects.create(tenant=other_tenant, name="VIP")
    member = MemberFactory(tenant=tenant)
    with pytest.raises(ApplicationError) as exc:
        tag_apply(tenant=tenant, tag=theirs, member_ids=[member.pk])
    assert exc.value.code == "tag_not_found"
    mine = Tag.objects.create(tenant=tenant, name="VIP")
    with pytest.raises(ApplicationError) as exc:
        tag_apply(tenant=tenant, tag=mine, member_ids=[])
    assert exc.value.code == "member_ids_required"
    with pytest.raises(ApplicationError) as exc:
        tag_apply(tenant=tenant, tag=mine, member_ids=range(1, 1002))
    assert exc.value.code == "too_many_members"
    assert MemberTag.objects.count() == 0


def test_member_tags_set_by_name(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    Tag.objects.create(tenant=tenant, name="old")
    assert member_tags_set(tenant=tenant, member=member, add=["old", " new "], remove=[]) == [
        "new",
        "old",
    ]
    assert member_tags_set(tenant=tenant, member=member, add=[], remove=["old", "nope"]) == ["new"]
    assert Tag.objects.filter(tenant=tenant).count() == 2
    assert MemberTag.objects.get(member=member).source == MemberTag.Source.API


# --- Segment conditions --------------------------------------------------------------------


def test_profile_conditions(tenant: Any, other_tenant: Any) -> None:
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    a = MemberFactory(tenant=tenant, birthday=date(1990, 6, 30))
    b = MemberFactory(tenant=tenant, birthday=date(1985, 7, 1))
    c = MemberFactory(tenant=tenant)
    merged = MemberFactory(tenant=tenant, merged_into=a, birthday=date(1990, 6, 2))
    MemberFactory(tenant=other_tenant, birthday=date(1990, 6, 3))
    tag_apply(tenant=tenant, tag=vip, member_ids=[a.pk, c.pk])
    MemberIdentityFactory(member=a, platform="wechat")
    MemberIdentityFactory(member=b, platform="alipay")
    MemberIdentityFactory(member=c, platform="alipay")
    AddressFactory(member=b, city="Shenzhen", city_code="440300")
    AddressFactory(member=c, city="Guangzhou", city_code="440100")
    distributor(tenant, member=c)
    distributor(tenant, member=b, status="pending")

    def members(*rows: dict[str, Any], match: str = "all") -> list[int]:
        return segment_member_ids(tenant=tenant, segment=segment(tenant, *rows, match=match))

    assert members({"kind": K.TAG, "tag": vip}) == ids(a, c)
    assert members({"kind": K.TAG, "tag": vip, "negate": True}) == ids(b)
    assert members({"kind": K.PLATFORM, "platform": "alipay"}) == ids(b, c)
    assert members({"kind": K.CITY, "city": "Shenzhen"}) == ids(b)
    assert members({"kind": K.CITY, "city": "440100"}) == ids(c)
    assert members({"kind": K.BIRTHDAY_MONTH, "month": 6}) == ids(a)  # not the merged one
    assert members({"kind": K.DISTRIBUTOR}) == ids(c)  # approved only
    assert members({"kind": K.DISTRIBUTOR, "negate": True}) == ids(a, b)
    assert members({"kind": K.TAG, "tag": vip}, {"kind": K.PLATFORM, "platform": "alipay"}) == ids(
        c
    )
    assert members(
        {"kind": K.BIRTHDAY_MONTH, "month": 6}, {"kind": K.CITY, "city": "Shenzhen"}, match="any"
    ) == ids(a, b)
    assert members() == ids(a, b, c)  # no condition: every live member
    assert merged.pk not in members()


def test_tier_condition_matches_the_members_in_that_tier(tenant: Any) -> None:
    from members.tiers.models import Tier
    from members.tiers.services import member_tier_set

    silver = Tier.objects.create(tenant=tenant, name="Silver", level=1, growth_threshold=100)
    gold = Tier.objects.create(tenant=tenant, name="Gold", level=2, growth_threshold=500)
    a, b, c = (MemberFactory(tenant=tenant) for _ in range(3))
    member_tier_set(tenant=tenant, member_id=a.pk, tier=silver)
    member_tier_set(tenant=tenant, member_id=b.pk, tier=gold)

    assert (
        segment_count(tenant=tenant, segment=segment(tenant, {"kind": K.TIER, "tier_id": gold.pk}))
        == 1
    )
    in_silver = segment(tenant, {"kind": K.TIER, "tier_id": silver.pk})
    assert segment_count(tenant=tenant, segment=in_silver) == 1
    not_gold = segment(tenant, {"kind": K.TIER, "tier_id": gold.pk, "negate": True})
    assert segment_count(tenant=tenant, segment=not_gold) == 2  # a and c (no tier yet)
    del c


def test_conditions_are_typed(tenant: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        segment(tenant, {"kind": K.PAID_ORDERS, "comparison": "gte", "number": 2})
    assert set(exc.value.message_dict) == {"window_days"}
    with pytest.raises(ValidationError) as exc:
        segment(tenant, {"kind": K.R_SCORE, "comparison": "gte", "number": 6})
    assert set(exc.value.message_dict) == {"number"}
    with pytest.raises(ValidationError) as exc:
        segment(tenant, {"kind": K.TAG})
    assert set(exc.value.message_dict) == {"tag"}


# --- RFM -----------------------------------------------------------------------------------


@pytest.fixture
def shoppers(tenant: Any) -> dict[str, Any]:
    a, b, c, d, e = (MemberFactory(tenant=tenant) for _ in range(5))
    paid(a, days_ago=10, amount="100.00", now=NOW)
    paid(a, days_ago=40, amount="50.00", now=NOW)
    paid(a, days_ago=400, amount="30.00", now=NOW)
    paid(b, days_ago=5, amount="200.00", refunded="50.00", now=NOW, status="partially_refunded")
    paid(c, days_ago=3, amount="70.00", refunded="70.00", now=NOW, status="refunded")
    paid(d, days_ago=200, amount="80.00", now=NOW)
    Order.objects.create(  # never paid
        tenant=tenant, member=e, number="UNPAID1", payable=Decimal("9.00")
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_rfm_rows_and_scores(tenant: Any, other_tenant: Any, shoppers: dict[str, Any]) -> None:
    a, b, c, d = (shoppers[k] for k in "abcd")
    MemberRfm.objects.create(tenant=tenant, member=c, computed_at=NOW - timedelta(days=1))  # goes
    paid(MemberFactory(tenant=other_tenant), days_ago=1, amount="5.00", now=NOW)

    assert rfm_refresh(tenant=tenant, now=NOW) == 3
    rows = {r.member_id: r for r in MemberRfm.objects.filter(tenant=tenant)}
    assert set(rows) == {a.pk, b.pk, d.pk}
    ra, rb, rd = rows[a.pk], rows[b.pk], rows[d.pk]
    assert ra.last_paid_at == NOW - timedelta(days=10)
    assert (ra.orders_30d, ra.orders_90d, ra.orders_180d, ra.orders_365d) == (1, 2, 2, 2)
    assert (ra.amount_30d, ra.amount_90d, ra.amount_365d) == (
        Decimal("100.00"),
        Decimal("150.00"),
        Decimal("150.00"),
    )
    assert (rb.orders_30d, rb.amount_30d) == (1, Decimal("150.00"))  # 200 paid - 50 refunded
    assert (rd.orders_90d, rd.orders_180d, rd.orders_365d) == (0, 0, 1)
    # R: D (200 days) < A (10) < B (5): ceil(5k/3) = 2, 4, 5. F: B = D = 1 order < A = 2:
    # ties share ceil(5*2/3) = 4, A 5. M: D 80 < A = B 150: 2, then 5 and 5.
    assert (ra.r_score, ra.f_score, ra.m_score) == (4, 5, 5)
    assert (rb.r_score, rb.f_score, rb.m_score) == (5, 4, 5)
    assert (rd.r_score, rd.f_score, rd.m_score) == (2, 4, 2)
    assert MemberRfm.objects.filter(tenant=other_tenant).count() == 0

    # Idempotent: the same night again gives the same rows.
    assert rfm_refresh(tenant=tenant, now=NOW) == 3
    assert MemberRfm.objects.get(member=a).r_score == 4


def test_members_without_a_paid_order_in_the_year_get_no_f_and_m(tenant: Any) -> None:
    old, recent = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    paid(old, days_ago=500, amount="10.00", now=NOW)
    paid(recent, days_ago=1, amount="10.00", now=NOW)
    rfm_refresh(tenant=tenant, now=NOW)
    row = MemberRfm.objects.get(member=old)
    assert (row.r_score, row.f_score, row.m_score) == (3, 0, 0)  # ceil(5/2) = 3
    row = MemberRfm.objects.get(member=recent)
    assert (row.r_score, row.f_score, row.m_score) == (5, 5, 5)


def test_rfm_refresh_all_covers_every_tenant(
    tenant: Any, other_tenant: Any, shoppers: dict[str, Any]
) -> None:
    paid(MemberFactory(tenant=other_tenant), days_ago=1, amount="5.00", now=NOW)
    assert rfm_refresh_all(now=NOW) == {str(tenant.pk): 3, str(other_tenant.pk): 1}


def test_rfm_note_paid_moves_last_paid_forward_only(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    rfm_note_paid(tenant=tenant, member_id=member.pk, paid_at=NOW)
    rfm_note_paid(tenant=tenant, member_id=member.pk, paid_at=NOW - timedelta(days=3))
    row = MemberRfm.objects.get(member=member)
    assert row.last_paid_at == NOW and row.orders_365d == 0


def test_rfm_conditions(tenant: Any, shoppers: dict[str, Any]) -> None:
    a, b, c, d, e = (shoppers[k] for k in "abcde")
    rfm_refresh(tenant=tenant, now=NOW)

    def members(**row: Any) -> list[int]:
        return segment_member_ids(tenant=tenant, segment=segment(tenant, row), now=NOW)

    assert members(kind=K.DAYS_SINCE_PAID, comparison="gte", number=30) == ids(c, d, e)
    assert members(kind=K.DAYS_SINCE_PAID, comparison="lte", number=30) == ids(a, b)
    assert members(kind=K.DAYS_SINCE_PAID, comparison="gte", number=10) == ids(a, c, d, e)
    assert members(kind=K.PAID_ORDERS, comparison="gte", number=2, window_days=90) == ids(a)
    assert members(kind=K.PAID_ORDERS, comparison="lte", number=0, window_days=30) == ids(c, d, e)
    assert members(
        kind=K.PAID_AMOUNT, comparison="gte", amount=Decimal("150.00"), window_days=365
    ) == ids(a, b)
    assert members(
        kind=K.PAID_AMOUNT, comparison="lte", amount=Decimal("100.00"), window_days=30
    ) == ids(a, c, d, e)
    assert members(kind=K.R_SCORE, comparison="gte", number=4) == ids(a, b)
    assert members(kind=K.M_SCORE, comparison="lte", number=2) == ids(c, d, e)
    assert members(kind=K.F_SCORE, comparison="gte", number=5) == ids(a)


def test_segment_is_one_query(
    tenant: Any, shoppers: dict[str, Any], django_assert_num_queries: Any
) -> None:
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    rfm_refresh(tenant=tenant, now=NOW)
    distributor(tenant, member=shoppers["a"])
    seg = segment(
        tenant,
        {"kind": K.TAG, "tag": vip, "negate": True},
        {"kind": K.PLATFORM, "platform": "wechat", "negate": True},
        {"kind": K.CITY, "city": "Shenzhen", "negate": True},
        {"kind": K.DISTRIBUTOR},
        {"kind": K.PAID_ORDERS, "comparison": "gte", "number": 1, "window_days": 30},
        {"kind": K.DAYS_SINCE_PAID, "comparison": "lte", "number": 60},
        {"kind": K.R_SCORE, "comparison": "gte", "number": 3},
    )
    with django_assert_num_queries(2):  # the conditions, then the count
        assert segment_count(tenant=tenant, segment=seg, now=NOW) == 1
    seg = type(seg).objects.prefetch_related("conditions").get(pk=seg.pk)
    with django_assert_num_queries(1):
        assert list(segment_members(tenant=tenant, segment=seg, now=NOW)) == [shoppers["a"]]


def test_another_tenants_segment_is_empty(tenant: Any, other_tenant: Any) -> None:
    MemberFactory(tenant=tenant)
    theirs = segment(other_tenant)
    assert segment_count(tenant=tenant, segment=theirs) == 0


def test_rfm_refresh_is_set_based(tenant: Any, django_assert_num_queries: Any) -> None:
    for i in range(12):
        paid(MemberFactory(tenant=tenant), days_ago=i + 1, amount="10.00", now=NOW)
    # Upsert, delete, score, then the count answered: the same for 12 members as for 12,000
    # (plus the savepoint pair of the transaction when a test transaction is open).
    with django_assert_num_queries(6):
        assert rfm_refresh(tenant=tenant, now=NOW) == 12
