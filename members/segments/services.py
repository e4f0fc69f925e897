"""Tags (apply and remove in bulk, set-based) and the nightly RFM refresh.

RFM (see docs/members.md, "Tags and segments"): for every member with a paid order, the date of
the last one and the paid orders and amounts in the last 30, 90, 180 and 365 days, aggregated
from the orders app's paid orders (``members.segments.hooks.register_paid_orders``) by one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE``; then the scores 1-5 by one ``UPDATE`` over
window functions: a member's score is ``ceil(5 * k / n)`` where ``n`` is the number of ranked
members and ``k`` the number of them whose value is at most the member's (ties share a score).
R ranks ``last_paid_at`` (the most recent gets 5), F ``orders_365d``, M ``amount_365d``;
members with no paid order in the 365 days get F = M = 0 and are not ranked for F and M.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError, NotFoundError
from mall.tenancy.models import Tenant
from mall.tenancy.scope import all_tenants, tenant_context
from members.models import Member
from members.segments.hooks import paid_orders_source
from members.segments.models import WINDOWS, MemberRfm, MemberTag, Segment, Tag

MAX_BULK_MEMBERS = 1000


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


# --- Tags ----------------------------------------------------------------------------------


def tag_get(*, tenant: Tenant | int, tag_id: int) -> Tag:
    tag = Tag.objects.for_tenant(tenant).filter(pk=tag_id).first()
    if tag is None:
        raise NotFoundError(_("Tag not found."), code="tag_not_found")
    return tag


def tag_get_or_create(*, tenant: Tenant | int, name: str) -> Tag:
    name = name.strip()
    if not name or len(name) > 32:
        raise InvalidInputError(
            "invalid_tag_name",
            _("A tag name has 1 to 32 characters."),
            details={"name": name[:64]},
        )
    tag, _created = Tag.objects.for_tenant(tenant).get_or_create(
        tenant_id=_tenant_id(tenant), name=name
    )
    return tag


def _check_bulk(member_ids: Iterable[int]) -> list[int]:
    ids = sorted({int(m) for m in member_ids})
    if not ids:
        raise InvalidInputError("member_ids_required", _("Give at least one member id."))
    if len(ids) > MAX_BULK_MEMBERS:
        raise InvalidInputError(
            "too_many_members",
            _("At most %(max)d members at a time.") % {"max": MAX_BULK_MEMBERS},
            details={"max": MAX_BULK_MEMBERS},
        )
    return ids


def tag_apply_to_queryset(
    *, tenant: Tenant | int, tag: Tag, members: QuerySet[Member], source: str
) -> int:
    """Put ``tag`` on every member of ``members`` (one ``INSERT ... SELECT``; members who have
    it already are left as they are). Answers how many members got it now."""
    tenant_id = _tenant_id(tenant)
    if tag.tenant_id != tenant_id:
        raise NotFoundError(_("Tag not found."), code="tag_not_found")
    inner, params = (
        members.filter(tenant_id=tenant_id).order_by().values(mid=F("pk")).query.sql_with_params()
    )
    # Fixed text around the ORM's compiled subquery; every value is a parameter.
    sql = (
        "INSERT INTO members_membertag (tenant_id, member_id, tag_id, source, created_at) "  # noqa: S608
        f"SELECT %s, src.mid, %s, %s, %s FROM ({inner}) AS src WHERE true "
        "ON CONFLICT (member_id, tag_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, tag.pk, source, timezone.now(), *params])
        return max(cursor.rowcount, 0)


def tag_apply(
    *,
    tenant: Tenant | int,
    tag: Tag,
    member_ids: Iterable[int],
    source: str = MemberTag.Source.MANUAL,
) -> int:
    """Bulk apply (console, open API): the tenant's members among ``member_ids`` (others are
    ignored) get the tag. Answers how many got it now."""
    ids = _check_bulk(member_ids)
    members = Member.objects.for_tenant(tenant).filter(pk__in=ids, merged_into__isnull=True)
    return tag_apply_to_queryset(tenant=tenant, tag=tag, members=members, source=source)


def tag_remove(*, tenant: Tenant | int, tag: Tag, member_ids: Iterable[int]) -> int:
    """Bulk remove: answers how many members lost the tag."""
    ids = _check_bulk(member_ids)
    if tag.tenant_id != _tenant_id(tenant):
        raise NotFoundError(_("Tag not found."), code="tag_not_found")
    deleted, _detail = (
        MemberTag.objects.for_tenant(tenant).filter(tag=tag, member_id__in=ids).delete()
    )
    return deleted


def member_tags_set(
    *, tenant: Tenant | int, member: Member, add: Iterable[str], remove: Iterable[str]
) -> list[str]:
    """Open API ``POST /members/{id}/tags``: add tags by name (created when new), remove tags
    by name (unknown names ignored). Answers the member's tag names after."""
    tenant_id = _tenant_id(tenant)
    if member.tenant_id != tenant_id:
        raise NotFoundError(_("Member not found."))
    with transaction.atomic():
        for name in add:
            tag = tag_get_or_create(tenant=tenant_id, name=name)
            MemberTag.objects.for_tenant(tenant_id).get_or_create(
                tenant_id=tenant_id,
                member=member,
                tag=tag,
                defaults={"source": MemberTag.Source.API},
            )
        names = [n.strip() for n in remove if n.strip()]
        if names:
            MemberTag.objects.for_tenant(tenant_id).filter(
                member=member, tag__name__in=names
            ).delete()
    return list(
        MemberTag.objects.for_tenant(tenant_id)
        .filter(member=member)
        .order_by("tag__name")
        .values_list("tag__name", flat=True)
    )


