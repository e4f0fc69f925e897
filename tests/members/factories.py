from __future__ import annotations

from typing import Any

import factory

from members.models import Address, Member, MemberIdentity
from members.services.tokens import member_tokens_issue
from tests.mall.factories import TenantFactory


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    tenant = factory.SubFactory(TenantFactory)
    nickname = factory.Sequence(lambda n: f"member {n}")

    @classmethod
    def _create(cls, model_class: type[Member], *args: Any, **kwargs: Any) -> Member:
        """``points=N`` is earned through the ledger (a lot and a ledger row), so the balance
        keeps its invariant (members/points)."""
        points = kwargs.pop("points", 0)
        member = super()._create(model_class, *args, **kwargs)
        if points:
            from members.points.services import points_adjust

            points_adjust(
                tenant=member.tenant,
                member_id=member.pk,
                delta=points,
                note="test balance",
                actor="test",
            )
            member.refresh_from_db(fields=["points", "points_debt", "updated_at"])
        return member


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
