"""A member's delivery addresses: at most ``Address.MAX_PER_MEMBER``, exactly one default."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError
from members.errors import MemberErrorCode
from members.lock_objects import members_for_update
from members.models import Address, Member

ADDRESS_FIELDS = frozenset(
    {
        "name",
        "phone",
        "province",
        "city",
        "district",
        "detail",
        "province_code",
        "city_code",
        "district_code",
        "postal_code",
        "latitude",
        "longitude",
    }
)


def _lock_member(member: Member) -> None:
    # Serialises address writes of one member (count limit, single default).
    list(members_for_update(tenant=member.tenant_id, ids=[member.pk]))


def _check_fields(data: dict[str, Any]) -> None:
    unknown = set(data) - ADDRESS_FIELDS
    if unknown:
        raise ValueError(f"not address fields: {sorted(unknown)}")


def address_create(*, member: Member, is_default: bool = False, **data: Any) -> Address:
    """Add an address; the member's first address becomes the default."""
    _check_fields(data)
    with transaction.atomic():
        _lock_member(member)
        existing = Address.objects.for_tenant(member.tenant_id).filter(member=member)
        count = existing.count()
        if count >= Address.MAX_PER_MEMBER:
            raise ApplicationError(
                MemberErrorCode.ADDRESS_LIMIT_REACHED,
                _("A member can keep at most %(max)d addresses.") % {"max": Address.MAX_PER_MEMBER},
                details={"max": Address.MAX_PER_MEMBER},
            )
        make_default = is_default or count == 0
        if make_default:
            existing.filter(is_default=True).update(is_default=False)
        address = Address(
            tenant_id=member.tenant_id, member=member, is_default=make_default, **data
        )
        address.full_clean(exclude=["tenant", "member"])
        address.save()
    return address


def address_update(*, address: Address, is_default: bool | None = None, **data: Any) -> Address:
    """Change an address; ``is_default=True`` makes it the one default (atomically)."""
    _check_fields(data)
    member = address.member
    with transaction.atomic():
        _lock_member(member)
        address = Address.objects.for_tenant(member.tenant_id).get(pk=address.pk)
        if is_default is False and address.is_default:
            raise ApplicationError(
                MemberErrorCode.DEFAULT_ADDRESS_REQUIRED,
                _("Make another address the default instead of unsetting this one."),
            )
        for name, value in data.items():
            setattr(address, name, value)
        if is_default and not address.is_default:
            Address.objects.for_tenant(member.tenant_id).filter(
                member_id=address.member_id, is_default=True
            ).update(is_default=False)
            address.is_default = True
        address.full_clean(exclude=["tenant", "member"])
        address.save()
    return address


def address_delete(*, address: Address) -> None:
    """Delete an address; deleting the default promotes the newest remaining one."""
    member = address.member
    with transaction.atomic():
        _lock_member(member)
        addresses = Address.objects.for_tenant(member.tenant_id)
        was_default = addresses.filter(pk=address.pk, is_default=True).exists()
        addresses.filter(pk=address.pk).delete()
        if was_default:
            newest = (
                Address.objects.for_tenant(member.tenant_id)
                .filter(member=member)
                .order_by("-created_at", "-id")
                .first()
            )
            if newest is not None:
                addresses.filter(pk=newest.pk).update(is_default=True)