def merge_member_tags(*, survivor: Member, loser: Member) -> int:
    """Phone merge: the survivor has every tag of both (no duplicates)."""
    rows = MemberTag.objects.for_tenant(survivor.tenant_id)
    theirs = rows.filter(member=loser)
    moved = 0
    for row in list(theirs):
        _obj, created = rows.get_or_create(
            tenant_id=survivor.tenant_id,
            member=survivor,
            tag_id=row.tag_id,
            defaults={"source": row.source},
        )
        moved += int(created)
    theirs.delete()
    return moved


def merge_member_rfm(*, survivor: Member, loser: Member) -> int:
    """Phone merge: the absorbed member's RFM row goes (its orders move to the survivor and the
    next nightly refresh counts them there)."""
    deleted, _detail = (
        MemberRfm.objects.for_tenant(survivor.tenant_id).filter(member=loser).delete()
    )
    return deleted


# --- Segments ------------------------------------------------------------------------------


def segment_get(*, tenant: Tenant | int, segment_id: int) -> Segment:
    segment = (
        Segment.objects.for_tenant(tenant)
        .filter(pk=segment_id)
        .prefetch_related("conditions")
        .first()
    )
    if segment is None:
        raise NotFoundError(_("Segment not found."), code="segment_not_found")
    return segment


# --- RFM -----------------------------------------------------------------------------------

_SCORE_SQL = """
UPDATE members_memberrfm SET r_score = s.r, f_score = s.f, m_score = s.m
FROM (
  SELECT id,
    (5 * COUNT(*) OVER (ORDER BY last_paid_at) + COUNT(*) OVER () - 1) / COUNT(*) OVER () AS r,
    CASE WHEN orders_365d = 0 THEN 0 ELSE
      (5 * COUNT(*) OVER (PARTITION BY orders_365d > 0 ORDER BY orders_365d)
       + COUNT(*) OVER (PARTITION BY orders_365d > 0) - 1)
      / COUNT(*) OVER (PARTITION BY orders_365d > 0) END AS f,
    CASE WHEN amount_365d <= 0 THEN 0 ELSE
      (5 * COUNT(*) OVER (PARTITION BY amount_365d > 0 ORDER BY amount_365d)
       + COUNT(*) OVER (PARTITION BY amount_365d > 0) - 1)
      / COUNT(*) OVER (PARTITION BY amount_365d > 0) END AS m
  FROM members_memberrfm WHERE tenant_id = %s
) AS s
WHERE members_memberrfm.tenant_id = %s AND members_memberrfm.id = s.id
"""


