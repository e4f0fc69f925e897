"""Checkout benchmark: orders created per second end to end (HTTP -> gunicorn -> PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mall_orders_bench \
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/checkout.py [--duration 60]

Creates (once) a tenant "bench-orders" with 3 SKUs (stock 10,000,000 each), two live campaigns
(5% off from 2 pieces, then 10 off over 100) and 2,000 buyers with an address; starts one
gunicorn sync worker pinned to core 0 and runs wrk pinned to core 1 with 20 connections for
``--duration`` seconds, each request ``POST /api/v1/orders`` with a 3-line cart for a buyer
taken in turn. Afterwards checks the invariants (every order has its 3 reservations; for each
SKU start stock + ledger sum == stock; no negative stock; order payables == line payables) and
replaces its own section of bench/RESULTS.md (between the checkout markers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mall_orders_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")

from bench.catalog import _ensure_database, _machine  # noqa: E402

APP_ID = "bench-orders-wechat"
PORT = int(os.environ.get("BENCH_CHECKOUT_PORT", "8772"))
BUYERS = 2000
START_STOCK = 10_000_000
CONNECTIONS = 20
TARGET_RPS = 100.0
TARGET_P99_MS = 300.0
START, END = "<!-- checkout:start -->", "<!-- checkout:end -->"


def _seed() -> dict:
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from catalog.models import Product, Sku
    from mall.tenancy.models import Channel, Tenant
    from members.models import Address, Member
    from members.services.tokens import member_tokens_issue
    from promotions.models import Campaign
    from promotions.rules import validate_rules

    tenant, _ = Tenant.objects.get_or_create(slug="bench-orders", defaults={"name": "Bench"})
    Channel.objects.get_or_create(
        app_id=APP_ID, defaults={"tenant": tenant, "platform": "wechat", "name": "bench"}
    )
    skus = list(Sku.objects.for_tenant(tenant).order_by("id"))
    if len(skus) < 3:
        for i in range(3):
            product = Product.objects.create(
                tenant=tenant, title=f"Bench tea {i}", status="on_sale"
            )
            Sku.objects.create(
                tenant=tenant, product=product, code=f"BT-{i}", spec_key=f"k{i}",
                price=Decimal("39.90") + i * 10, stock=START_STOCK,
            )  # fmt: skip
        skus = list(Sku.objects.for_tenant(tenant).order_by("id"))
    now = timezone.now()
    for name, kind, rules in (
        ("bench discount", "discount", {"tiers": [{"rate": "0.95", "min_quantity": 2}]}),
        ("bench reduction", "full_reduction", {"tiers": [{"threshold": "100", "reduction": "10"}]}),
    ):
        Campaign.objects.update_or_create(
            tenant=tenant, name=name,
            defaults={"kind": kind, "status": "active", "starts_at": now - timedelta(hours=1),
                      "ends_at": now + timedelta(days=30), "rules": validate_rules(kind, rules)},
        )  # fmt: skip
    members = list(Member.objects.for_tenant(tenant).order_by("id")[:BUYERS])
    if len(members) < BUYERS:
        Member.objects.bulk_create(
            [Member(tenant=tenant, nickname=f"buyer {i}") for i in range(BUYERS - len(members))]
        )
        members = list(Member.objects.for_tenant(tenant).order_by("id")[:BUYERS])
        Address.objects.bulk_create(
            [
                Address(tenant=tenant, member=m, name="Buyer", phone="13800138000",
                        province="Guangdong", city="Shenzhen", detail="1 Road",
                        province_code="440000", is_default=True)
                for m in members
                if not Address.objects.for_tenant(tenant).filter(member=m).exists()
            ]
        )  # fmt: skip
    addresses = dict(
        Address.objects.for_tenant(tenant).filter(member__in=members).values_list("member", "id")
    )
    buyers = [
        (member_tokens_issue(member=m).access, addresses[m.pk])
        for m in members
        if m.pk in addresses
    ]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"tenant_id": tenant.pk, "sku_ids": [s.pk for s in skus[:3]], "buyers": buyers}


def _lua(data: dict) -> str:
    bodies = [
        json.dumps({
            "lines": [{"sku_id": sku_id, "quantity": q}
                      for sku_id, q in zip(data["sku_ids"], (2, 1, 1), strict=True)],
            "fulfillment": "express", "address_id": address_id,
        })
        for _token, address_id in data["buyers"]
    ]  # fmt: skip
    tokens = [token for token, _ in data["buyers"]]
    lua_tokens = ",".join(json.dumps(t) for t in tokens)
    lua_bodies = ",".join(json.dumps(b) for b in bodies)
    return f"""
