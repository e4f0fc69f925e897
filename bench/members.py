"""Members benchmark: nightly points expiry, RFM refresh and one segment count at 1M members.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mall_members_bench \
    .venv/bin/python bench/members.py [--sample 2000]

Migrates its own database and seeds it once (set-based ``INSERT ... SELECT generate_series``):
4 tenants with 1,000,000 members in total, 5 points lots each (5,000,000; one lot in ten already
past its expiry, on half of the members), 2 paid orders for 3 members in 5 (1,200,000 orders:
the columns the RFM source reads: member, paid_at, paid and refunded amounts, status) and 3 tags
(about 433,000 member tags). Then, as the beat tasks run them: ``points_expire_due`` (all
tenants scope), ``rfm_refresh_all`` (each tenant in its own scope) and ``segment_count`` of a
segment "tag + R score >= 4 + birthday month" (tenant scope). Each against a row-by-row ORM
baseline on a sample, extrapolated to the full size (labelled so). The expiry is reset (set-based)
before each run so the bench can be run again. Writes its section of bench/RESULTS.md (between
the members markers; other sections kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mall_members_bench")

N_TENANTS = 4
N_MEMBERS = 1_000_000
LOTS_PER_MEMBER = 5
TARGET_S = 60.0
START, END = "<!-- members:start -->", "<!-- members:end -->"
SECTION_START = re.compile(r"<!-- [\w-]+:start -->")


def _ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _sql(sql: str, params: list[Any] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def _one(sql: str, params: list[Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def _step(label: str, sql: str, params: list[Any] | None = None) -> None:
    started = time.perf_counter()
    rows = _sql(sql, params)
    print(f"  {label}: {rows} rows in {time.perf_counter() - started:.1f} s", flush=True)


def _seed() -> list[int]:
    """Create the bench tenants and their data once (each table checked on its own)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from mall.tenancy.models import Tenant

    tenants = [
        Tenant.objects.get_or_create(slug=f"mbench-{i}", defaults={"name": f"Members bench {i}"})[
            0
        ].pk
        for i in range(N_TENANTS)
    ]
    per = N_MEMBERS // N_TENANTS
    if _one("SELECT count(*) FROM members_member WHERE tenant_id = ANY(%s)", [tenants]) == 0:
        print("seeding members, lots, orders, tags ...", flush=True)
        for i, tenant_id in enumerate(tenants):
            # points = sum of the 5 lots below (10k + growth for k = 1..5).
            _step(
                f"members of tenant {tenant_id}",
                "INSERT INTO members_member (tenant_id, nickname, avatar, phone, gender, points,"
                " growth, is_active, created_at, updated_at, source_scene, points_debt, birthday)"
                " SELECT %s, 'm' || g, '', '', '', 150 + 5 * (g %% 50), g %% 50, true,"
                " now() - (g %% 900) * interval '1 day', now(), '', 0,"
                " date '1960-01-01' + (g * 37 %% 16000)"
                " FROM generate_series(%s, %s) AS g",
                [tenant_id, i * per + 1, (i + 1) * per],
            )
    if _one("SELECT count(*) FROM members_pointslot WHERE tenant_id = ANY(%s)", [tenants]) == 0:
        # One lot in ten is due: (id + k) % 10 = 0 picks one of the 5 lots of half the members.
        _step(
            "points lots",
            "INSERT INTO members_pointslot (tenant_id, member_id, points, remaining,"
            " expired_points, debt_paid, expires_at, expired, reason, ref, created_at)"
            " SELECT m.tenant_id, m.id, 10 * k + m.growth, 10 * k + m.growth, 0, 0,"
            " CASE WHEN (m.id + k) %% 10 = 0"
            " THEN now() - ((m.id * k) %% 30 + 1) * interval '1 day'"
            " ELSE now() + ((m.id * k) %% 700 + 1) * interval '1 day' END,"
            " false, 'earn_order', '', now() - interval '200 days'"
            " FROM members_member m CROSS JOIN generate_series(1, %s) AS k"
            " WHERE m.tenant_id = ANY(%s)",
            [LOTS_PER_MEMBER, tenants],
        )
    if _one("SELECT count(*) FROM orders_order WHERE tenant_id = ANY(%s)", [tenants]) == 0:
        _step(
            "paid orders",
            "INSERT INTO orders_order (tenant_id, member_id, number, platform, status,"
            " fulfillment, subtotal, discount_total, shipping_fee, points_used,"
            " points_deduction, payable, paid_amount, refunded_amount, promotions, gifts,"
            " coupon_ids, campaign_discounts, address, store_snapshot, distribution, remark,"
            " pickup_code, pickup_attempts, payment_reference, cancel_reason, created_at,"
            " updated_at, paid_at)"
            " SELECT m.tenant_id, m.id, 'MB' || m.id || '-' || j, 'wechat', 'completed',"
            " 'express', a, 0, 0, 0, 0, a, a, 0, '[]', '[]', '[]', '[]', '{}', '{}', '{}', '',"
            " '', 0, '', '', p, p, p"
            " FROM members_member m CROSS JOIN generate_series(1, 2) AS j,"
            " LATERAL (SELECT (10 + (m.id * j * 7) %% 990)::numeric(12, 2) AS a,"
            " now() - ((m.id * j * 13) %% 500) * interval '1 day' AS p) AS v"
            " WHERE m.tenant_id = ANY(%s) AND m.id %% 5 < 3",
            [tenants],
        )
    if _one("SELECT count(*) FROM members_tag WHERE tenant_id = ANY(%s)", [tenants]) == 0:
        _step(
            "tags",
            "INSERT INTO members_tag (tenant_id, name, created_at)"
            " SELECT t, n, now() FROM unnest(%s::bigint[]) AS t,"
            " unnest(ARRAY['vip', 'newsletter', 'wholesale']) AS n",
            [tenants],
        )
        _step(
            "member tags",
            "INSERT INTO members_membertag (tenant_id, member_id, tag_id, source, created_at)"
            " SELECT m.tenant_id, m.id, t.id, 'manual', now()"
            " FROM members_member m JOIN members_tag t ON t.tenant_id = m.tenant_id"
            " WHERE m.tenant_id = ANY(%s) AND ((t.name = 'vip' AND m.id %% 10 = 0)"
            " OR (t.name = 'newsletter' AND m.id %% 3 = 0)"
            " OR (t.name = 'wholesale' AND m.id %% 100 = 0))",
            [tenants],
        )
    _sql("ANALYZE")
    return tenants


