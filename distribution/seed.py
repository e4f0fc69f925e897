"""Demo distribution for ``manage.py seed_demo`` (idempotent).

Turns distribution on in the demo tenant (3 tiers, console approval, first touch for 30 days, a
two-step team reward ladder), adds two grades (Silver, the default, and Gold, reached with a
team of 3 or 10,000.00 of settled team sales), makes a 3-level chain of the demo members
(Xiao Ming -> Li Hua -> Wang Fang, through the real apply/approve services with invitation
codes) and binds two demo customers (made here, with an address): one to Wang Fang (share
link), one to Li Hua (poster).

Runs again without adding rows: every step looks for what it would create first, and never
changes what an operator changed since (settings are only filled in while no distributor
exists).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.db import transaction

from distribution.models import (
    Binding,
    DistributionSettings,
    Distributor,
    DistributorGrade,
)
from distribution.services.common import settings_get
from distribution.services.distributors import binding_bind, distributor_apply, distributor_approve
from mall.tenancy.models import Tenant
from members.models import Address, Member

GRADES = (
    # name, level, tier rates, upgrade team size, upgrade team sales, default
    ("Silver", 1, ("0.10", "0.05", "0.02"), 0, "0", True),
    ("Gold", 2, ("0.15", "0.08", "0.03"), 3, "10000.00", False),
)
# The demo members of seed_demo (by phone), top of the chain first.
CHAIN_PHONES = ("13800000001", "13800000002", "13800000003")
# Demo customers made here: (nickname, phone, index in the chain of their owner, source).
CUSTOMERS = (
    ("Zhao Lei", "13800000011", 2, Binding.Source.SHARE_LINK),
    ("Qian Yu", "13800000012", 1, Binding.Source.POSTER),
)
# Demo customers get an address (like seed_demo's members), so they can check out.
ADDRESS = {
    "province": "Shanghai",
    "city": "Shanghai",
    "district": "Xuhui",
    "detail": "200 Zhaojiabang Road",
    "province_code": "310000",
    "city_code": "310100",
    "district_code": "310104",
    "postal_code": "200030",
}
LADDER = [
    {"min_sales": "10000.00", "rate": "0.02"},
    {"min_sales": "50000.00", "rate": "0.04"},
]


def _settings(tenant: Tenant) -> bool:
    config = settings_get(tenant=tenant)
    if Distributor.objects.for_tenant(tenant).exists():
        return False
    DistributionSettings.objects.for_tenant(tenant).filter(pk=config.pk).update(
        enabled=True,
        tiers=3,
        recruitment=DistributionSettings.Recruitment.APPROVAL,
        binding_mode=DistributionSettings.Binding.FIRST_TOUCH,
        lock_days=30,
        cap_rate=Decimal("0.30"),
        reward_ladder=LADDER,
    )
    return True


def _grades(tenant: Tenant) -> int:
    created = 0
    existing = DistributorGrade.objects.for_tenant(tenant)
    for name, level, rates, size, sales, is_default in GRADES:
        if existing.filter(name=name).exists() or existing.filter(level=level).exists():
            continue
        if is_default and existing.filter(is_default=True).exists():
            is_default = False
        DistributorGrade.objects.create(
            tenant=tenant,
            name=name,
            level=level,
            tier1_rate=Decimal(rates[0]),
            tier2_rate=Decimal(rates[1]),
            tier3_rate=Decimal(rates[2]),
            upgrade_team_size=size,
            upgrade_team_sales=Decimal(sales),
            is_default=is_default,
        )
        created += 1
    return created


def _member(tenant: Tenant, phone: str) -> Member | None:
    return Member.objects.for_tenant(tenant).filter(phone=phone, merged_into__isnull=True).first()


def _chain(tenant: Tenant) -> list[Distributor]:
    """Each demo member applies with the code of the one above it and is approved."""
    chain: list[Distributor] = []
    for phone in CHAIN_PHONES:
        member = _member(tenant, phone)
        if member is None:
            break
        distributor = Distributor.objects.for_tenant(tenant).filter(member=member).first()
        if distributor is None:
            inviter = chain[-1].share_code if chain else ""
            distributor = distributor_apply(tenant=tenant, member=member, invite_code=inviter)
        if distributor.status == Distributor.Status.PENDING:
            distributor = distributor_approve(
                tenant=tenant, distributor_id=distributor.pk, actor="seed_demo"
            )
        chain.append(distributor)
    return chain


def _customers(tenant: Tenant, chain: list[Distributor]) -> int:
    bound = 0
    for nickname, phone, owner_index, source in CUSTOMERS:
        if owner_index >= len(chain) or chain[owner_index].status != Distributor.Status.APPROVED:
            continue
        member = _member(tenant, phone)
        if member is None:
            member = Member.objects.create(tenant=tenant, nickname=nickname, phone=phone)
        if not Address.objects.for_tenant(tenant).filter(member=member).exists():
            Address.objects.create(
                tenant=tenant, member=member, phone=phone, is_default=True, name=nickname, **ADDRESS
            )
        if Binding.objects.for_tenant(tenant).filter(customer=member).exists():
            continue
        binding_bind(
            tenant=tenant, member=member, code=chain[owner_index].share_code, source=source
        )
        bound += 1
    return bound


@transaction.atomic
def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    enabled = _settings(tenant)
    grades = _grades(tenant)
    if not settings_get(tenant=tenant).enabled:
        stdout.write("  distribution: switched off in this shop; no demo distributors")
        return
    chain = _chain(tenant)
    bound = _customers(tenant, chain)
    codes = " -> ".join(d.share_code for d in chain) or "none (demo members missing)"
    stdout.write(
        f"  distribution: {'enabled, ' if enabled else ''}{grades} new grades, chain {codes}, "
        f"{bound} new bindings"
    )
