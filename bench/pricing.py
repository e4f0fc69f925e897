"""Pricing benchmark: the engine alone, and POST /api/v1/checkout/quote end to end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mall_promo_bench \
    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/pricing.py [--duration 10]

1. Engine: ``quote()`` on a 20-line cart with 20 live campaigns (full reductions, discounts,
   gifts, add-on, free shipping, a flash sale) and 5 coupons, 3,000 runs after 200 warm-up runs;
   median and p99. Target: median < 5 ms.
2. Endpoint: the same shape in PostgreSQL (tenant "pricing-bench"), gunicorn sync workers
   (``--workers``, default one per core), wrk at concurrency 16 posting the quote body with a
   member token. Target: p99 < 30 ms. For calibration the same server's floor (``/bench/floor``,
   a bare JsonResponse) is measured at the same concurrency, the load average is recorded, and
   the quote is also timed in-process (Django test client, warm caches): SQL queries, wall and
   CPU milliseconds per request.
Writes its own section of bench/RESULTS.md (between the pricing markers; other sections kept).
Needs PostgreSQL and wrk (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mall_promo_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")

APP_ID = "pricing-bench-wechat"
PORT = int(os.environ.get("BENCH_PORT", "8772"))
CONCURRENCY = 16
ENGINE_TARGET_MS = 5.0
P99_TARGET_MS = 30.0
START_MARK = "<!-- pricing:start -->"
END_MARK = "<!-- pricing:end -->"


NOTES = """
Notes (kept in bench/pricing.py, written with every run):

- Per quote (warm caches): 4 SQL queries: the member (token authentication), the address, the
  cart's SKUs (with the live gift campaigns' SKUs, and the flash-sale `sold` counts and campaign
  budgets as scalar subqueries) and the chosen coupons; plus one Redis `MGET` of the tenant's
  pricing, category-tree and coupon-scope versions (with `CONN_HEALTH_CHECKS` Django adds a
  `SELECT 1` per request). Before this work: 18 queries (campaigns and their scope links,
  flash-sale rows, gift stock, coupon template links, settings, freight templates and rules,
  category ancestors on every quote), DRF serializers on the way in and out, ~30 ms per
  request single-threaded and p99 ~800 ms at concurrency 16.
- Tenant-level inputs (campaigns with scopes, displays and flash-sale rows; promotion settings;
  freight templates; coupon template scopes; the category map) are cached under versions that
  every change bumps (now and after commit), with a copy per process keyed by the version, so a
  warm quote unpickles nothing. Counters that move with every order (flash-sale `sold`,
  `discount_given`, stock) are always read fresh. See docs/pricing.md, "Caching".
- The answer is built as plain dicts (`quote_payload`, checked against `QuoteOutputSerializer`
  by a test) and well-formed bodies are parsed without the nested serializer (anything
  unusual falls back to it, so errors are unchanged).
