"""Demo data of members for ``manage.py seed_demo`` (idempotent: safe to re-run).

A few members with platform identities on the tenant's channels and one address each; a member
is found again by its phone, an identity by its openid, so a re-run creates nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import OutputWrapper

from mall.tenancy.models import Channel, Tenant
from members.models import Address, Member, MemberIdentity


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


def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    seed_members(tenant=tenant, stdout=stdout)
