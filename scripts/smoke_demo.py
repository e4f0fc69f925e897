"""Smoke test of README command 1 against a running demo server (used by .ci/run).

    python scripts/smoke_demo.py http://127.0.0.1:8765

Checks what the README promises: the shopper API answers with the demo X-App-Id, the Swagger UI
renders from local static files, a sandbox login and a product listing work, and the printed
owner login opens the console. Exits non-zero on the first failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import urllib.parse
import urllib.request

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
    assert status in (200, 201) and json.loads(body)["access"], ("login", status, body[:200])
    print("ok sandbox login")

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


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