def _reset_expiry(tenants: list[int]) -> None:
    """Undo a previous run's expiry (set-based) so every run expires the same lots."""
    started = time.perf_counter()
    _sql(
        "UPDATE members_member m SET points = m.points - l.lost FROM (SELECT member_id,"
        " sum(delta) AS lost FROM members_pointsledger WHERE reason = 'expire'"
        " AND tenant_id = ANY(%s) GROUP BY member_id) AS l WHERE m.id = l.member_id",
        [tenants],
    )
    _sql(
        "DELETE FROM members_pointsledger WHERE reason = 'expire' AND tenant_id = ANY(%s)",
        [tenants],
    )
    n = _sql(
        "UPDATE members_pointslot SET remaining = points, expired_points = 0, expired = false"
        " WHERE expired AND tenant_id = ANY(%s)",
        [tenants],
    )
    _sql("DELETE FROM members_memberrfm WHERE tenant_id = ANY(%s)", [tenants])
    _sql("VACUUM ANALYZE members_pointslot")
    _sql("VACUUM ANALYZE members_member")
    print(f"reset {n} expired lots in {time.perf_counter() - started:.1f} s", flush=True)


# --- row-by-row baselines (a sample, extrapolated) ------------------------------------------


def _expire_row_by_row(sample: int) -> tuple[int, float]:
    """Expire ``sample`` due lots one by one through the ORM (one transaction per lot: lock the
    member, lock the lot, update it, a ledger row, update the member)."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from mall.tenancy.scope import all_tenants
    from members import lock_objects
    from members.models import Member
    from members.points.models import PointsLedger, PointsLot, Reason

    now = timezone.now()
    started = time.perf_counter()
    with all_tenants():
        ids = list(
            PointsLot.objects.all_tenants()
            .filter(expired=False, expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)[:sample]
        )
        for pk in ids:
            with transaction.atomic():
                lot = lock_objects.points_lots_due_for_update(ids=[pk]).get()
                member = lock_objects.members_any_tenant_for_update(ids=[lot.member_id]).get()
                lost = lot.remaining
                lot.expired_points += lost
                lot.remaining = 0
                lot.expired = True
                lot.save(update_fields=["expired_points", "remaining", "expired"])
                PointsLedger.objects.create(
                    tenant_id=lot.tenant_id,
                    member_id=member.pk,
                    delta=-lost,
                    reason=Reason.EXPIRE,
                    lot_id=lot.pk,
                    balance_after=member.points - lost,
                    debt_after=member.points_debt,
                    actor="system",
                )
                Member.objects.all_tenants().filter(pk=member.pk).update(
                    points=F("points") - lost, updated_at=now
                )
    return len(ids), time.perf_counter() - started


def _rfm_row_by_row(tenant_id: int, sample: int) -> tuple[int, float]:
    """RFM member by member: one aggregate query per member over its paid orders and one
    upsert (scores left out: they need every row)."""
    from django.utils import timezone

    from mall.tenancy.scope import tenant_context
    from members.segments.hooks import paid_orders_source
    from members.segments.models import MemberRfm
    from members.segments.services import _aggregate

    source = paid_orders_source()
    assert source is not None, "the orders app registers the paid-orders source"
    now = timezone.now()
    started = time.perf_counter()
    with tenant_context(tenant_id):
        member_ids = list(
            source(tenant_id)
            .order_by("member_id")
            .values_list("member_id", flat=True)[: 3 * sample]
        )
        member_ids = sorted(set(member_ids))[:sample]
        for member_id in member_ids:
            found = list(_aggregate(source(tenant_id).filter(member_id=member_id), now)[:1])
            if not found:
                continue
            row = found[0]
            MemberRfm.objects.for_tenant(tenant_id).update_or_create(
                tenant_id=tenant_id,
                member_id=member_id,
                defaults={
                    "last_paid_at": row["last_paid_at"],
                    **{f"orders_{d}d": row[f"o{d}"] for d in (30, 90, 180, 365)},
                    **{f"amount_{d}d": row[f"a{d}"] for d in (30, 90, 180, 365)},
                    "computed_at": now,
                },
            )
    return len(member_ids), time.perf_counter() - started


def _segment_row_by_row(tenant_id: int, tag_id: int, month: int, sample: int) -> tuple[int, float]:
    """The segment's conditions checked member by member in Python (queries per member)."""
    from mall.tenancy.scope import tenant_context
    from members.models import Member
    from members.segments.models import MemberRfm, MemberTag

    started = time.perf_counter()
    matched = 0
    with tenant_context(tenant_id):
        members = list(
            Member.objects.for_tenant(tenant_id).order_by("pk").only("pk", "birthday")[:sample]
        )
        for m in members:
            if not (m.birthday and m.birthday.month == month):
                continue
            if not MemberTag.objects.for_tenant(tenant_id).filter(member=m, tag_id=tag_id).exists():
                continue
            rfm = MemberRfm.objects.for_tenant(tenant_id).filter(member=m).first()
            matched += bool(rfm and rfm.r_score >= 4)
    return len(members), time.perf_counter() - started


