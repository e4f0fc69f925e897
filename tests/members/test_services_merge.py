from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from mall.api.errors import ApplicationError, ConflictError, status_for
from members.models import Address, Member, MemberIdentity, MemberMerge
from members.services import member_bind_phone, member_relations
from members.services import merge as merge_module
from tests.members.factories import AddressFactory, MemberFactory, MemberIdentityFactory

AUDIT_RELATIONS = {"members.MemberMerge.survivor", "members.MemberMerge.merged"}


def _rows_pointing_at(member: Member) -> dict[str, int]:
    """Every row of every model with a foreign key to Member that points at ``member``."""
    fields = {(rel.related_model, rel.field.name) for rel in Member._meta.related_objects} | {
        (r.model, r.field.name) for r in member_relations()
    }
    counts = {}
    for model, name in fields:
        label = f"{model._meta.label}.{name}"
        if label in AUDIT_RELATIONS:
            continue
        count = model._base_manager.filter(**{name: member}).count()
        if count:
            counts[label] = count
    return counts


@pytest.fixture
def pair(tenant: Any) -> tuple[Member, Member]:
    survivor = MemberFactory(tenant=tenant, phone="13800000010", points=100, growth=40)
    loser = MemberFactory(
        tenant=tenant, nickname="", phone="13800000099", points=30, growth=7, avatar=""
    )
    return survivor, loser


def test_every_relation_to_member_is_known_to_the_merge() -> None:
    labels = {r.label for r in member_relations()}
    expected = {
        f"{rel.related_model._meta.label}.{rel.field.name}" for rel in Member._meta.related_objects
    }
    assert expected <= labels
    assert {"members.MemberIdentity.member", "members.Address.member"} <= labels
    assert "members.Member.merged_into" in labels  # hidden reverse relations are included
    # A relation whose rows could collide on the survivor needs a registered handler.
    unhandled = [
        r.label
        for r in member_relations()
        if r.unique_per_member and r.handler is None and not r.is_auto_m2m_through
    ]
    assert unhandled == []


def test_merge_moves_every_owned_row_and_preserves_totals(
    tenant: Any, pair: tuple[Member, Member]
) -> None:
    survivor, loser = pair
    MemberIdentityFactory(member=survivor, platform="wechat")
    MemberIdentityFactory(member=loser, platform="alipay")
    MemberIdentityFactory(member=loser, platform="wechat")
    AddressFactory(member=survivor, is_default=True)
    AddressFactory(member=loser, is_default=True)
    AddressFactory(member=loser)
    earlier = MemberFactory(tenant=tenant, is_active=False, merged_into=loser)
    other_tenant_member = MemberFactory(phone="13800000010")  # same phone, another tenant
    before_points = Member.objects.filter(pk__in=[survivor.pk, loser.pk]).aggregate(
        p=Sum("points"), g=Sum("growth")
    )
    assert _rows_pointing_at(loser)  # the loser owns rows before the merge

    result = member_bind_phone(member=loser, phone="13800000010")

    assert result.merged is True and result.member.pk == survivor.pk
    survivor.refresh_from_db()
    loser.refresh_from_db()
    # Nothing points at the loser any more (audit rows aside).
    assert _rows_pointing_at(loser) == {}
    assert (survivor.identities.count(), survivor.addresses.count()) == (3, 3)
    assert Address.objects.filter(member=survivor, is_default=True).count() == 1
    earlier.refresh_from_db()
    assert earlier.merged_into_id == survivor.pk
    # Counters add up.
    assert (survivor.points, survivor.growth) == (before_points["p"], before_points["g"])
    assert (loser.points, loser.growth) == (0, 0)
    assert (loser.is_active, loser.merged_into_id, loser.phone) == (False, survivor.pk, "")
    assert survivor.phone == "13800000010"
    # The survivor keeps its profile.
    assert survivor.nickname != ""
    # The audit row says what moved.
    merge = MemberMerge.objects.get()
    assert (merge.survivor_id, merge.merged_id, merge.phone) == (
        survivor.pk,
        loser.pk,
        "13800000010",
    )
    assert merge.moved["rows"] == {
        "members.Address.member": 2,
        "members.Member.merged_into": 1,
        "members.MemberIdentity.member": 2,
        # The loser's 30 points (a lot and its ledger row) moved with it.
        "members.PointsLedger.member": 1,
        "members.PointsLot.member": 1,
    }
    assert merge.moved["counters"] == {"points": 30, "points_debt": 0, "growth": 7}
    assert merge.moved["previous_phone"] == "13800000099"
    other_tenant_member.refresh_from_db()
    assert other_tenant_member.is_active and other_tenant_member.merged_into_id is None


