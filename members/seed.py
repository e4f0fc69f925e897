"""Demo data of members for ``manage.py seed_demo`` (idempotent: safe to re-run).

A few members with platform identities on the tenant's channels and one address each; a member
is found again by its phone, an identity by its openid, so a re-run creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.management.base import OutputWrapper

from mall.tenancy.models import Channel, Tenant
from members.checkin.models import CheckInReward
from members.models import Address, Member, MemberIdentity
from members.points.models import PointsSettings
from members.segments.models import Segment, SegmentCondition, Tag
from members.tiers.models import Tier, TierSettings


@dataclass(frozen=True)
class DemoMember:
    nickname: str
    phone: str
    # (platform, openid suffix): an identity on the tenant's channel of that platform.
    identities: tuple[tuple[str, str], ...]
    address: dict[str, str]


DEMO_MEMBERS = (
    DemoMember(
        nickname="Xiao Ming",
        phone="13800000001",
        identities=(("wechat", "xiaoming"),),
        address={
            "name": "Xiao Ming",
            "province": "Guangdong",
            "city": "Shenzhen",
            "district": "Nanshan",
            "detail": "1 Keji Road, Building A, Room 101",
            "province_code": "440000",
            "city_code": "440300",
            "district_code": "440305",
            "postal_code": "518000",
        },
    ),
    DemoMember(
        nickname="Li Hua",
        phone="13800000002",
        identities=(("alipay", "lihua"),),
        address={
            "name": "Li Hua",
            "province": "Zhejiang",
            "city": "Hangzhou",
            "district": "Xihu",
            "detail": "88 Wensan Road",
            "province_code": "330000",
            "city_code": "330100",
            "district_code": "330106",
            "postal_code": "310000",
        },
    ),
    DemoMember(
        nickname="Wang Fang",
        phone="13800000003",
        identities=(("wechat", "wangfang"), ("alipay", "wangfang")),
        address={
            "name": "Wang Fang",
            "province": "Beijing",
            "city": "Beijing",
            "district": "Chaoyang",
            "detail": "9 Jianguo Road, Tower 2",
            "province_code": "110000",
            "city_code": "110100",
            "district_code": "110105",
            "postal_code": "100022",
        },
    ),
)


def seed_members(*, tenant: Tenant, stdout: OutputWrapper) -> list[Member]:
    """A few members with platform identities on the tenant's channels and one address each."""
    channels = {c.platform: c for c in Channel.objects.for_tenant(tenant).order_by("id")}
    members: list[Member] = []
    created = 0
    for demo in DEMO_MEMBERS:
        member = (
            Member.objects.for_tenant(tenant)
            .filter(phone=demo.phone, merged_into__isnull=True)
            .first()
        )
        if member is None:
            member = Member.objects.create(tenant=tenant, nickname=demo.nickname, phone=demo.phone)
            created += 1
        for platform, suffix in demo.identities:
            channel = channels.get(platform)
            if channel is None:
                continue
            MemberIdentity.objects.for_tenant(tenant).get_or_create(
                app_id=channel.app_id,
                openid=f"demo-{tenant.slug}-{suffix}",
                defaults={"tenant": tenant, "member": member, "platform": platform},
            )
        if not Address.objects.for_tenant(tenant).filter(member=member).exists():
            Address.objects.create(
                tenant=tenant, member=member, phone=demo.phone, is_default=True, **demo.address
            )
        members.append(member)
    stdout.write(f"  members: {len(members)} ({created} new)")
    return members


# (name, level, growth to reach, growth to keep per review, discount rate, free shipping,
# points multiplier, birthday points)
DEMO_TIERS = (
    ("Silver", 1, 500, 200, None, False, Decimal("1.2"), 50),
    ("Gold", 2, 2000, 800, Decimal("0.98"), False, Decimal("1.5"), 100),
    ("Diamond", 3, 8000, 3000, Decimal("0.95"), True, Decimal("2"), 300),
)
# (streak day, points, growth): day 7 of a streak gives the most.
DEMO_CHECKIN = ((1, 5, 1), (2, 5, 1), (3, 10, 1), (7, 30, 5))
DEMO_TAG = "Demo: VIP"
DEMO_SEGMENT = "Demo: quiet for 30 days"


def seed_growth(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    """Tiers, points and check-in rules, a tag and a segment, so the console's growth pages
    show a working setup (each found again by its natural key: nothing twice)."""
    TierSettings.objects.for_tenant(tenant).get_or_create(tenant=tenant)
    PointsSettings.objects.for_tenant(tenant).get_or_create(
        tenant=tenant, defaults={"first_order_bonus": 100}
    )
    for name, level, reach, keep, rate, shipping, multiplier, birthday in DEMO_TIERS:
        Tier.objects.for_tenant(tenant).get_or_create(
            tenant=tenant,
            level=level,
            defaults={
                "name": name,
                "growth_threshold": reach,
                "keep_threshold": keep,
                "discount_rate": rate,
                "free_shipping": shipping,
                "points_multiplier": multiplier,
                "birthday_points": birthday,
            },
        )
    for day, points, growth in DEMO_CHECKIN:
        CheckInReward.objects.for_tenant(tenant).get_or_create(
            tenant=tenant, day=day, defaults={"points": points, "growth": growth}
        )
    Tag.objects.for_tenant(tenant).get_or_create(tenant=tenant, name=DEMO_TAG)
    segment, created = Segment.objects.for_tenant(tenant).get_or_create(
        tenant=tenant,
        name=DEMO_SEGMENT,
        defaults={"description": "No paid order for 30 days or more"},
    )
    if created:
        SegmentCondition.objects.create(
            tenant=tenant,
            segment=segment,
            kind=SegmentCondition.Kind.DAYS_SINCE_PAID,
            comparison=SegmentCondition.Comparison.AT_LEAST,
            number=30,
        )
    stdout.write(f"  growth: {len(DEMO_TIERS)} tiers, {len(DEMO_CHECKIN)} check-in rewards")


def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    seed_members(tenant=tenant, stdout=stdout)
    seed_growth(tenant=tenant, stdout=stdout)
