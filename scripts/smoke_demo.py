"""Smoke test of README command 1 against a running demo server (used by .ci/run).

    python scripts/smoke_demo.py http://127.0.0.1:8765

Checks what the README promises: the shopper API answers with the demo X-App-Id, the Swagger UI
renders from local static files, a sandbox login and a product listing work, the README's
purchase (coupon, address, quote, order, sandbox payment) goes through, and the printed owner
login opens the console, and the README's curl purchase, extracted from README.md and run
with bash as written (against this server), succeeds twice in a row. Exits non-zero on the
first failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

APP_ID = "wxdemo0000000001"
OWNER = ("owner@demo.local", "demo-owner-pass")


def main(base: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(base + path, headers=headers or {})
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()

    def post(path: str, data: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
        request = urllib.request.Request(base + path, data=data, headers=headers, method="POST")
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(), response.geturl()

    status, body = get("/api/v1/categories", {"X-App-Id": APP_ID})
    tree = json.loads(body)
    assert status == 200 and tree["results"], ("categories", status, body[:200])
    print(f"ok categories: {len(tree['results'])} roots")

    status, body = get("/api/v1/products?page_size=5", {"X-App-Id": APP_ID})
    products = json.loads(body)
    assert status == 200 and products["count"] > 0, ("products", status, body[:200])
    print(f"ok products: {products['count']}")

    status, body, _ = post(
        "/api/v1/auth/wechat/login",
        json.dumps({"code": "smoke"}).encode(),
        {"X-App-Id": APP_ID, "Content-Type": "application/json"},
    )
    token = json.loads(body)["access"]
    assert status in (200, 201) and token, ("login", status, body[:200])
    print("ok sandbox login")
    buy(get, post, token, products["results"][0]["id"])
    readme_purchase(base)

    status, body = get("/api/docs/")
    assert status == 200 and "swagger" in body.lower(), ("docs", status)
    assert not re.search(r"(src|href)=\"https?://", body), "Swagger UI must not use a CDN"
    print("ok /api/docs/")

    status, body = get("/console/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": OWNER[0],
            "password": OWNER[1],
            "next": "/console/",
        }
    ).encode()
    status, body, url = post(
        "/console/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": base + "/console/login/"},
    )
    assert status == 200 and not url.endswith("/login/"), ("console login", status, url)
    assert "Demo" in body, "the dashboard names the demo shop"
    print("ok console login and dashboard")


def buy(get: Any, post: Any, token: str, product_id: int) -> None:
    """The README's purchase: a claimed coupon, an address, a quote, an order, a sandbox
    payment; the quote's lines add up to its payable and the order is paid."""
    me = {"X-App-Id": APP_ID, "Authorization": f"Bearer {token}"}
    as_json = {**me, "Content-Type": "application/json"}
    _, body = get("/api/v1/coupons", me)
    templates = json.loads(body)["results"]
    assert templates, "the demo has claimable coupons"
    try:
        status, _, _ = post(f"/api/v1/coupons/{templates[0]['id']}/claim", b"", me)
    except urllib.error.HTTPError as exc:  # claimed by this buyer in an earlier run
        status = exc.code
    assert status in (201, 409), ("claim", status)
    _, body = get("/api/v1/me/coupons?status=unused", me)
    coupon_ids = [c["id"] for c in json.loads(body)["results"]]
    _, body = get(f"/api/v1/products/{product_id}", {"X-App-Id": APP_ID})
    sku_id = json.loads(body)["skus"][0]["id"]
    address = {
        "name": "Li Lei", "phone": "13800138000", "province": "Guangdong", "city": "Shenzhen",
        "district": "Nanshan", "detail": "1 Keji Road", "province_code": "440000",
    }  # fmt: skip
    _, body, _ = post("/api/v1/me/addresses", json.dumps(address).encode(), as_json)
    cart = {
        "lines": [{"sku_id": sku_id, "quantity": 2}],
        "coupon_ids": coupon_ids,
        "fulfillment": "express",
        "address_id": json.loads(body)["id"],
    }
    status, body, _ = post("/api/v1/checkout/quote", json.dumps(cart).encode(), as_json)
    quote = json.loads(body)
    lines = sum(Decimal(line["payable"]) for line in quote["lines"])
    assert status == 200 and lines == Decimal(quote["payable"]), ("quote", status, body[:300])
    print(f"ok quote: payable {quote['payable']}, {len(quote['promotions'])} promotions")
    # The order takes the coupons the quote applied (checkout refuses one that does not apply).
    cart["coupon_ids"] = quote["coupon_ids_used"]
    order_headers = {**as_json, "Idempotency-Key": f"smoke-order-{uuid.uuid4()}"}
    status, body, _ = post("/api/v1/orders", json.dumps(cart).encode(), order_headers)
    order = json.loads(body)
    assert status == 201 and order["payable"] == quote["payable"], ("order", status, body[:300])
    pay = json.dumps({"gateway": "sandbox"}).encode()
    _, body, _ = post(f"/api/v1/orders/{order['number']}/pay", pay, as_json)
    trade = json.loads(body)["out_trade_no"]
    post(f"/api/v1/payments/sandbox/{trade}/complete", b"", me)
    _, body = get(f"/api/v1/orders/{order['number']}", me)
    assert json.loads(body)["status"] == "paid", ("order status", body[:300])
    print(f"ok order {order['number']} paid through the sandbox")


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_curl_block() -> str:
    """The README's ```bash block of the sandbox purchase (tests/mall/test_readme.py checks
    that every fence of the README is labelled and closed)."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(encoding="utf-8"), re.S | re.M)
    found = [b for b in blocks if "/api/v1/orders/$NUMBER/pay" in b]
    assert len(found) == 1, "README: exactly one curl purchase block"
    return found[0]


def readme_purchase(base: str) -> None:
    """Run the README's curl purchase as written, only BASE pointing at this server, twice:
    each run must end with the order ``paid`` (a fixed Idempotency-Key once broke the second)."""
    script = re.sub(r"^BASE=.*$", f"BASE={base}", readme_curl_block(), count=1, flags=re.M)
    bash = shutil.which("bash") or "/bin/bash"
    for run in (1, 2):
        done = subprocess.run(  # noqa: S603 (the repository's own README)
            [bash, "-e", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        # curl's answers carry no newline: the last thing printed is the order status
        assert done.returncode == 0 and done.stdout.rstrip().endswith("}paid"), (
            f"README curl purchase, run {run}",
            done.returncode,
            done.stdout[-500:],
            done.stderr[-500:],
        )
        print(f"ok README curl purchase, run {run}: paid")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
