"""The members app's raw SQL: the rows read on every shopper request and every quote, without
the ORM's per-query compilation (see ``mall.rawsql``). Only the members app's own tables;
other apps call these functions, never name the tables."""

from __future__ import annotations

from typing import Any

from mall.rawsql import fetch_instances
from members.models import Address, Member


def member_by_id(*, tenant_id: int, member_id: int) -> Member | None:
    """The tenant's member ``member_id`` as a complete model instance (no deferred fields), or
    None. Hot path: the member of every authenticated shopper request."""
    found = fetch_instances(Member, "tenant_id = %s AND id = %s", [tenant_id, member_id])
    return found[0] if found else None


def address_of_member(*, tenant_id: int, member_id: int, address_id: int) -> Address | None:
    """The member's address ``address_id`` in this shop as a complete model instance, or None
    (another member's or shop's). Hot path: every checkout with delivery."""
    found = fetch_instances(
        Address, "tenant_id = %s AND id = %s AND member_id = %s", [tenant_id, address_id, member_id]
    )
    return found[0] if found else None


# NULL when the address is not this member's (the column itself is never NULL).
_PROVINCE_SQL = (
    "SELECT province_code FROM members_address WHERE tenant_id = %s AND id = %s AND member_id = %s"
)


def address_province_column(
    *, tenant_id: int, member_id: int, address_id: int
) -> tuple[str, list[Any]]:
    """The province code of the member's address as a scalar SQL expression (``(sql, params)``)
    for another app to add to one of its own statements (the quote's SKU read): NULL when the
    address is not this member's in this shop."""
    return _PROVINCE_SQL, [tenant_id, address_id, member_id]
