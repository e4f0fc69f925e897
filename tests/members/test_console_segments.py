"""Console pages of tags, segments and automation: bulk tag actions with a tag picker, the
segment's live count, the automation rule form (typed) and its dry run, issuing a coupon
template to a segment."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from mall.tenancy.models import Staff
from members.models import AutomationRule, MemberTag, Segment, SegmentCondition, Tag
from promotions.models import Coupon, CouponTemplate
from tests.mall.factories import StaffFactory, UserFactory
from tests.members.factories import MemberFactory
from tests.members.segment_helpers import segment
from tests.promotions.factories import CouponTemplateFactory

pytestmark = pytest.mark.django_db


def _client(tenant: Any, role: str = Staff.Role.OWNER) -> Client:
    staff = StaffFactory(tenant=tenant, user=UserFactory(), role=role)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the assertions read English messages
    client.force_login(staff.user)
    return client


@pytest.fixture
def console(tenant: Any) -> Client:
    return _client(tenant)


def test_add_and_remove_a_tag_from_the_member_list(
    console: Client, tenant: Any, other_tenant: Any
) -> None:
    a, b, c = (MemberFactory(tenant=tenant) for _ in range(3))
    Tag.objects.create(tenant=other_tenant, name="Theirs")
    url = "/console/members/member/"
    page = console.post(url, {"action": "add_tag", "_selected_action": [a.pk, b.pk]})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Theirs" not in html and 'name="new_tag"' in html

    done = console.post(
        url,
        {"action": "add_tag", "_selected_action": [a.pk, b.pk], "apply": "1", "new_tag": "VIP"},
    )
    assert done.status_code == 302
    vip = Tag.objects.get(tenant=tenant, name="VIP")
    assert sorted(MemberTag.objects.filter(tag=vip).values_list("member_id", flat=True)) == [
        a.pk,
        b.pk,
    ]
    filtered = console.get(url, {"tag": vip.pk}).content.decode()
    assert f"/console/members/member/{a.pk}/change/" in filtered
    assert f"/console/members/member/{c.pk}/change/" not in filtered

    console.post(
        url,
        {"action": "remove_tag", "_selected_action": [a.pk], "apply": "1", "tag": vip.pk},
    )
    assert list(MemberTag.objects.filter(tag=vip).values_list("member_id", flat=True)) == [b.pk]


def test_tag_actions_are_for_editors_only(tenant: Any) -> None:
    finance = _client(tenant, Staff.Role.FINANCE)
    member = MemberFactory(tenant=tenant)
    page = finance.get("/console/members/member/").content.decode()
    assert "add_tag" not in page
    finance.post(
        "/console/members/member/",
        {"action": "add_tag", "_selected_action": [member.pk], "apply": "1", "new_tag": "x"},
    )
    assert MemberTag.objects.count() == 0


def test_segment_page_shows_the_live_count(console: Client, tenant: Any) -> None:
    MemberFactory(tenant=tenant, birthday=date(1990, 6, 1))
    MemberFactory(tenant=tenant, birthday=date(1990, 6, 2))
    MemberFactory(tenant=tenant, birthday=date(1990, 7, 1))
    response = console.post(
        "/console/members/segment/add/",
        {
            "name": "June birthdays",
            "description": "",
            "match": "all",
            "conditions-TOTAL_FORMS": "1",
            "conditions-INITIAL_FORMS": "0",
            "conditions-0-kind": "birthday_month",
            "conditions-0-month": "6",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    seg = Segment.objects.get(tenant=tenant)
    assert list(SegmentCondition.objects.filter(segment=seg).values_list("kind", "month")) == [
        ("birthday_month", 6)
    ]
    page = console.get(f"/console/members/segment/{seg.pk}/change/").content.decode()
    assert '<div class="readonly">2</div>' in page or ">2<" in page
    counted = console.post(
        "/console/members/segment/",
        {"action": "count_members", "_selected_action": [seg.pk]},
        follow=True,
    )
    assert "June birthdays: 2 members" in counted.content.decode()


def test_segment_rows_are_validated(console: Client, tenant: Any) -> None:
    response = console.post(
        "/console/members/segment/add/",
        {
            "name": "Big spenders",
            "match": "all",
            "conditions-TOTAL_FORMS": "1",
            "conditions-INITIAL_FORMS": "0",
            "conditions-0-kind": "paid_amount",
            "conditions-0-comparison": "gte",
        },
    )
    assert response.status_code == 200
    assert not Segment.objects.exists()


def test_rule_form_offers_own_coupons_and_shows_the_dry_run(
    console: Client, tenant: Any, other_tenant: Any
) -> None:
    mine = CouponTemplateFactory(tenant=tenant, name="Birthday 20 off")
    CouponTemplateFactory(tenant=other_tenant, name="Their coupon")
    page = console.get("/console/members/automationrule/add/").content.decode()
    assert "Birthday 20 off" in page and "Their coupon" not in page
    MemberFactory(tenant=tenant, birthday=date.today())
    response = console.post(
        "/console/members/automationrule/add/",
        {
            "name": "Birthday coupon",
            "is_active": "on",
            "trigger": "birthday",
            "days": "3",
            "coupon_template_id": str(mine.pk),
            "points": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = AutomationRule.objects.get(tenant=tenant)
    assert rule.coupon_template_id == mine.pk
    page = console.get(f"/console/members/automationrule/{rule.pk}/change/").content.decode()
    assert "1 members (found 1, already done 0)" in page


def test_issue_coupons_to_a_segment(console: Client, tenant: Any) -> None:
    template = CouponTemplateFactory(
        tenant=tenant, claim_channel=CouponTemplate.Channel.AUTOMATION, total_quantity=10
    )
    june = [MemberFactory(tenant=tenant, birthday=date(1990, 6, d)) for d in (1, 2)]
    MemberFactory(tenant=tenant, birthday=date(1990, 7, 1))
    seg = segment(tenant, {"kind": SegmentCondition.Kind.BIRTHDAY_MONTH, "month": 6})
    url = "/console/promotions/coupontemplate/"
    picker = console.post(url, {"action": "issue_to_segment", "_selected_action": [template.pk]})
    assert picker.status_code == 200 and seg.name in picker.content.decode()
    done = console.post(
        url,
        {
            "action": "issue_to_segment",
            "_selected_action": [template.pk],
            "apply": "1",
            "segment": seg.pk,
        },
        follow=True,
    )
    assert "issued 2, skipped 0" in done.content.decode()
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == [m.pk for m in june]


def test_member_page_shows_tags_and_the_automation_log(console: Client, tenant: Any) -> None:
    from members.automation.services import automation_trigger

    member = MemberFactory(tenant=tenant)
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    MemberTag.objects.create(tenant=tenant, member=member, tag=vip)
    AutomationRule.objects.create(
        tenant=tenant, name="Tier up gift", trigger="tier_up", notify=True, notify_title="Hi"
    )
    automation_trigger(member, "tier_up", key="tier:2")
    page = console.get(f"/console/members/member/{member.pk}/change/").content.decode()
    assert "VIP" in page
    assert "Tier up gift · tier:2 · Pending" in page
