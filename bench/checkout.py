"""Checkout benchmark: orders created per second end to end (HTTP -> gunicorn -> PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mall_orders_bench \
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/checkout.py [--duration 60]

Creates (once) a tenant "bench-orders" with 3 SKUs (stock 10,000,000 each), two live campaigns
(5% off from 2 pieces, then 10 off over 100) and 2,000 buyers with an address. For each value
of ``--workers`` (default 1 and 2) starts gunicorn with that many sync workers, all pinned to
core 0, and runs wrk pinned to core 1 with 20 connections for ``--duration`` seconds, each
request ``POST /api/v1/orders`` with a 3-line cart for a buyer taken in turn; the gunicorn
processes' CPU time during the run (from /proc) gives orders per server-CPU-second, the
throughput of one core that is fully the server's. Afterwards checks the invariants (every
order has its 3 reservations; for each SKU start stock + ledger sum == stock; no negative stock;
order payables == line payables) and replaces its own section of bench/RESULTS.md (between the
checkout markers), followed by bench/RESULTS-checkout-notes.md (hand-written analysis) if any.
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
from typing import Any

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
WORKERS = [1, 2]
TARGET_RPS = 100.0
# The server's environment on top of this one: DATABASE_URL as the app role with --app-role.
SERVER_ENV: dict[str, str] = {}
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
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=WORKERS,
        help="gunicorn sync workers (all pinned to core 0), one run per value "
        "(default: %(default)s)",
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument(
        "--app-role",
        action="store_true",
        help="serve as a role like mall_app, so row-level security applies (bench/app_role.py)",
    )
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required (apt-get install -y {tool})")
    _ensure_database()
    data = _seed()
    if args.app_role:
        from bench.app_role import app_role_url

        SERVER_ENV["DATABASE_URL"] = app_role_url(os.environ["DATABASE_URL"])
    script = Path(tempfile.mkdtemp()) / "checkout.lua"
    script.write_text(_lua(data))
    runs = []
    for workers in args.workers:
        run = _run(workers, args.duration, str(script))
        run["checks"], run["orders"] = _invariants(data["tenant_id"], data["sku_ids"], run["since"])
        print(
            {k: v for k, v in run.items() if k != "checks"},
            f"server cpu ms/order {run['server_cpu'] / max(run['orders'], 1) * 1000:.2f}",
            *run["checks"],
            sep="\n",
        )
        runs.append(run)
    _write(Path(args.output), runs, args.duration)


def _run(workers: int, duration: int, script: str) -> dict[str, Any]:
    """One gunicorn with ``workers`` sync workers pinned to core 0; wrk on core 1."""
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(ROOT / ".venv/bin/gunicorn"), "mall.wsgi:application",
         "--workers", str(workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{PORT}",
         "--log-level", "warning", "--chdir", str(ROOT)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **SERVER_ENV},
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
        _wrk_script(url, CONNECTIONS, 3, script)  # warm-up (every worker)
        since = datetime.now(UTC)
        cpu_before = _server_cpu(server.pid)
        result: dict[str, Any] = _wrk_script(url, CONNECTIONS, duration, script)
        result["server_cpu"] = _server_cpu(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(10)
    result.update(workers=workers, since=since, load=(load_before[0], os.getloadavg()[0]))
    return result


def _server_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [master]
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        pids += [int(pid) for pid in children]
    except OSError:
        pass
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


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


def _write(path: Path, runs: list[dict[str, Any]], duration: int) -> None:
    rows, verdicts = [], []
    for r in runs:
        rate = r["orders"] / duration
        cpu_ms = r["server_cpu"] / max(r["orders"], 1) * 1000
        rows.append(
            f"| {r['workers']} | {rate:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['non2xx']} | "
            f"{r['orders']} | {r['server_cpu'] / duration:.0%} | {cpu_ms:.2f} | "
            f"{1000 / cpu_ms:.0f} | {r['load'][0]:.2f} / {r['load'][1]:.2f} |"
        )
        verdicts.append(
            f"- {r['workers']} worker(s): {rate:.1f} orders/s "
            f"({'meets' if rate >= TARGET_RPS else 'MISSES'} >= {TARGET_RPS:.0f}/s), p99 "
            f"{r['p99']:.0f} ms ({'meets' if r['p99'] < TARGET_P99_MS else 'MISSES'} "
            f"< {TARGET_P99_MS:.0f} ms); invariants "
            f"{'ok' if all(c.startswith('ok') for c in r['checks']) else 'FAILED'}"
        )
    section = [
        START,
        "# Checkout benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/checkout.py`: {CONNECTIONS} "
        f"concurrent buyers for {duration} s per run (after a 3 s warm-up), each request "
        "`POST /api/v1/orders` with a 3-line cart (2 + 1 + 1 pieces) under 2 live campaigns "
        "(5% off from 2 pieces, 10 off over 100), express to a saved address; gunicorn sync "
        "worker(s) all pinned to core 0 (`taskset -c 0`), wrk pinned to core 1, PostgreSQL "
        "and Redis unpinned on the same 2 cores. Server CPU = user + system time of the "
        "gunicorn processes during the run (from /proc), so orders per server-CPU-second is "
        "what one fully available core would sustain, whatever else ran on the machine.",
        "",
        f"Machine: {_machine()}.",
        "",
        "| workers | orders/s (2xx) | p50 ms | p99 ms | non-2xx | orders | core 0 used by "
        "server | server CPU ms/order | orders per server-CPU-s | load avg before / after |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Against the targets (>= 100 orders/s per server core, p99 < 300 ms):",
        "",
        *verdicts,
        "",
        "Invariants checked after each run (every order has its 3 reservations; per SKU start "
        "stock + ledger sum == stock, never negative; order payables == line payables):",
        "",
    ]
    for r in runs:
        section += [f"- {r['workers']} worker(s): {c}" for c in r["checks"]]
    notes = path.with_name("RESULTS-checkout-notes.md")
    if notes.exists():
        section += ["", notes.read_text().rstrip()]
    section += ["", END]
    text = "\n".join(section)
    path.write_text(results_merge(path.read_text() if path.exists() else "", text))
    print(f"wrote {path}")


def results_merge(text: str, section: str) -> str:
    """Replace the checkout section (between its markers) or append it; keep the rest."""
    if START in text and END in text:
        return text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    return text.rstrip() + "\n\n" + section + "\n"


if __name__ == "__main__":
    main()
