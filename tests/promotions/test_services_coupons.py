"""Coupon services: claim limits (also under 100 concurrent threads), segment issue, expiry,
lock/use/release."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from mall.api.errors import ApplicationError, status_for
from promotions.models import Coupon, CouponTemplate
from promotions.services import (
    coupon_claim,
    coupon_expire_due,
    coupon_issue_to_members,
    coupon_lock,
    coupon_release,
    coupon_use,
)
from tests.members.factories import MemberFactory
from tests.promotions.factories import CouponFactory, CouponTemplateFactory

pytestmark = pytest.mark.django_db


def test_claim_issues_a_coupon_with_the_template_window(tenant: Any) -> None:
    template = CouponTemplateFactory(tenant=tenant)
    member = MemberFactory(tenant=tenant)
    coupon = coupon_claim(tenant=tenant, member=member, template_id=template.pk)
    assert coupon.status == Coupon.Status.UNUSED
    assert (coupon.valid_from, coupon.valid_until) == (template.valid_from, template.valid_until)
    template.refresh_from_db()
    assert template.issued_count == 1


def test_relative_validity_starts_at_claim(tenant: Any) -> None:
    template = CouponTemplateFactory(
        tenant=tenant,
        validity_type=CouponTemplate.Validity.RELATIVE,
        valid_from=None,
        valid_until=None,
        valid_days=7,
    )
    now = timezone.now()
    coupon = coupon_claim(
        tenant=tenant, member=MemberFactory(tenant=tenant), template_id=template.pk, now=now
    )
    assert coupon.valid_until - coupon.valid_from == timedelta(days=7)
    assert coupon.valid_from == now


def test_per_member_limit_and_total_quantity(tenant: Any) -> None:
    template = CouponTemplateFactory(tenant=tenant, total_quantity=3, per_member_limit=2)
    alice, bob = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    coupon_claim(tenant=tenant, member=alice, template_id=template.pk)
    coupon_claim(tenant=tenant, member=alice, template_id=template.pk)
    with pytest.raises(ApplicationError) as limit:
        coupon_claim(tenant=tenant, member=alice, template_id=template.pk)
    assert limit.value.code == "coupon_limit_reached"
    coupon_claim(tenant=tenant, member=bob, template_id=template.pk)
    with pytest.raises(ApplicationError) as sold_out:
        coupon_claim(tenant=tenant, member=bob, template_id=template.pk)
    assert sold_out.value.code == "coupon_sold_out"
    template.refresh_from_db()
    assert template.issued_count == 3
    assert Coupon.objects.filter(template=template).count() == 3


def test_refused_claims_do_not_count(tenant: Any) -> None:
    template = CouponTemplateFactory(tenant=tenant, total_quantity=5)
    member = MemberFactory(tenant=tenant)
    coupon_claim(tenant=tenant, member=member, template_id=template.pk)
    with pytest.raises(ApplicationError):
        coupon_claim(tenant=tenant, member=member, template_id=template.pk)
    template.refresh_from_db()
    assert template.issued_count == 1


@pytest.mark.parametrize(
    ("changes", "channel"),
    [
        ({"is_active": False}, "public"),
        ({"claim_channel": "automation"}, "public"),
        ({"claim_ends_at": "a minute ago"}, "public"),
        ({"valid_until": "a minute ago"}, "public"),
        ({"claim_channel": "public"}, "distributor"),
    ],
)
def test_not_claimable(tenant: Any, changes: dict, channel: str) -> None:
    # "a minute ago" is taken when the test runs, not when the module is collected
    minute_ago = timezone.now() - timedelta(minutes=1)
    changes = {k: minute_ago if v == "a minute ago" else v for k, v in changes.items()}
    template = CouponTemplateFactory(tenant=tenant, **changes)
    with pytest.raises(ApplicationError) as exc:
        coupon_claim(
            tenant=tenant,
            member=MemberFactory(tenant=tenant),
            template_id=template.pk,
            channel=channel,
        )
    assert exc.value.code == "coupon_not_claimable"


def test_another_tenants_template_is_not_found(tenant: Any, other_tenant: Any) -> None:
    template = CouponTemplateFactory(tenant=other_tenant)
    with pytest.raises(ApplicationError) as exc:
        coupon_claim(tenant=tenant, member=MemberFactory(tenant=tenant), template_id=template.pk)
    assert status_for(exc.value) == 404


def test_issue_to_a_segment(tenant: Any, other_tenant: Any) -> None:
    template = CouponTemplateFactory(
        tenant=tenant, total_quantity=2, claim_channel=CouponTemplate.Channel.AUTOMATION
    )
    members = [MemberFactory(tenant=tenant) for _ in range(3)]
    stranger = MemberFactory(tenant=other_tenant)
    result = coupon_issue_to_members(
        tenant=tenant, template=template, member_ids=[m.pk for m in members] + [stranger.pk]
    )
    assert result.issued == [members[0].pk, members[1].pk]
    assert result.skipped == {members[2].pk: "coupon_sold_out", stranger.pk: "member_not_found"}
    assert not Coupon.objects.filter(member=stranger).exists()


def test_expiry_marks_only_unused_past_coupons(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    now = timezone.now()
    past = CouponFactory(
        template__tenant=tenant, member=member, valid_until=now - timedelta(seconds=1)
    )
    used = CouponFactory(
        template__tenant=tenant,
        member=member,
        valid_until=now - timedelta(seconds=1),
        status=Coupon.Status.USED,
    )
    current = CouponFactory(template__tenant=tenant, member=member)
    assert coupon_expire_due(now=now) == 1
    assert Coupon.objects.get(pk=past.pk).status == Coupon.Status.EXPIRED
    assert Coupon.objects.get(pk=used.pk).status == Coupon.Status.USED
    assert Coupon.objects.get(pk=current.pk).status == Coupon.Status.UNUSED


def test_lock_use_release(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    coupon = CouponFactory(template__tenant=tenant, member=member)
    coupon_lock(tenant=tenant, member=member, coupon_ids=[coupon.pk], order_reference="O1")
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.LOCKED
    with pytest.raises(ApplicationError) as exc:
        coupon_lock(tenant=tenant, member=member, coupon_ids=[coupon.pk], order_reference="O2")
    assert exc.value.code == "coupon_unavailable"
    assert coupon_release(tenant=tenant, order_reference="O1") == 1
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.UNUSED
    coupon_lock(tenant=tenant, member=member, coupon_ids=[coupon.pk], order_reference="O3")
    assert coupon_use(tenant=tenant, order_reference="O3") == 1
    assert coupon_use(tenant=tenant, order_reference="O3") == 0
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.USED


def test_lock_refuses_another_members_coupon(tenant: Any) -> None:
    coupon = CouponFactory(template__tenant=tenant, member=MemberFactory(tenant=tenant))
    with pytest.raises(ApplicationError):
        coupon_lock(
            tenant=tenant,
            member=MemberFactory(tenant=tenant),
            coupon_ids=[coupon.pk],
            order_reference="O1",
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eighty_threads_claim_thirty_coupons(tenant: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    template = CouponTemplateFactory(tenant=tenant, total_quantity=30, per_member_limit=1)
    # 40 members, each claiming from two threads at once: 80 claims. Eighty connections at
    # once leave room under PostgreSQL's default max_connections (100) for the other xdist
    # worker and a browser test's live server running beside this test.
    members = [MemberFactory(tenant=tenant) for _ in range(40)]
    barrier = threading.Barrier(80)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait()
            coupon_claim(tenant=tenant, member=members[n % 40], template_id=template.pk)
            result = "ok"
        except ApplicationError as exc:
            result = exc.code
        except Exception as exc:  # any other failure fails the test below
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(80)]
    # 80 threads hold 80 connections at once; this thread's own is closed first.
    connection.close()
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == 80
    assert outcomes.count("ok") == 30
    assert set(outcomes) <= {"ok", "coupon_sold_out", "coupon_limit_reached"}
    template.refresh_from_db()
    assert template.issued_count == 30
    holders = list(Coupon.objects.filter(template=template).values_list("member_id", flat=True))
    assert len(holders) == 30
    assert len(set(holders)) == 30  # no member holds two