# --- the run --------------------------------------------------------------------------------


def _segment(tenant_id: int) -> tuple[Any, int, int]:
    from members.segments.models import Segment, SegmentCondition, Tag

    tag = Tag.objects.for_tenant(tenant_id).get(name="vip")
    month = 3
    segment, created = Segment.objects.for_tenant(tenant_id).get_or_create(
        tenant_id=tenant_id, name="bench: vip, R >= 4, born in March"
    )
    if created:
        kind = SegmentCondition.Kind
        for fields in (
            {"kind": kind.TAG, "tag": tag},
            {"kind": kind.R_SCORE, "comparison": "gte", "number": 4},
            {"kind": kind.BIRTHDAY_MONTH, "month": month},
        ):
            SegmentCondition.objects.create(tenant_id=tenant_id, segment=segment, **fields)
    return segment, tag.pk, month


def _explain(sql: str, params: list[Any]) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())


def run(sample: int) -> dict[str, Any]:
    tenants = _seed()
    from django.db.models import Q
    from django.utils import timezone

    from mall.tenancy.scope import all_tenants, tenant_context
    from members.points.models import PointsLot
    from members.points.services import points_expire_due
    from members.segments.selectors import segment_count
    from members.segments.services import rfm_refresh_all

    _reset_expiry(tenants)
    res: dict[str, Any] = {"tenants": tenants}
    with all_tenants():
        res["members"] = _one(
            "SELECT count(*) FROM members_member WHERE tenant_id = ANY(%s)", [tenants]
        )
        res["lots"] = _one(
            "SELECT count(*) FROM members_pointslot WHERE tenant_id = ANY(%s)", [tenants]
        )
        res["orders"] = _one(
            "SELECT count(*) FROM orders_order WHERE tenant_id = ANY(%s)", [tenants]
        )
        due_q = Q(expired=False, expires_at__lte=timezone.now())
        res["due"] = PointsLot.objects.all_tenants().filter(due_q).count()

    # Expiry: row-by-row on a sample first, then the set-based sweep over the rest.
    n, secs = _expire_row_by_row(sample)
    res["expiry_rbr"] = (n, secs, secs / n * res["due"] if n else 0.0)
    print(f"expiry row-by-row: {n} lots in {secs:.1f} s", flush=True)
    started = time.perf_counter()
    res["expiry_rows"] = points_expire_due()
    res["expiry_s"] = time.perf_counter() - started
    print(f"expiry set-based: {res['expiry_rows']} lots in {res['expiry_s']:.1f} s", flush=True)

    # RFM: the beat task (every tenant in its scope), then the row-by-row sample.
    started = time.perf_counter()
    done = rfm_refresh_all()
    res["rfm_s"] = time.perf_counter() - started
    res["rfm_rows"] = sum(v for k, v in done.items() if int(k) in tenants)
    print(f"rfm set-based: {res['rfm_rows']} rows in {res['rfm_s']:.1f} s", flush=True)
    n, secs = _rfm_row_by_row(tenants[0], sample)
    res["rfm_rbr"] = (n, secs, secs / n * res["rfm_rows"] if n else 0.0)
    print(f"rfm row-by-row: {n} members in {secs:.1f} s", flush=True)
    rfm_refresh_all()  # the sample's rows back to their scored state for the segment

    # Segment count in the first tenant (one quarter of the members).
    tenant_id = tenants[0]
    with tenant_context(tenant_id):
        segment, tag_id, month = _segment(tenant_id)
        segment_count(tenant=tenant_id, segment=segment)  # warm-up
        started = time.perf_counter()
        res["segment_count"] = segment_count(tenant=tenant_id, segment=segment)
        res["segment_s"] = time.perf_counter() - started
        res["tenant_members"] = _one(
            "SELECT count(*) FROM members_member WHERE tenant_id = %s", [tenant_id]
        )
    print(f"segment: {res['segment_count']} members in {res['segment_s']:.2f} s", flush=True)
    n, secs = _segment_row_by_row(tenant_id, tag_id, month, sample * 5)
    res["segment_rbr"] = (n, secs, secs / n * res["tenant_members"] if n else 0.0)
    print(f"segment row-by-row: {n} members in {secs:.1f} s", flush=True)
    return res