- Before/after on this machine, back to back at load average ~4 (2026-11-25 22:41 UTC): the
  code of commit 5316ea7 gave 57 req/s, p50 320 ms, p99 554 ms at concurrency 16 (2 workers)
  and, in-process, 18 queries, ~18 ms CPU / ~22 ms wall per quote; this code 87 req/s, p50
  181 ms, p99 236 ms and 4 queries, ~7-8 ms CPU / ~10 ms wall (CPU figures are inflated by the
  contention: the bare floor's CPU per request varied 5x between runs).
- Why the p99 target is missed here: with 16 connections always busy, latency is about
  16 / throughput (Little's law), so p99 < 30 ms needs roughly 600+ quotes/s. On two cores
  shared by gunicorn, wrk, PostgreSQL, Redis and (during these runs) other engineers' test
  suites and benchmarks, even the bare floor endpoint shows a p99 of tens to hundreds of ms at
  this concurrency (row above). A quote costs several ms of CPU in Django (ORM query
  compilation for 4 queries, model rows, JWT, the engine ~0.6 ms), so two cores cannot give
  600/s; the target needs more cores (or workers on a machine not shared with the database
  and the load generator). Numbers varied by a factor of two between runs under this load.
"""


def engine_inputs():  # type: ignore[no-untyped-def]
    from promotions.pricing import (
        AddonOffer,
        AddonRule,
        CampaignInput,
        CouponInput,
        DiscountRule,
        DiscountTier,
        FlashSaleRule,
        FlashSaleSkuPrice,
        FreeShippingRule,
        FullReductionRule,
        GiftItem,
        GiftRule,
        LineInput,
        MemberContext,
        QuoteInput,
        ReductionTier,
        Scope,
        ShippingInput,
    )

    now = datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=1)
    lines = tuple(
        LineInput(
            sku_id=i,
            product_id=100 + i,
            unit_price=Decimal("19.90") + i,
            quantity=1 + i % 3,
            category_ids=frozenset({1000 + i % 4, 1}),
            addon_campaign_id=20 if i == 19 else None,
        )
        for i in range(1, 21)
    )
    rules = []
    for n in range(1, 21):
        scope = Scope() if n % 3 else Scope(all_items=False, category_ids=frozenset({1000 + n % 4}))
        if n <= 6:
            kind = "full_reduction"
            rule = FullReductionRule(
                tiers=(ReductionTier(Decimal(99 * n), Decimal(10 * n)),), cap=Decimal("80")
            )
        elif n <= 10:
            kind = "discount"
            rule = DiscountRule(tiers=(DiscountTier(Decimal("0.9"), min_quantity=n - 5),))
        elif n <= 14:
            kind = "gift"
            rule = GiftRule(threshold=Decimal(50 * n), gifts=(GiftItem(500 + n, 1, 10),))
        elif n <= 17:
            kind = "free_shipping"
            rule = FreeShippingRule(threshold=Decimal(100 * n))
        elif n <= 19:
            kind = "flash_sale"
            rule = FlashSaleRule(prices={n - 15: FlashSaleSkuPrice(Decimal("9.90"), 100, 5)})
        else:
            kind = "addon"
            rule = AddonRule(threshold=Decimal("99"), offers=(AddonOffer(19, Decimal("5")),))
        rules.append(
            CampaignInput(
                id=n,
                kind=kind,
                name=f"C{n}",
                starts_at=start,
                ends_at=end,
                status="active",
                rule=rule,
                scope=scope,
                priority=n % 3,
            )
        )
    coupons = tuple(
        CouponInput(
            id=c,
            kind=["threshold", "percent", "fixed", "shipping", "threshold"][c - 1],
            name=f"K{c}",
            valid_from=start,
            valid_until=end,
            amount=Decimal(5 * c),
            percent_off=Decimal("10"),
            max_discount=Decimal("20"),
            threshold=Decimal(50 * c),
        )
        for c in range(1, 6)
    )
    return QuoteInput(
        lines=lines,
        now=now,
        member=MemberContext(member_id=1, points_balance=10_000),
        campaigns=tuple(rules),
        coupons=coupons,
        points_to_use=2000,
        shipping=ShippingInput(fee=Decimal("12")),
    )


def bench_engine(runs: int = 3000) -> dict[str, float]:
    from promotions.pricing import quote

    inputs = engine_inputs()
    for _ in range(200):
        quote(inputs)
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        quote(inputs)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
    timings.sort()
    result = quote(inputs)
    return {
        "median": statistics.median(timings),
        "p99": timings[int(len(timings) * 0.99) - 1],
        "promotions": len(result.promotions),
    }


def _ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed_endpoint() -> dict:
    """Tenant, 20 SKUs, 20 live campaigns, 5 coupons of one member, an address; the body."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from catalog.models import Category, FreightTemplate, Product, Sku
    from mall.tenancy.models import Channel, Tenant
    from members.models import Address, Member
    from members.services.tokens import member_tokens_issue
    from promotions.models import Campaign, Coupon, CouponTemplate, FlashSaleSku
    from promotions.rules import validate_rules

    tenant, _ = Tenant.objects.get_or_create(slug="pricing-bench", defaults={"name": "Pricing"})
    Channel.objects.get_or_create(
        app_id=APP_ID, defaults={"tenant": tenant, "platform": "wechat", "name": "bench"}
    )
    member, _ = Member.objects.get_or_create(
        tenant=tenant, nickname="bench", defaults={"points": 10**6}
    )
    address = Address.objects.for_tenant(tenant).filter(member=member).first() or (
        Address.objects.create(
            tenant=tenant,
            member=member,
            name="Bench",
            phone="13800000000",
            province="Guangdong",
            city="Shenzhen",
            detail="1 Road",
            province_code="440000",
        )
    )
    freight, _ = FreightTemplate.objects.get_or_create(
        tenant=tenant, name="bench", defaults={"first_fee": Decimal("8"), "additional_fee": 1}
    )
    if not Sku.objects.for_tenant(tenant).exists():
        root = Category.objects.create(tenant=tenant, name="Root")
        leaves = [
            Category.objects.create(tenant=tenant, name=f"Leaf {c}", parent=root) for c in range(4)
        ]
        for i in range(30):
            product = Product.objects.create(
                tenant=tenant,
                title=f"Product {i}",
                status="on_sale",
                category=leaves[i % 4],
                freight_template=freight,
            )
            Sku.objects.create(
                tenant=tenant,
                product=product,
                code=f"B{i:03d}",
                spec_key=f"k{i}",
                price=Decimal("19.90") + i,
                stock=10**6,
            )
    skus = list(Sku.objects.for_tenant(tenant).order_by("id"))
    now = timezone.now()
    if not Campaign.objects.for_tenant(tenant).exists():
        for n in range(1, 21):
            if n <= 6:
                kind, rules = (
                    "full_reduction",
                    {"tiers": [{"threshold": 99 * n, "reduction": 10 * n}]},
                )
            elif n <= 10:
                kind, rules = "discount", {"tiers": [{"rate": "0.90", "min_quantity": n - 5}]}
            elif n <= 14:
                kind, rules = (
                    "gift",
                    {"threshold": 50 * n, "gifts": [{"sku_id": skus[20 + n - 11].pk}]},
                )
            elif n <= 17:
                kind, rules = "free_shipping", {"threshold": 100 * n}
            elif n <= 19:
                kind, rules = "flash_sale", {}
            else:
                kind, rules = (
                    "addon",
                    {"threshold": 99, "offers": [{"sku_id": skus[19].pk, "price": "5"}]},
                )
            campaign = Campaign.objects.create(
                tenant=tenant,
                name=f"C{n}",
                kind=kind,
                status="active",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=365),
                rules=validate_rules(kind, rules),
                priority=n % 3,
            )
            if kind == "flash_sale":
                FlashSaleSku.objects.create(
                    tenant=tenant, campaign=campaign, sku=skus[n - 18], price="9.90", quota=10**6
                )
    templates = []
    for c in range(1, 6):
        kind = ["threshold", "percent", "fixed", "shipping", "threshold"][c - 1]
        template, _ = CouponTemplate.objects.get_or_create(
            tenant=tenant,
            name=f"K{c}",
            defaults={
                "kind": kind,
                "amount": None if kind in ("percent", "shipping") else Decimal(5 * c),
                "percent_off": Decimal("10") if kind == "percent" else None,
                "threshold": Decimal(50 * c),
                "total_quantity": 10,
                "validity_type": "fixed",
                "valid_from": now - timedelta(days=1),
                "valid_until": now + timedelta(days=365),
            },
        )
        templates.append(template)
    coupon_ids = []
    for template in templates:
        coupon = Coupon.objects.for_tenant(tenant).filter(template=template, member=member).first()
        if coupon is None:
            coupon = Coupon.objects.create(
                tenant=tenant,
                template=template,
                member=member,
                valid_from=template.valid_from,
                valid_until=template.valid_until,
                channel="public",
            )
        coupon_ids.append(coupon.pk)
    body = {
        "lines": [
            {"sku_id": s.pk, "quantity": 1 + i % 3}
            | (
                {"addon_campaign_id": Campaign.objects.for_tenant(tenant).get(name="C20").pk}
                if i == 19
                else {}
            )
            for i, s in enumerate(skus[:20])
        ],
        "coupon_ids": coupon_ids,
        "use_points": 2000,
        "fulfillment": "express",
        "address_id": address.pk,
    }
    return {"body": body, "token": member_tokens_issue(member=member).access}


def bench_in_process(body: dict, token: str, runs: int = 300) -> dict[str, float]:
    """The quote through the Django test client (no HTTP server), caches warm: SQL queries per
    request, and wall and CPU milliseconds per request."""
    from django.db import connection
    from django.test import Client

    client = Client()
    raw = json.dumps(body)
    headers = {"HTTP_X_APP_ID": APP_ID, "HTTP_AUTHORIZATION": f"Bearer {token}"}

    def post() -> None:
        response = client.post(
            "/api/v1/checkout/quote", raw, content_type="application/json", **headers
        )
        assert response.status_code == 200, response.content[:300]

    for _ in range(30):
        post()
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        post()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(runs):
        post()
    return {
        "queries": len(queries),
        "wall_ms": (time.perf_counter() - wall) / runs * 1000,
        "cpu_ms": (time.process_time() - cpu) / runs * 1000,
    }


def _wrk(
    duration: int, body: dict | None, token: str, path: str = "/api/v1/checkout/quote"
) -> dict[str, float]:
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
    if body is not None:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["X-App-Id"] = "{APP_ID}"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        )
    script.close()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONCURRENCY}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50": ms("50%"),
        "p99": ms("99%"),
        "rps": rps,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def bench_endpoint(duration: int, workers: int) -> dict[str, Any]:
    _ensure_database()
    seeded = seed_endpoint()
    in_process = bench_in_process(seeded["body"], seeded["token"])
    print(f"in-process: {in_process}", flush=True)
    load_before = os.getloadavg()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "mall.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/checkout/quote",
            data=json.dumps(seeded["body"]).encode(),
            headers={
                "Content-Type": "application/json",
                "X-App-Id": APP_ID,
                "Authorization": f"Bearer {seeded['token']}",
            },
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=10).read())
        _wrk(2, seeded["body"], seeded["token"])  # warm-up
        result: dict[str, Any] = _wrk(duration, seeded["body"], seeded["token"])
        result["floor"] = _wrk(max(duration // 2, 3), None, "", "/bench/floor")
        result["promotions"] = len(answer["promotions"])
        result["payable"] = answer["payable"]
        result["in_process"] = in_process
        result["workers"] = workers
        result["load"] = (load_before, os.getloadavg())
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def write_results(engine: dict, endpoint: dict | None, duration: int) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    ok = "meets" if engine["median"] < ENGINE_TARGET_MS else "MISSES"
    lines = [
        START_MARK,
        "# Pricing benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/pricing.py`. Machine: "
        f"{os.cpu_count()} logical CPUs; {platform.platform()}; "
        f"Python {platform.python_version()}.",
        "",
        "Engine alone (`promotions.pricing.quote`): 20 lines, 20 live campaigns (6 full "
        "reduction, 4 discount, 4 gift, 3 free shipping, 2 flash sale, 1 add-on), 5 coupons, "
        "points and shipping; 3,000 runs after 200 warm-up runs.",
        "",
        "| measure | median ms | p99 ms | target | verdict |",
        "|---|---|---|---|---|",
        f"| engine | {engine['median']:.3f} | {engine['p99']:.3f} | median < {ENGINE_TARGET_MS} ms "
        f"| {ok} |",
    ]
    if endpoint is not None:
        ok = "meets" if endpoint["p99"] < P99_TARGET_MS else "MISSES"
        floor, local = endpoint["floor"], endpoint["in_process"]
        before, after = endpoint["load"]
        lines += [
            "",
            f"Endpoint `POST /api/v1/checkout/quote`, same cart shape in PostgreSQL and Redis "
            f"(loopback), gunicorn {endpoint['workers']} sync workers, wrk 2 threads, "
            f"concurrency {CONCURRENCY}, {duration} s after a 2 s warm-up; server, wrk, "
            f"PostgreSQL and Redis share the {os.cpu_count()} cores. Load average (1 min) "
            f"{before[0]:.2f} before, {after[0]:.2f} after (other processes count too). The "
            "floor row is the same server's bare `JsonResponse` at the same concurrency.",
            "",
            "| endpoint | conc. | req/s | p50 ms | p99 ms | target | verdict | non-2xx |",
            "|---|---|---|---|---|---|---|---|",
            f"| quote | {CONCURRENCY} | {endpoint['rps']:.0f} | {endpoint['p50']:.2f} | "
            f"{endpoint['p99']:.2f} | p99 < {P99_TARGET_MS} ms | {ok} | {endpoint['non2xx']} |",
            f"| floor | {CONCURRENCY} | {floor['rps']:.0f} | {floor['p50']:.2f} | "
            f"{floor['p99']:.2f} | - | - | {floor['non2xx']} |",
            "",
            f"In-process (Django test client, warm caches, {local['queries']} SQL queries per "
            f"quote): {local['wall_ms']:.2f} ms wall, {local['cpu_ms']:.2f} ms CPU per request.",
        ]
    lines += ["", *NOTES.strip("\n").splitlines()]
    lines.append(END_MARK)
    section = "\n".join(lines) + "\n"
    text = path.read_text() if path.exists() else ""
    if START_MARK in text and END_MARK in text:
        before, rest = text.split(START_MARK, 1)
        after = rest.split(END_MARK, 1)[1].lstrip("\n")
        text = before + section + after
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--engine-only", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    import django

    django.setup()
    engine = bench_engine()
    print(f"engine: median {engine['median']:.3f} ms, p99 {engine['p99']:.3f} ms", flush=True)
    endpoint = None if args.engine_only else bench_endpoint(args.duration, args.workers)
    if endpoint:
        print(f"endpoint: {endpoint}", flush=True)
    write_results(engine, endpoint, args.duration)


if __name__ == "__main__":
    main()