local tokens = {{{lua_tokens}}}
local bodies = {{{lua_bodies}}}
local n = 0
request = function()
  n = n + 1
  local i = (n % #tokens) + 1
  return wrk.format("POST", "/api/v1/orders", {{
    ["Content-Type"] = "application/json",
    ["X-App-Id"] = "{APP_ID}",
    ["Authorization"] = "Bearer " .. tokens[i],
  }}, bodies[i])
end
"""


def _invariants(tenant_id: int, sku_ids: list[int], since: datetime) -> tuple[list[str], int]:
    from django.db.models import Count, Sum

    from catalog.models import Sku, StockMovement
    from orders.models import Order, OrderLine

    orders = Order.objects.for_tenant(tenant_id).filter(created_at__gte=since)
    count = orders.count()
    checks = []
    reserves = StockMovement.objects.for_tenant(tenant_id).filter(
        reason="reserve", reference__in=orders.values("number")
    )
    ok = reserves.count() == 3 * count
    checks.append(f"{'ok' if ok else 'FAILED'}: {reserves.count()} reservations for "
                  f"{count} orders (3 each)")  # fmt: skip
    for sku in Sku.objects.filter(pk__in=sku_ids).order_by("pk"):
        moved = StockMovement.objects.filter(sku=sku).aggregate(s=Sum("quantity"))["s"] or 0
        ok = START_STOCK + moved == sku.stock and sku.stock >= 0
        checks.append(f"{'ok' if ok else 'FAILED'}: SKU {sku.code}: {START_STOCK} + ledger "
                      f"{moved} == stock {sku.stock} (>= 0)")  # fmt: skip
    mismatched = (
        orders.annotate(lines_payable=Sum("lines__payable"), n=Count("lines")).exclude(n=3).count()
    )
    total = orders.aggregate(s=Sum("payable"))["s"] or 0
    lines_total = OrderLine.objects.filter(order__in=orders).aggregate(s=Sum("payable"))["s"] or 0
    checks.append(f"{'ok' if total == lines_total and not mismatched else 'FAILED'}: order "
                  f"payables {total} == line payables {lines_total}; orders without 3 lines: "
                  f"{mismatched}")  # fmt: skip
    return checks, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required (apt-get install -y {tool})")
    _ensure_database()
    data = _seed()
    script = Path(tempfile.mkdtemp()) / "checkout.lua"
    script.write_text(_lua(data))
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(ROOT / ".venv/bin/gunicorn"), "mall.wsgi:application",
         "--workers", "1", "--worker-class", "sync", "--bind", f"127.0.0.1:{PORT}",
         "--log-level", "warning", "--chdir", str(ROOT)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{PORT}/"
    load_before = os.getloadavg()
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not answer")

        def run(duration: int) -> dict[str, float]:
            return _wrk_script(url, CONNECTIONS, duration, str(script))

        run(3)  # warm-up
        since = datetime.now(UTC)
        result = run(args.duration)
    finally:
        server.terminate()
        server.wait(10)
    checks, orders = _invariants(data["tenant_id"], data["sku_ids"], since)
    load = f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(result, orders, *checks, sep="\n")
    _write(Path(args.output), result, orders, checks, args.duration, load)


def _wrk_script(url: str, connections: int, duration: int, script: str) -> dict[str, float]:
    import re

    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
           "--latency", "--timeout", "10s", "-s", script, url]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}  # fmt: skip


def _write(path: Path, r: dict, orders: int, checks: list[str], duration: int, load: str) -> None:
    ok_rate = r["rps"] >= TARGET_RPS
    ok_p99 = r["p99"] < TARGET_P99_MS
    section = "\n".join([
        START,
        "# Checkout benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/checkout.py`: {CONNECTIONS} "
        f"concurrent buyers for {duration} s (after a 3 s warm-up), each request "
        "`POST /api/v1/orders` with a 3-line cart (2 + 1 + 1 pieces) under 2 live campaigns "
        "(5% off from 2 pieces, 10 off over 100), express to a saved address; one gunicorn "
        "sync worker pinned to core 0, wrk pinned to core 1, PostgreSQL and Redis unpinned on "
        "the same 2 cores.",
        "",
        f"Machine: {_machine()}; {load}.",
        "",
        "| orders/s (2xx) | requests/s | p50 ms | p99 ms | non-2xx | orders created |",
        "|---|---|---|---|---|---|",
        f"| {orders / duration:.1f} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | "
        f"{r['non2xx']} | {orders} |",
        "",
        f"- target >= {TARGET_RPS:.0f} orders/s per server core: "
        f"{'meets' if ok_rate else 'MISSES'}",
        f"- target p99 < {TARGET_P99_MS:.0f} ms: {'meets' if ok_p99 else 'MISSES'}",
        "",
        "Invariants checked after the run:",
        "",
        *[f"- {c}" for c in checks],
        END,
    ])  # fmt: skip
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