def _machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kb = int(Path("/proc/meminfo").read_text().split()[1])
    pg = _one("SHOW server_version")
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs, {kb / 1024 / 1024:.1f} GiB RAM; "
        f"{platform.platform()}; Python {platform.python_version()}; PostgreSQL {pg}"
    )


def _write(path: Path, res: dict[str, Any], load: str, total: float) -> None:
    def verdict(secs: float) -> str:
        return "yes" if secs < TARGET_S else "**no**"

    rows = [
        ("nightly points expiry (`points_expire_due`)", res["expiry_s"], res["expiry_rows"],
         "lots expired", res["expiry_rbr"], "lots"),
        ("RFM refresh (`rfm_refresh_all`, 4 tenants)", res["rfm_s"], res["rfm_rows"],
         "members with a row", res["rfm_rbr"], "members"),
        ("segment count (`segment_count`, 1 tenant)", res["segment_s"], res["segment_count"],
         f"members matched of {res['tenant_members']:,}", res["segment_rbr"], "members"),
    ]  # fmt: skip
    lines = [
        "# Members benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/members.py` "
        f"(whole run {total:.0f} s including the reset).",
        "",
        f"Machine: {_machine()}; {load} (other processes on the machine count too).",
        "",
        f"Data: {len(res['tenants'])} tenants, {res['members']:,} members, {res['lots']:,} points "
        f"lots ({res['due']:,} past their expiry before the run, on half of the members), "
        f"{res['orders']:,} paid orders (2 for 3 members in 5), tags vip / newsletter / "
        "wholesale on 10 % / 33 % / 1 % of the members. Seeded once by set-based SQL; the "
        "expiry of a previous run is undone before the run. Settings: bench.settings.",
        "",
        f"| task | set-based s | rows | < {TARGET_S:.0f} s | row-by-row sample | "
        "row-by-row s | row-by-row, extrapolated to the full size |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, secs, n, what, (rn, rsecs, extra), unit in rows:
        lines.append(
            f"| {label} | {secs:.2f} | {n:,} {what} | {verdict(secs)} | {rn:,} {unit} | "
            f"{rsecs:.1f} | ~{extra:,.0f} s (extrapolated) |"
        )
    lines += [
        "",
        "Row-by-row baselines: expiry = one transaction per lot through the ORM (lock member "
        "and lot, update the lot, a ledger row, update the member), run on the first due lots "
        "before the set-based sweep (which then expires the rest); RFM = one aggregate query "
        "and one `update_or_create` per member (without the scores), first tenant; segment = "
        "the three conditions checked per member with a query each, first tenant. Extrapolated "
        "linearly from the sample to all due lots / all RFM rows / all the tenant's members.",
        "",
        "Segment: vip tag AND R score >= 4 AND birthday in March.",
        "",
    ]
    if res.get("explain"):
        lines += ["Plan of the expiry's member batch query (last run):", "", "```",
                  res["explain"], "```", ""]  # fmt: skip
    section = "\n".join([START, *lines, END])
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=2000, help="row-by-row sample size")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    _ensure_database()
    load_before = os.getloadavg()
    started = time.perf_counter()
    res = run(args.sample)
    total = time.perf_counter() - started
    load = f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after the run"
    _write(Path(args.output), res, load, total)


if __name__ == "__main__":
    main()
