from __future__ import annotations

import factory

from members.models import Address, Member, MemberIdentity
from members.services.tokens import member_tokens_issue
from tests.mall.factories import TenantFactory


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    tenant = factory.SubFactory(TenantFactory)
    nickname = factory.Sequence(lambda n: f"member {n}")


class MemberIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberIdentity

    member = factory.SubFactory(MemberFactory)
    tenant = factory.SelfAttribute("member.tenant")
    platform = MemberIdentity.Platform.WECHAT
    app_id = factory.Sequence(lambda n: f"wxapp{n}")
    openid = factory.Sequence(lambda n: f"openid-{n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    member = factory.SubFactory(MemberFactory)
    tenant = factory.SelfAttribute("member.tenant")
    name = "Zhang San"
    phone = "13800138000"
    province = "Guangdong"
    city = "Shenzhen"
    district = "Nanshan"
    detail = "1 Keji Road"
    province_code = "440000"


def access_token_for(member: Member) -> str:
    """A valid access token for this member (as a login would issue)."""
    return member_tokens_issue(member=member).access
