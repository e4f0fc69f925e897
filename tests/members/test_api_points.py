"""GET /api/v1/me/points, POST /api/merchant/v1/members/{id}/points, and check-in endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import CheckInReward, Member, PointsLedger, PointsSettings
from members.points import services
from members.points.models import Reason
from tests.members.factories import MemberFactory
from tests.members.test_api_auth import assert_error
from tests.members.test_api_me import me_client
from tests.members.test_api_merchant_members import merchant_client

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _earn(tenant: Any, member: Member, points: int, ref: str, now: datetime) -> None:
    services.points_earn(
        tenant=tenant,
        member_id=member.pk,
        points=points,
        reason=Reason.EARN_ORDER,
        ref=ref,
        order_number=ref,
        now=now,
    )


def test_me_points_shows_balance_expiring_soon_and_ledger_pages(
    tenant: Any, channel: Any, django_assert_num_queries: Any
) -> None:
    PointsSettings.objects.create(tenant=tenant, expiry=PointsSettings.Expiry.DAYS, expiry_days=40)
    member = MemberFactory(tenant=tenant)
    _earn(tenant, member, 100, "O1", NOW - timedelta(days=20))  # expires in 20 days
    _earn(tenant, member, 50, "O2", NOW - timedelta(days=5))  # in 35 days: not soon
    services.points_spend(tenant=tenant, member_id=member.pk, points=30, order_number="O3", now=NOW)
    with time_machine.travel(NOW, tick=False):
        client = me_client(channel, member)  # a token valid at NOW
        body = client.get("/api/v1/me/points").json()

    assert body["balance"] == 120
    assert body["debt"] == 0
    assert body["expiring_soon"] == [{"points": 70, "expires_at": "2027-01-09T10:00:00+08:00"}]
    assert body["count"] == 3
    assert [(r["delta"], r["reason"], r["order_number"]) for r in body["results"]] == [
        (-30, "spend_order", "O3"),
        (50, "earn_order", "O2"),
        (100, "earn_order", "O1"),
    ]
    first = body["results"][2]
    assert set(first) == {"id", "delta", "reason", "order_number", "expires_at", "created_at"}
    assert first["expires_at"] == "2027-01-09T10:00:00+08:00"
    assert body["results"][0]["expires_at"] is None

    for n in range(30):
        _earn(tenant, member, 1, f"X{n}", NOW)
    with time_machine.travel(NOW, tick=False):
        client.get("/api/v1/me/points?page=2")  # warm the per-process caches
        with CaptureQueriesContext(connection) as counted:
            page = client.get("/api/v1/me/points?page=2").json()
    assert (page["count"], len(page["results"])) == (33, 13)
    # Member (token), expiring soon, count, the page: independent of the rows on the page.
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(len(counted.captured_queries)),
    ):
        client.get("/api/v1/me/points")
    assert len(counted.captured_queries) <= 5, [q["sql"] for q in counted.captured_queries]


def test_me_points_needs_a_member(channel: Any) -> None:
    from tests.conftest import shopper_client

    response = shopper_client(channel.app_id).get("/api/v1/me/points")
    assert response.status_code == 401


def test_merchant_adjusts_points_with_a_reason(tenant: Any, other_tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    api = merchant_client(tenant, ["members"])

    up = api.post(
        f"/api/merchant/v1/members/{member.pk}/points",
        {"delta": 80, "reason": "CRM migration"},
        format="json",
    )
    down = api.post(
        f"/api/merchant/v1/members/{member.pk}/points",
        {"delta": -30, "reason": "correction"},
        format="json",
    )
    short = api.post(
        f"/api/merchant/v1/members/{member.pk}/points",
        {"delta": -51, "reason": "too much"},
        format="json",
    )
    no_reason = api.post(
        f"/api/merchant/v1/members/{member.pk}/points", {"delta": 5}, format="json"
    )
    foreign = MemberFactory(tenant=other_tenant)
    missing = api.post(
        f"/api/merchant/v1/members/{foreign.pk}/points",
        {"delta": 5, "reason": "x"},
        format="json",
    )
    wrong_scope = merchant_client(tenant, ["orders"]).post(
        f"/api/merchant/v1/members/{member.pk}/points",
        {"delta": 5, "reason": "x"},
        format="json",
    )

    assert up.status_code == 201, up.content
    assert {k: up.json()[k] for k in ("member_id", "delta", "reason", "balance", "debt")} == {
        "member_id": member.pk,
        "delta": 80,
        "reason": "CRM migration",
        "balance": 80,
        "debt": 0,
    }
    assert (down.status_code, down.json()["balance"]) == (201, 50)
    assert assert_error(short, 409, "insufficient_points")["details"] == {
        "requested": 51,
        "available": 50,
    }
    assert no_reason.status_code == 400
    assert missing.status_code == 404
    assert wrong_scope.status_code == 403
    assert Member.objects.get(pk=member.pk).points == 50
    rows = PointsLedger.objects.for_tenant(tenant).filter(member=member).order_by("id")
    assert [(r.delta, r.note, r.actor.startswith("apikey:")) for r in rows] == [
        (80, "CRM migration", True),
        (-30, "correction", True),
    ]


def test_check_in_once_a_day_with_streak_rewards_and_the_month(tenant: Any, channel: Any) -> None:
    from members.checkin import rewards

    CheckInReward.objects.create(tenant=tenant, day=0, points=5)
    CheckInReward.objects.create(tenant=tenant, day=2, points=10, growth=3, coupon_template_id=9)
    member = MemberFactory(tenant=tenant)
    growth: list[tuple[int, int, str]] = []
    coupons: list[tuple[int, int, str]] = []

    def on_growth(*, tenant: Any, member_id: int, amount: int, ref: str) -> None:
        growth.append((member_id, amount, ref))

    def on_coupon(*, tenant: Any, member_id: int, template_id: int, ref: str) -> None:
        coupons.append((member_id, template_id, ref))

    rewards.register_growth_handler(on_growth)
    rewards.register_coupon_handler(on_coupon)
    try:
        # 23:30 Shanghai on 30 Nov, then 00:10 and 23:50 on 1 Dec (same local day), 3 Dec.
        day1 = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        with time_machine.travel(day1, tick=False):
            first = me_client(channel, member).post("/api/v1/me/check-in")
        with time_machine.travel(datetime(2026, 11, 30, 16, 10, tzinfo=UTC), tick=False):
            second = me_client(channel, member).post("/api/v1/me/check-in")
        with time_machine.travel(datetime(2026, 12, 1, 15, 50, tzinfo=UTC), tick=False):
            again = me_client(channel, member).post("/api/v1/me/check-in")
        with time_machine.travel(datetime(2026, 12, 3, 1, 0, tzinfo=UTC), tick=False):
            client = me_client(channel, member)
            broken = client.post("/api/v1/me/check-in")
            month = client.get("/api/v1/me/check-in?month=2026-12").json()
            november = client.get("/api/v1/me/check-in?month=2026-11").json()
            bad = client.get("/api/v1/me/check-in?month=2026-13")
    finally:
        rewards.growth_handlers.remove(on_growth)
        rewards.coupon_handlers.remove(on_coupon)

    assert (first.status_code, first.json()) == (
        201,
        {"date": "2026-11-30", "streak": 1, "rewards": [{"type": "points", "points": 5}]},
    )
    assert (second.status_code, second.json()) == (
        201,
        {
            "date": "2026-12-01",
            "streak": 2,
            "rewards": [
                {"type": "points", "points": 15},
                {"type": "coupon", "template_id": 9},
                {"type": "growth", "growth": 3},
            ],
        },
    )
    assert (again.status_code, again.json()["date"], again.json()["streak"]) == (
        200,
        "2026-12-01",
        2,
    )
    assert (broken.status_code, broken.json()["streak"]) == (201, 1)
    assert growth == [(member.pk, 3, f"checkin:{member.pk}:2026-12-01")]
    assert coupons == [(member.pk, 9, f"checkin:{member.pk}:2026-12-01:2")]
    assert month == {
        "month": "2026-12",
        "days": [{"date": "2026-12-01", "streak": 2}, {"date": "2026-12-03", "streak": 1}],
        "streak": 1,
        "checked_in_today": True,
    }
    assert november["days"] == [{"date": "2026-11-30", "streak": 1}]
    assert_error(bad, 400, "validation_error")
    assert Member.objects.get(pk=member.pk).points == 5 + 15 + 5
