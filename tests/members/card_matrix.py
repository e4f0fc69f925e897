"""Member cards' part of the cross-tenant matrix, ready to merge into tests/security/factories.py:

    from tests.members import card_matrix
    MODEL_FACTORIES.update(card_matrix.MODEL_FACTORIES)
    ROUTES.update(card_matrix.ROUTES)
    NOT_IN_CONSOLE.update(card_matrix.NOT_IN_CONSOLE)

All three models are registered in the console (plans editable, purchases and cards read-only),
so their console pages are classified by the console registration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import CardPurchase, Member, MemberCard, MemberCardPlan
from tests.security.matrix import MARKER, ListRoute, ObjectRoute


def _plan(t: Tenant) -> MemberCardPlan:
    return MemberCardPlan.objects.create(
        tenant=t,
        name=f"{MARKER}-{MemberCardPlan.objects.for_tenant(t).count()}",
        price=Decimal("19.90"),
        duration_days=30,
        benefits={"note": MARKER},
    )


def _member(t: Tenant) -> Member:
    return Member.objects.create(tenant=t, nickname=MARKER)


def _purchase(t: Tenant) -> CardPurchase:
    plan = _plan(t)
    purchase = CardPurchase.objects.create(
        tenant=t,
        member=_member(t),
        plan=plan,
        plan_name=plan.name,
        price=plan.price,
        duration_days=plan.duration_days,
        reference=f"{MARKER}-new",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    purchase.reference = f"card:{purchase.pk}"
    purchase.save(update_fields=["reference"])
    return purchase


def _card(t: Tenant) -> MemberCard:
    now = timezone.now()
    return MemberCard.objects.create(
        tenant=t, member=_member(t), plan=_plan(t), starts_at=now, ends_at=now + timedelta(days=30)
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "members.MemberCardPlan": _plan,
    "members.CardPurchase": _purchase,
    "members.MemberCard": _card,
}

NOT_IN_CONSOLE: dict[str, str] = {}

ROUTES: dict[str, Any] = {
    "api/v1/member-cards": ListRoute("members.MemberCardPlan"),
    "api/v1/member-cards/<int:plan_id>/purchase": ObjectRoute(
        "members.MemberCardPlan", methods=("post",), body={"gateway": "sandbox"}
    ),
}
