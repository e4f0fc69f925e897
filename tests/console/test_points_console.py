"""Console: adjust a member's points with a reason from the member's page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from mall.tenancy.models import Staff, Tenant
from members.models import Member, PointsLedger
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_staff_adjust_points_with_a_reason(
    shop_a: Tenant,
    shop_b: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    member = MemberFactory(tenant=shop_a, points=10)
    owner = make_staff(shop_a)
    client = console_client(owner)
    url = f"/console/members/member/{member.pk}/points/"

    page = client.get(url)
    change = client.get(f"/console/members/member/{member.pk}/change/")
    zero = client.post(url, {"delta": "0", "reason": "x"})
    short = client.post(url, {"delta": "-11", "reason": "fix"})
    done = client.post(url, {"delta": "-4", "reason": "damaged gift"})
    finance = console_client(make_staff(shop_a, Staff.Role.FINANCE)).post(
        url, {"delta": "5", "reason": "x"}
    )
    other_shop = console_client(make_staff(shop_b)).get(url)

    assert page.status_code == 200 and "id_reason" in page.content.decode()
    assert url in change.content.decode()
    assert zero.status_code == 200 and "id_delta" in zero.content.decode()
    assert short.status_code == 200 and "Not enough points." in short.content.decode()
    assert done.status_code == 302
    assert finance.status_code == 403
    assert other_shop.status_code == 404
    assert Member.objects.get(pk=member.pk).points == 6
    row = PointsLedger.objects.for_tenant(shop_a).filter(member=member).order_by("-id").first()
    assert row is not None
    assert (row.delta, row.note, row.actor) == (-4, "damaged gift", f"staff:{owner.user.pk}")
