"""Merging two members of one tenant (phone binding found the same person twice).

Every row of any app that points at the absorbed member moves to the survivor. Relations are
found generically from ``Member``'s reverse foreign keys (hidden ones included), so models added
later (orders, coupons, points ledgers ...) move without changes here. A model whose rows cannot
simply be re-pointed (a uniqueness per member, a one-to-one) registers a handler::

    register_merge_handler(Wallet, merge_wallets)              # field "member" by default
    register_merge_handler(AuditRow, keep_rows, field="actor")  # history: leave it as it is

from its app's ``AppConfig.ready()``. ``tests/members/test_services_merge.py`` fails for any
member relation with such a uniqueness and no handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError
from members.errors import MemberErrorCode
from members.models import Address, CheckIn, Member, MemberMerge

MergeHandler = Callable[..., int]  # (*, survivor: Member, loser: Member) -> rows moved

_HANDLERS: dict[tuple[str, str], MergeHandler] = {}


@dataclass(frozen=True)
class MemberRelation:
    """One foreign key (of any model) that points at ``Member``."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.model._meta.label, self.field.name)

    @property
    def is_auto_m2m_through(self) -> bool:
        return bool(self.model._meta.auto_created)

    @property
    def unique_per_member(self) -> bool:
        """Whether re-pointing rows could collide with the survivor's rows."""
        if self.field.unique:
            return True
        name = self.field.name
        if any(name in together for together in self.model._meta.unique_together):
            return True
        return any(
            isinstance(c, models.UniqueConstraint) and name in (c.fields or ())
            for c in self.model._meta.constraints
        )

    @property
    def handler(self) -> MergeHandler | None:
        return _HANDLERS.get(self.key)


def register_merge_handler(
    model: type[models.Model], handler: MergeHandler, *, field: str = "member"
) -> None:
    """Move ``model.<field>`` rows with ``handler(survivor=, loser=)`` instead of an UPDATE."""
    _HANDLERS[(model._meta.label, field)] = handler


def keep_rows(*, survivor: Member, loser: Member) -> int:
    """Handler for history rows that must keep pointing at the absorbed member."""
    return 0


def member_relations() -> list[MemberRelation]:
    """Every foreign key in the project that points at Member (hidden reverse ones included)."""
    relations = [
        MemberRelation(model=f.related_model, field=f.field)  # type: ignore[arg-type]
        for f in Member._meta.get_fields(include_hidden=True)
        if isinstance(f, models.ForeignObjectRel) and (f.one_to_many or f.one_to_one)
    ]
    return sorted(relations, key=lambda r: r.label)


def _move_auto_m2m(relation: MemberRelation, survivor: Member, loser: Member) -> int:
    """An auto-created many-to-many table: drop the loser's links the survivor already has."""
    through = relation.model
    name = relation.field.name
    other = next(
        f for f in through._meta.fields if isinstance(f, models.ForeignKey) and f.name != name
    )
    survivor_targets = through._base_manager.filter(**{name: survivor}).values(other.attname)
    through._base_manager.filter(**{name: loser, f"{other.attname}__in": survivor_targets}).delete()
    return through._base_manager.filter(**{name: loser}).update(**{name: survivor})


def _move(relation: MemberRelation, survivor: Member, loser: Member) -> int:
    handler = relation.handler
    if handler is not None:
        return handler(survivor=survivor, loser=loser)
    if relation.is_auto_m2m_through:
        return _move_auto_m2m(relation, survivor, loser)
    name = relation.field.name
    try:
        with transaction.atomic():
            rows = relation.model._base_manager.filter(**{name: loser})
            if any(field.name == "tenant" for field in relation.model._meta.fields):
                rows = rows.filter(tenant_id=loser.tenant_id)
            return rows.update(**{name: survivor})
    except IntegrityError as exc:
        raise ConflictError(
            MemberErrorCode.MERGE_CONFLICT,
            _("These accounts cannot be merged automatically; contact the shop."),
            details={"relation": relation.label},
        ) from exc


def _merge_addresses(*, survivor: Member, loser: Member) -> int:
    # One default per member: the survivor's default wins. The per-member limit applies to new
    # addresses only, so nothing is dropped here even if the total exceeds it.
    addresses = Address.objects.for_tenant(survivor.tenant_id)
    if addresses.filter(member=survivor, is_default=True).exists():
        addresses.filter(member=loser, is_default=True).update(is_default=False)
    return addresses.filter(member=loser).update(member=survivor)


def _merge_checkins(*, survivor: Member, loser: Member) -> int:
    # One check-in per member and day: on a day both checked in, the survivor's stays and the
    # absorbed member's is left where it is (history); the other days move.
    checkins = CheckIn.objects.for_tenant(survivor.tenant_id)
    taken = checkins.filter(member=survivor).values("date")
    return checkins.filter(member=loser).exclude(date__in=taken).update(member=survivor)


register_merge_handler(Address, _merge_addresses)
register_merge_handler(CheckIn, _merge_checkins)
register_merge_handler(MemberMerge, keep_rows, field="survivor")
register_merge_handler(MemberMerge, keep_rows, field="merged")

_PROFILE_FIELDS = ("nickname", "avatar", "birthday")


def member_merge_locked(*, survivor: Member, loser: Member, phone: str) -> MemberMerge:
    """Absorb ``loser`` into ``survivor``. Caller holds both row locks in one transaction."""
    if survivor.pk == loser.pk or survivor.tenant_id != loser.tenant_id:
        raise ValueError("merge needs two members of one tenant")
    moved: dict[str, int] = {}
    for relation in member_relations():
        count = _move(relation, survivor, loser)
        if count:
            moved[relation.label] = count

    # The survivor keeps its profile; blanks are filled from the absorbed member.
    filled: dict[str, Any] = {
        name: getattr(loser, name)
        for name in _PROFILE_FIELDS
        if not getattr(survivor, name) and getattr(loser, name)
    }
    if survivor.gender == Member.Gender.UNKNOWN and loser.gender != Member.Gender.UNKNOWN:
        filled["gender"] = loser.gender
    now = timezone.now()
    Member.objects.for_tenant(survivor.tenant_id).filter(pk=survivor.pk).update(
        # Points lots and ledger rows moved above, so the balance and the debt add up.
        points=F("points") + loser.points,
        points_debt=F("points_debt") + loser.points_debt,
        growth=F("growth") + loser.growth,
        updated_at=now,
        **filled,
    )
    Member.objects.for_tenant(loser.tenant_id).filter(pk=loser.pk).update(
        is_active=False,
        merged_into=survivor,
        phone="",
        points=0,
        points_debt=0,
        growth=0,
        updated_at=now,
    )
    return MemberMerge.objects.create(
        tenant_id=survivor.tenant_id,
        survivor=survivor,
        merged=loser,
        phone=phone,
        moved={
            "rows": moved,
            "counters": {
                "points": loser.points,
                "points_debt": loser.points_debt,
                "growth": loser.growth,
            },
            "previous_phone": loser.phone,
        },
    )
