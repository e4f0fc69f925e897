"""Chinese by default, English by choice: console pages, the staff member's saved language,
the API's error messages (codes unchanged), the catalogue, amounts and dates."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client

from mall.console.catalogue import catalogues, compile_catalogues
from mall.console.formatting import format_tenant_datetime, format_yuan
from mall.settings import base as base_settings
from mall.tenancy.models import Staff, Tenant
from tests.conftest import shopper_client

Role = Staff.Role


@pytest.fixture
def chinese_default(settings: Any) -> None:
    settings.LANGUAGE_CODE = base_settings.LANGUAGE_CODE  # tests otherwise run in English


def test_simplified_chinese_is_the_default_and_english_is_offered() -> None:
    assert base_settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in base_settings.LANGUAGES] == ["zh-hans", "en"]
    assert "django.middleware.locale.LocaleMiddleware" in django_settings.MIDDLEWARE


def test_catalogue_is_complete_and_compiles() -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "install gettext (apt-get install -y gettext)"
    pos = catalogues()
    assert [p.parent.parent.name for p in pos] == ["zh_Hans"]

    mos = compile_catalogues()

    assert all(mo.exists() and mo.stat().st_size > 0 for mo in mos)
    stats = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(pos[0])],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "translated message" in stats
    assert "fuzzy" not in stats and "untranslated" not in stats, stats
    text = pos[0].read_text(encoding="utf-8")
    assert "#, fuzzy" not in text


# What ``makemessages`` reads (docs/console.md "Languages"): sources, not tests or tooling.
_EXTRACT_SKIP_DIRS = {".git", ".venv", "staticfiles", "bench", "tests", "scripts", "locale",
                      "node_modules", "__pycache__", "media", "static"}  # fmt: skip
_EXTRACTED_SUFFIXES = {".py", ".html", ".txt"}


def _copy_sources(src: Path, dst: Path) -> None:
    for path in src.iterdir():
        if path.is_dir() and path.name not in _EXTRACT_SKIP_DIRS and not path.name.startswith("."):
            _copy_sources(path, dst / path.name)
        elif path.is_file() and path.suffix in _EXTRACTED_SUFFIXES:
            (dst / path.name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / path.name)


def test_every_marked_string_is_in_the_committed_catalogue(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``makemessages`` run on a copy of the sources with the committed catalogue: a string
    marked in the code but missing from ``django.po`` (a forgotten makemessages) comes back
    empty or fuzzy, and this fails naming it."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed; CI installs it")
    base = Path(django_settings.BASE_DIR)
    committed = base / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    _copy_sources(base, tmp_path)
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    shutil.copy2(committed, po)
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    monkeypatch.chdir(tmp_path)

    call_command(
        "makemessages", locale=["zh_Hans"], add_location="file", no_obsolete=True, verbosity=0
    )

    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(po)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(po)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    missing = [
        "".join(re.findall(r'^(?:msgid )?"(.*)"$', block.split("\nmsgstr")[0], re.M))
        for block in (untranslated + "\n\n" + fuzzy).split("\n\n")
        if re.search(r"^msgid ", block, re.M) and "Content-Type:" not in block
    ]
    assert not missing, (
        f"{len(missing)} marked string(s) missing from or untranslated in {committed}; run "
        f"makemessages (docs/console.md) and translate them: {missing[:20]}"
    )


def test_console_is_in_chinese_without_a_language_choice(
    chinese_default: None, client_a: Client
) -> None:
    html = client_a.get("/console/").content.decode()

    assert '<html lang="zh-hans"' in html
    for text in (
        "商家后台",
        "概况",
        "商品",
        "订单",
        "营销",
        "会员",
        "分销",
        "财务",
        "设置",
        "店铺设置",
    ):
        assert text in html, text
    assert "Merchant console" not in html


def test_browser_language_english(chinese_default: None, client_a: Client) -> None:
    html = client_a.get("/console/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "Merchant console" in html and "Products" in html
    assert "商家后台" not in html


def test_staff_member_saves_english_then_chinese_again(
    chinese_default: None, owner_a: Staff, client_a: Client
) -> None:
    page = client_a.get("/console/").content.decode()
    assert 'action="/console/language/"' in page  # the switch in the user menu

    response = client_a.post(
        "/console/language/", {"language": "en", "next": "/console/orders/order/"}
    )

    assert response.status_code == 302 and response["Location"] == "/console/orders/order/"
    owner_a.refresh_from_db()
    assert owner_a.language == "en"
    # The saved choice wins over the browser's language.
    client_a.cookies.pop(django_settings.LANGUAGE_COOKIE_NAME, None)
    html = client_a.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Merchant console" in html

    client_a.post("/console/language/", {"language": "zh-hans"})
    client_a.cookies.pop(django_settings.LANGUAGE_COOKIE_NAME, None)
    owner_a.refresh_from_db()
    assert owner_a.language == "zh-hans"
    assert "商家后台" in client_a.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_language_switch_refuses_an_unknown_language_and_foreign_redirects(
    owner_a: Staff, client_a: Client
) -> None:
    assert client_a.post("/console/language/", {"language": "fr"}).status_code == 400
    response = client_a.post(
        "/console/language/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/"


def test_console_403_page_and_role_labels_follow_the_language(
    chinese_default: None, shop_a: Tenant, make_staff: Callable[..., Staff]
) -> None:
    client = Client()
    client.force_login(make_staff(shop_a, Role.SERVICE).user)

    html = client.get("/console/").content.decode()

    assert "客服" in html  # the role's label in the header


@pytest.mark.parametrize(
    ("accept", "message"),
    [(None, "未找到。"), ("zh-CN,zh;q=0.9", "未找到。"), ("en-US,en;q=0.8", "Not found.")],
)
def test_api_404_message_follows_accept_language(
    chinese_default: None, channel: Any, accept: str | None, message: str
) -> None:
    client = shopper_client(channel.app_id)
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}

    body = client.get("/api/v1/no-such-endpoint", **headers).json()

    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"] == message


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("zh-Hans", "缺少 X-App-Id 请求头。"), ("en", "The X-App-Id header is required.")],
)
def test_api_middleware_error_follows_accept_language(
    chinese_default: None, db: Any, accept: str, expected: str
) -> None:
    body = Client().get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE=accept).json()

    assert body["error"] == {"code": "app_id_required", "message": expected, "details": {}}


@pytest.mark.parametrize(
    ("accept", "required"), [("zh-hans", "该字段是必填项。"), ("en", "This field is required.")]
)
def test_api_validation_error_follows_accept_language(
    chinese_default: None, channel: Any, accept: str, required: str
) -> None:
    client = shopper_client(channel.app_id)

    response = client.post("/api/v1/auth/refresh", {}, format="json", HTTP_ACCEPT_LANGUAGE=accept)

    body = response.json()
    assert response.status_code == 400
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["message"] == required
    assert body["error"]["details"]["refresh"] == [required]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1234.5"), "¥1,234.50"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-12"), "-¥12.00"),
        (Decimal("1234567.891"), "¥1,234,567.89"),
        (None, "-"),
    ],
)
def test_amounts_are_shown_in_yuan(amount: Decimal | None, text: str) -> None:
    assert format_yuan(amount) == text


def test_template_filters_show_yuan_and_the_tenant_time(db: Any) -> None:
    tenant = Tenant(name="x", slug="x", timezone="Asia/Shanghai")
    paid_at = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 next day in Shanghai

    rendered = Template("{% load console %}{{ a|yuan }} {{ t|tenant_datetime:tenant }}").render(
        Context({"a": Decimal("1234.5"), "t": paid_at, "tenant": tenant})
    )

    assert rendered == "¥1,234.50 2026-03-02 01:30"
    assert format_tenant_datetime(paid_at, "America/New_York") == "2026-03-01 12:30"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("zh-hans", "API 密钥无效或已吊销。"), ("en", "Invalid or revoked API key.")],
)
def test_open_api_key_error_follows_accept_language(
    chinese_default: None, db: Any, accept: str, expected: str
) -> None:
    body = (
        Client()
        .get(
            "/api/merchant/v1/products",
            HTTP_AUTHORIZATION="Bearer nope-nope",
            HTTP_ACCEPT_LANGUAGE=accept,
        )
        .json()
    )

    assert body["error"]["code"] == "authentication_failed"
    assert body["error"]["message"] == expected


@pytest.mark.parametrize(
    ("url", "chinese", "english"),
    [
        (
            "/console/catalog/product/",
            ["导入商品", "出售中", "已下架", "商品"],
            ["Import products", "On sale", "Off shelf", "Catalog"],
        ),
        (
            "/console/promotions/campaign/add/",
            ["满减", "秒杀", "包邮", "适用范围", "秒杀 SKU（价格、库存、每人限购）", "营销"],
            ["Full reduction", "Flash sale", "Free shipping", "Promotions", "Scope"],
        ),
        (
            "/console/",
            ["经营概况", "支付金额（GMV）", "今日新增会员", "会员总数", "库存预警 SKU"],
            ["Business overview", "Members in total", "New members today", "Low-stock SKUs"],
        ),
    ],
)
def test_console_pages_show_the_chinese_labels(
    chinese_default: None, client_a: Client, url: str, chinese: list[str], english: list[str]
) -> None:
    response = client_a.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    for text in chinese:
        assert text in html, text
    for text in english:
        assert f">{text}<" not in html and f">\n{text}" not in html, text


def test_unfold_interface_strings_are_chinese(
    chinese_default: None, shop_a: Tenant, client_a: Client
) -> None:
    """django-unfold ships no Chinese catalogue; its strings Django's admin catalogue does not
    cover are carried by ours (``mall/console/unfold_strings.py``): the theme switch, the empty
    list's "Reset filters", the actions' "Run"."""
    from django.utils import translation

    from mall.console.unfold_strings import UNFOLD_STRINGS

    with translation.override("zh-hans"):
        untranslated = [s for s in UNFOLD_STRINGS if translation.gettext(s) == s]
    assert untranslated == []

    from tests.catalog.factories import ProductFactory

    ProductFactory(tenant=shop_a, title="Tea cup")
    page = client_a.get("/console/catalog/product/?q=nothing-matches-this").content.decode()
    for chinese in ("深色", "浅色", "跟随系统", "重置筛选", "没有找到结果"):
        assert chinese in page, chinese
    for english in ("Dark", "Light", "System", "Reset filters", "No results found"):
        assert re.search(rf">\s*{english}\s*<", page) is None, english
    products = client_a.get("/console/catalog/product/").content.decode()
    assert re.search(r">\s*执行\s*<", products) and not re.search(r">\s*Run\s*<", products)