def test_loser_default_address_stays_default_when_survivor_has_none(
    pair: tuple[Member, Member],
) -> None:
    survivor, loser = pair
    AddressFactory(member=survivor, is_default=False)
    kept = AddressFactory(member=loser, is_default=True)

    member_bind_phone(member=loser, phone=survivor.phone)

    assert list(Address.objects.filter(member=survivor, is_default=True)) == [kept]


def test_blank_profile_fields_are_filled_from_the_absorbed_member(tenant: Any) -> None:
    survivor = MemberFactory(tenant=tenant, nickname="", phone="13800000011")
    loser = MemberFactory(tenant=tenant, nickname="Lin", gender="female")

    member_bind_phone(member=loser, phone="13800000011")

    survivor.refresh_from_db()
    assert (survivor.nickname, survivor.gender) == ("Lin", "female")


def test_merge_is_one_transaction(pair: tuple[Member, Member], monkeypatch: Any) -> None:
    survivor, loser = pair
    AddressFactory(member=loser)
    MemberIdentityFactory(member=loser)

    def explode(*, survivor: Member, loser: Member) -> int:
        raise ConflictError("boom", "handler failed")

    monkeypatch.setitem(merge_module._HANDLERS, ("members.MemberIdentity", "member"), explode)

    with pytest.raises(ApplicationError):
        member_bind_phone(member=loser, phone=survivor.phone)

    loser.refresh_from_db()
    assert loser.is_active and loser.merged_into_id is None and loser.points == 30
    assert loser.addresses.count() == 1 and loser.identities.count() == 1
    assert MemberMerge.objects.count() == 0


def test_binding_a_free_phone_just_sets_it(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)

    result = member_bind_phone(member=member, phone="13800000012")

    assert result.merged is False and result.member.phone == "13800000012"
    assert Member.objects.get(pk=member.pk).phone == "13800000012"


def test_disabled_holder_blocks_the_phone(tenant: Any) -> None:
    MemberFactory(tenant=tenant, phone="13800000013", is_active=False)
    member = MemberFactory(tenant=tenant)

    with pytest.raises(ApplicationError) as info:
        member_bind_phone(member=member, phone="13800000013")

    assert (info.value.code, status_for(info.value)) == ("phone_unavailable", 409)


def test_invalid_phone_is_refused(tenant: Any) -> None:
    with pytest.raises(ApplicationError) as info:
        member_bind_phone(member=MemberFactory(tenant=tenant), phone="12ab")
    assert info.value.code == "invalid_phone"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_binds_of_one_phone_end_in_one_member(tenant: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for row locks and concurrent transactions")
    members = [MemberFactory(tenant=tenant, points=10) for _ in range(5)]
    for m in members:
        AddressFactory(member=m)
        MemberIdentityFactory(member=m)
    barrier = threading.Barrier(len(members))
    errors: list[BaseException] = []

    def bind(member: Member) -> None:
        try:
            barrier.wait()
            member_bind_phone(member=member, phone="13800000020")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=bind, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    active = list(Member.objects.filter(pk__in=[m.pk for m in members], is_active=True))
    assert len(active) == 1
    holder = active[0]
    assert holder.phone == "13800000020" and holder.points == 50
    assert holder.addresses.count() == 5 and holder.identities.count() == 5
    assert MemberIdentity.objects.count() == 5 and Address.objects.count() == 5
    assert MemberMerge.objects.count() == 4


def test_merge_moves_points_lots_and_check_ins_keeping_one_per_day(
    tenant: Any, pair: tuple[Member, Member]
) -> None:
    from datetime import date

    from members.models import CheckIn
    from tests.members.points_helpers import assert_invariant

    survivor, loser = pair
    for member, day in ((survivor, 1), (loser, 1), (loser, 2)):
        CheckIn.objects.create(tenant=tenant, member=member, date=date(2026, 12, day), streak=1)

    member_bind_phone(member=loser, phone="13800000010")

    days = list(
        CheckIn.objects.for_tenant(tenant).order_by("date").values_list("member_id", "date")
    )
    assert days == [
        (survivor.pk, date(2026, 12, 1)),
        (loser.pk, date(2026, 12, 1)),
        (survivor.pk, date(2026, 12, 2)),
    ] or days == [
        (loser.pk, date(2026, 12, 1)),
        (survivor.pk, date(2026, 12, 1)),
        (survivor.pk, date(2026, 12, 2)),
    ]
    assert assert_invariant(tenant, survivor) == 130
    assert assert_invariant(tenant, loser) == 0
