"""Catalog API benchmark: product list and detail against a bare JsonResponse floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mall_catalog_bench \
    REDIS_URL=redis://127.0.0.1:6379/4 .venv/bin/python bench/catalog.py [--duration 10]

Creates (once) a tenant "bench" with 10,000 on-sale products (2 SKUs each, a Colour spec, a
category tree) in that PostgreSQL database, starts one gunicorn sync worker pinned to core 0
(``taskset -c 0``) and runs wrk pinned to core 1 (``taskset -c 1``, one thread) at concurrency 4
and 32 against: the floor (``/bench/floor``, same worker, same middleware), the list
(``/api/v1/products``, 20 items) and a detail (``/api/v1/products/{id}``). Writes its section
of bench/RESULTS.md (between the catalog markers; other sections kept). Needs PostgreSQL, wrk
(``apt-get install -y wrk``) and taskset.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mall_catalog_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")

APP_ID = "bench-wechat-app"
N_PRODUCTS = 10_000
PORT = int(os.environ.get("BENCH_PORT", "8771"))
TARGETS = {"list": 0.25, "detail": 0.30}
P99_TARGET_MS = 50.0
# bench/RESULTS.md is shared: each benchmark owns the text between its own markers.
START, END = "<!-- catalog:start -->", "<!-- catalog:end -->"
SECTION_START = re.compile(r"<!-- [\w-]+:start -->")


# The server's environment on top of this one: DATABASE_URL as the app role with --app-role.
SERVER_ENV: dict[str, str] = {}


def _ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _seed() -> int:
    """Create the bench tenant and its catalog once; return a product id for the detail."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog.models import Category, Product, Sku, SpecName, SpecValue
    from mall.tenancy.models import Channel, Tenant

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench shop"})
    Channel.objects.get_or_create(
        app_id=APP_ID, defaults={"tenant": tenant, "platform": "wechat", "name": "bench"}
    )
    if Product.objects.for_tenant(tenant).count() < N_PRODUCTS:
        print("seeding 10,000 products ...", flush=True)
        leaves = []
        for r in range(10):
            root = Category.objects.create(tenant=tenant, name=f"Root {r}")
            leaves += [
                Category.objects.create(tenant=tenant, name=f"Leaf {r}.{c}", parent=root)
                for c in range(5)
            ]
        products = Product.objects.bulk_create(
            [
                Product(
                    tenant=tenant,
                    ref=f"B{i}",
                    title=f"Bench product {i}",
                    subtitle="A product for the benchmark",
                    description="<p>Description</p>" * 20,
                    category=leaves[i % len(leaves)],
                    status="on_sale",
                    sales_count=(i * 7919) % 1000,
                    sort_weight=i % 10,
                    main_image=f"catalog/{tenant.pk}/{i}/main_600.jpg",
                    display_price=Decimal(10 + i % 90),
                    display_market_price=Decimal(20 + i % 90),
                )
                for i in range(N_PRODUCTS)
            ],
            batch_size=2000,
        )
        names = SpecName.objects.bulk_create(
            [SpecName(tenant=tenant, product=p, name="Colour") for p in products],
            batch_size=2000,
        )
        values = SpecValue.objects.bulk_create(
            [
                SpecValue(tenant=tenant, spec_name=n, value=v, position=k)
                for n in names
                for k, v in enumerate(("Red", "Blue"))
            ],
            batch_size=4000,
        )
        skus = Sku.objects.bulk_create(
            [
                Sku(
                    tenant=tenant,
                    product=p,
                    code=f"B{i}-{v.value}",
                    spec_key=str(v.pk),
                    specs=[{"name": "Colour", "value": v.value}],
                    price=Decimal(10 + i % 90) + k,
                    market_price=Decimal(20 + i % 90),
                    stock=(i + k) % 50,
                )
                for i, p in enumerate(products)
                for k, v in enumerate(values[2 * i : 2 * i + 2])
            ],
            batch_size=4000,
        )
        through = Sku.spec_values.through
        through.objects.bulk_create(
            [
                through(sku_id=s.pk, specvalue_id=int(s.spec_key))
                for s in skus  # spec_key holds the value id here
            ],
            batch_size=4000,
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return (
        Product.objects.for_tenant(tenant)
        .order_by("id")
        .values_list("id", flat=True)[N_PRODUCTS // 2]
    )


def _wrk(url: str, connections: int, duration: int) -> dict[str, float]:
    cmd = [
        "taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
        "-H", f"X-App-Id: {APP_ID}", url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)

    def pct(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }


def _machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    pg = subprocess.run(
        [sys.executable, "-c", "import psycopg,os;c=psycopg.connect(os.environ['DATABASE_URL']);"
         "print(c.execute('show server_version').fetchone()[0])"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs{mem}; {platform.platform()}; "
        f"Python {platform.python_version()}; PostgreSQL {pg}; wrk "
        + subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
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
    detail_id = _seed()
    if args.app_role:
        from bench.app_role import app_role_url

        SERVER_ENV["DATABASE_URL"] = app_role_url(os.environ["DATABASE_URL"])
    base = f"http://127.0.0.1:{PORT}"
    urls = {
        "floor": f"{base}/bench/floor",
        "list": f"{base}/api/v1/products?page_size=20",
        "detail": f"{base}/api/v1/products/{detail_id}",
    }
    server = subprocess.Popen(
        ["taskset", "-c", "0", str(ROOT / ".venv/bin/gunicorn"), "mall.wsgi:application",
         "--workers", "1", "--worker-class", "sync", "--bind", f"127.0.0.1:{PORT}",
         "--log-level", "warning", "--chdir", str(ROOT)],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", **SERVER_ENV},
    )  # fmt: skip
    results: dict[tuple[str, int], dict[str, float]] = {}
    load_before = os.getloadavg()
    try:
        for _ in range(100):
            try:
                req = urllib.request.Request(urls["list"], headers={"X-App-Id": APP_ID})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not answer")
        for url in urls.values():  # warm-up (imports, caches, PG plans)
            _wrk(url, 4, 2)
        for connections in (4, 32):
            for name, url in urls.items():
                results[(name, connections)] = _wrk(url, connections, args.duration)
                r = results[(name, connections)]
                print(f"{name:6} c={connections:2}  {r['rps']:8.0f} req/s  p50 {r['p50']:.2f} ms"
                      f"  p99 {r['p99']:.2f} ms  non-2xx {r['non2xx']}", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    load = f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after the runs"
    _write(Path(args.output), results, args.duration, detail_id, load)


def _write(path: Path, results: dict, duration: int, detail_id: int, load: str) -> None:
    lines = [
        "# Catalog API benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/catalog.py` "
        f"({duration} s per run, after a 2 s warm-up per endpoint).",
        "",
        f"Machine: {_machine()}; {load} (other processes on the machine count too).",
        "",
        "Setup: tenant with 10,000 on-sale products (2 SKUs each), PostgreSQL and Redis (cache) "
        "on loopback, one gunicorn sync worker pinned to core 0, wrk (1 thread) pinned to core 1; "
        "PostgreSQL and Redis are not pinned and share the cores. Settings: bench.settings "
        "(DEBUG off, full middleware stack). Endpoints: floor = `/bench/floor` (bare "
        f"`JsonResponse`, same worker), list = `/api/v1/products?page_size=20`, detail = "
        f"`/api/v1/products/{detail_id}`.",
        "",
        "| endpoint | conc. | req/s | p50 ms | p99 ms | % of floor req/s | target | non-2xx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for connections in (4, 32):
        floor = results[("floor", connections)]["rps"]
        for name in ("floor", "list", "detail"):
            r = results[(name, connections)]
            ratio = r["rps"] / floor if floor else 0.0
            target = TARGETS.get(name)
            target_text = f">= {target:.0%}" if target else "-"
            lines.append(
                f"| {name} | {connections} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                f"{ratio:.1%} | {target_text} | {r['non2xx']} |"
            )
            if target:
                verdicts.append(
                    f"- {name} at c={connections}: {ratio:.1%} of the floor "
                    f"({'meets' if ratio >= target else 'MISSES'} the {target:.0%} target)"
                )
            if connections == 32 and name != "floor":
                ok = r["p99"] < P99_TARGET_MS
                verdicts.append(
                    f"- {name} p99 at c=32: {r['p99']:.1f} ms "
                    f"({'meets' if ok else 'MISSES'} the < {P99_TARGET_MS:.0f} ms target)"
                )
    lines += ["", "Against the targets:", "", *verdicts, ""]
    notes = path.with_name("RESULTS-notes.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    section = "\n".join([START, *lines, END])
    path.write_text(results_merge(path.read_text() if path.exists() else "", section))
    print(f"wrote {path}")


def results_merge(text: str, section: str) -> str:
    """Replace the catalog section of RESULTS.md, keeping every other section as it is.

    Files written before the markers existed start with the unmarked catalog section: that
    text (up to the first other section's start marker) is replaced; anything else is kept.
    """
    if START in text and END in text:
        return text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    first = SECTION_START.search(text)
    head, rest = (text[: first.start()], text[first.start() :]) if first else (text, "")
    if head.lstrip().startswith("# Catalog API benchmark"):
        head = ""
    parts = [section, head.strip(), rest.strip()]
    return "\n\n".join(p for p in parts if p) + "\n"


if __name__ == "__main__":
    main()
