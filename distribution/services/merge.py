"""Member merge handlers (phone binding found one person twice): see members.services.merge."""

from __future__ import annotations

from django.utils import timezone

from distribution.models import Binding, Distributor
from members.models import Member
from members.services.merge import register_merge_handler


def merge_distributors(*, survivor: Member, loser: Member) -> int:
    """The absorbed member's distributor account moves to the survivor when the survivor has
    none; when both have one, the absorbed one stays where it is (its balance and team are
    kept intact for the console to settle by hand) and is frozen."""
    rows = Distributor.objects.filter(tenant_id=loser.tenant_id, member=loser)
    if not Distributor.objects.filter(tenant_id=survivor.tenant_id, member=survivor).exists():
        return rows.update(member=survivor)
    rows.filter(status=Distributor.Status.APPROVED).update(
        status=Distributor.Status.FROZEN, note=f"merged into member {survivor.pk}"
    )
    return 0


def merge_bindings(*, survivor: Member, loser: Member) -> int:
    """History moves to the survivor; the survivor's current owner (if any) keeps it."""
    rows = Binding.objects.filter(tenant_id=loser.tenant_id, customer=loser)
    if Binding.objects.filter(
        tenant_id=survivor.tenant_id, customer=survivor, is_current=True
    ).exists():
        rows.filter(is_current=True).update(is_current=False, ended_at=timezone.now())
    return rows.update(customer=survivor)


def register_handlers() -> None:
    register_merge_handler(Distributor, merge_distributors)
    register_merge_handler(Binding, merge_bindings, field="customer")