def _aggregate(source: QuerySet[Any], now: datetime) -> QuerySet[Any]:
    money = DecimalField(max_digits=14, decimal_places=2)
    annotations: dict[str, Any] = {"last_paid_at": Max("paid_at")}
    for days in WINDOWS:
        since = Q(paid_at__gt=now - timedelta(days=days))
        annotations[f"o{days}"] = Count("pk", filter=since)
        annotations[f"a{days}"] = Coalesce(
            Sum("amount", filter=since), Value(0), output_field=money
        )
    return source.order_by().values("member_id").annotate(**annotations)


def rfm_refresh(*, tenant: Tenant | int, now: datetime | None = None) -> int:
    """Recompute the tenant's RFM rows and scores (three set-based statements in one
    transaction: upsert, delete rows of members without paid orders, score). Answers the
    number of members with a row."""
    source = paid_orders_source()
    if source is None:
        return 0
    now = now or timezone.now()
    tenant_id = _tenant_id(tenant)
    inner, params = _aggregate(source(tenant_id), now).query.sql_with_params()
    columns = (
        ["last_paid_at"] + [f"orders_{d}d" for d in WINDOWS] + [f"amount_{d}d" for d in WINDOWS]
    )
    sources = ["src.last_paid_at"] + [f"src.o{d}" for d in WINDOWS] + [f"src.a{d}" for d in WINDOWS]
    upsert = (
        "INSERT INTO members_memberrfm (tenant_id, member_id, "
        + ", ".join(columns)
        + ", r_score, f_score, m_score, computed_at) "
        + f"SELECT %s, src.member_id, {', '.join(sources)}, 0, 0, 0, %s "
        + f"FROM ({inner}) AS src WHERE true "
        + "ON CONFLICT (member_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
        + ", computed_at = EXCLUDED.computed_at"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(upsert, [tenant_id, now, *params])
        cursor.execute(
            "DELETE FROM members_memberrfm WHERE tenant_id = %s AND computed_at <> %s",
            [tenant_id, now],
        )
        cursor.execute(_SCORE_SQL, [tenant_id, tenant_id])
    return MemberRfm.objects.for_tenant(tenant_id).count()


def rfm_refresh_all(*, now: datetime | None = None) -> dict[str, int]:
    """Beat (nightly): every active tenant, one after another."""
    now = now or timezone.now()
    with all_tenants():
        tenant_ids = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    done = {}
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):  # each tenant's statements run scoped to it
            done[str(tenant_id)] = rfm_refresh(tenant=tenant_id, now=now)
    return done


def rfm_note_paid(*, tenant: Tenant | int, member_id: int, paid_at: datetime) -> None:
    """An order was just paid: move the member's ``last_paid_at`` forward at once (one upsert),
    so "days since the last paid order" and the dormant trigger do not wait for the night. The
    counts and scores stay as the nightly refresh left them."""
    tenant_id = _tenant_id(tenant)
    zeros = ", ".join(["0"] * (2 * len(WINDOWS) + 3))
    # Fixed column names; every value is a parameter.
    sql = (
        "INSERT INTO members_memberrfm (tenant_id, member_id, last_paid_at, "  # noqa: S608
        + ", ".join([f"orders_{d}d" for d in WINDOWS] + [f"amount_{d}d" for d in WINDOWS])
        + f", r_score, f_score, m_score, computed_at) VALUES (%s, %s, %s, {zeros}, %s) "
        "ON CONFLICT (member_id) DO UPDATE SET last_paid_at = CASE "
        "WHEN members_memberrfm.last_paid_at IS NULL "
        "OR members_memberrfm.last_paid_at < EXCLUDED.last_paid_at "
        "THEN EXCLUDED.last_paid_at ELSE members_memberrfm.last_paid_at END"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, member_id, paid_at, paid_at])
