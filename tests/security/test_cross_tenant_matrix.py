"""Cross-tenant matrix: tenant B's member, API key and staff get 404 on tenant A's objects.

Every route of the shopper API, the open API and the console is classified in ``ROUTES`` (or,
for console model pages, generated from the console's registry); every tenant-owned model has a
factory in ``MODEL_FACTORIES``. A new route or model that is not covered fails this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from mall.console.site import console_site
from mall.tenancy.models import ApiKey, Tenant
from mall.tenancy.scoping import tenant_owned_models
from mall.tenancy.services import api_key_create
from tests.security import factories as f
from tests.security.matrix import (
    MARKER,
    SURFACES,
    ListRoute,
    MemberOnly,
    ObjectRoute,
    Public,
    fill_route,
    walk_routes,
)

# --- Tenant-owned models: how to make one of tenant A's (marked with MARKER where possible)
MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = f.MODEL_FACTORIES

# Tenant-owned models deliberately absent from the console, and why.
NOT_IN_CONSOLE: dict[str, str] = {
    "mall.IdempotencyRecord": "internal replay cache of POST answers; never shown to anyone",
    "mall.OutboxEvent": "internal outbox; delivered by the webhooks issue, visible through it",
    "members.MemberMerge": "audit rows; shown read-only on the member page, not a model page",
    "members.MemberIdentity": "shown as a read-only inline of Member",
    "catalog.SpecName": "edited through the product editor's spec fields (Product page)",
    "catalog.SpecValue": "edited through the product editor's spec fields (Product page)",
    "catalog.ProductImage": "uploaded and listed on the Product page",
    "catalog.FreightRule": "edited as an inline of FreightTemplate",
    "promotions.CampaignDisplay": "edited as an inline of Campaign",
    "promotions.FlashSaleSku": "edited as an inline of Campaign",
}
NOT_IN_CONSOLE.update(f.NOT_IN_CONSOLE)

# --- Routes of the three surfaces ---------------------------------------------------------------
ROUTES: dict[str, Any] = {
    # shopper API
    "api/v1/categories": ListRoute("catalog.Category"),
    "api/v1/auth/wechat/login": Public("login: the tenant is the X-App-Id's, no object addressed"),
    "api/v1/auth/alipay/login": Public("login: the tenant is the X-App-Id's, no object addressed"),
    "api/v1/auth/refresh": Public(
        "token refresh; a foreign tenant's token is refused in tests/members"
    ),
    "api/v1/me": MemberOnly(methods=("get", "patch")),
    "api/v1/me/phone": MemberOnly(methods=("post",)),
    "api/v1/me/addresses": ListRoute("members.Address"),
    "api/v1/me/addresses/<int:pk>": ObjectRoute(
        "members.Address", methods=("get", "patch", "delete"), body={"name": "x"}
    ),
    "api/v1/products": ListRoute("catalog.Product"),
    "api/v1/products/<int:product_id>": ObjectRoute("catalog.Product"),
    "api/v1/checkout/quote": ObjectRoute(
        "catalog.Sku",
        methods=("post",),
        body=lambda sku, _m: {
            "lines": [{"sku_id": sku.pk, "quantity": 1}],
            "fulfillment": "express",
        },
    ),
    "api/v1/campaigns": ListRoute("promotions.Campaign"),
    "api/v1/coupons": ListRoute("promotions.CouponTemplate"),
    "api/v1/coupons/<int:template_id>/claim": ObjectRoute(
        "promotions.CouponTemplate", methods=("post",)
    ),
    "api/v1/me/coupons": ListRoute("promotions.Coupon"),
    # merchant open API
    "api/merchant/v1/products": ListRoute("catalog.Product"),
    "api/merchant/v1/products/<int:product_id>": ObjectRoute(
        "catalog.Product", methods=("get", "patch"), body={"title": "x"}
    ),
    "api/merchant/v1/products/<int:product_id>/images": ObjectRoute(
        "catalog.Product", methods=("post",)
    ),
    "api/merchant/v1/skus/<int:sku_id>/stock": ObjectRoute(
        "catalog.Sku",
        methods=("put", "post"),
        body=lambda _s, m: {"stock": 5} if m == "put" else {"delta": 1, "reason": "x"},
    ),
    "api/merchant/v1/members": ListRoute("members.Member"),
    "api/merchant/v1/members/<int:pk>": ObjectRoute("members.Member"),
    # console pages that are not per-model
    "console/": Public("dashboard of the staff member's own tenant (checked in tests/console)"),
    "console/login/": Public("login form"),
    "console/logout/": Public("logout"),
    "console/password_change/": Public("the user's own password"),
    "console/password_change/done/": Public("the user's own password"),
    "console/jsi18n/": Public("static translations"),
    "console/switch-tenant/": Public("POST; own memberships only, else 404 (tests/console)"),
    "console/settings/": Public("the staff member's own shop settings (tests/console)"),
    "console/invitation/<str:token>/": Public(
        "staff invitation accept page: found by its secret token only (tests/console)"
    ),
    "console/language/": Public("POST; the user's own language choice (tests/console/test_i18n)"),
    "console/(?P<url>.*)$": Public("catch-all redirecting to login or 404"),
}
ROUTES.update(f.ROUTES)


@dataclass
class World:
    tenant_a: Tenant
    tenant_b: Tenant
    shopper_b: APIClient
    merchant_b: APIClient
    console_b: Client


@pytest.fixture
def world(db: Any) -> World:
    a = f.make_tenant("a")
    b = f.make_tenant("b")
    channel_b = f.make_channel(b)
    member_b = f.make_member(b, nickname="tenant-b member")
    f.make_distributor_account(b, member_b)
    refresh = RefreshToken()
    refresh["tenant_id"] = b.pk
    refresh["member_id"] = member_b.pk
    shopper_b = APIClient()
    shopper_b.credentials(
        HTTP_X_APP_ID=channel_b.app_id, HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}"
    )
    _, raw_key = api_key_create(tenant=b, scopes=list(ApiKey.Scope.values))
    merchant_b = APIClient()
    merchant_b.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    console_b = Client()
    console_b.force_login(f.make_owner(b).user)
    return World(a, b, shopper_b, merchant_b, console_b)


def _surface(route: str) -> str | None:
    for name, prefix in SURFACES.items():
        if route.startswith(prefix):
            return name
    return None


def _client(world: World, surface: str) -> Any:
    return {"shopper": world.shopper_b, "merchant": world.merchant_b, "console": world.console_b}[
        surface
    ]


def _console_model_routes() -> dict[str, str]:
    """Route string -> model label for every page generated by a console registration."""
    routes: dict[str, str] = {}
    for model in console_site._registry:
        for route, _pattern in walk_routes(
            console_site._registry[model].urls,
            f"console/{model._meta.app_label}/{model._meta.model_name}/",
        ):
            routes[route] = model._meta.label
        routes[f"console/^(?P<app_label>{model._meta.app_label})/$"] = "app_list"
    return routes


def _all_surface_routes() -> list[str]:
    return [r for r, _ in walk_routes() if _surface(r) is not None]


def test_every_route_is_classified() -> None:
    console_model_routes = _console_model_routes()
    generic_console = {
        "console/autocomplete/",
        "console/r/<path:content_type_id>/<path:object_id>/",
    }
    unclassified = [
        route
        for route in _all_surface_routes()
        if route not in ROUTES
        and route not in console_model_routes
        and route not in generic_console
        and not route.startswith("console/^(?P<app_label>")
    ]
    assert unclassified == [], f"add these routes to the cross-tenant matrix: {unclassified}"


def test_every_tenant_owned_model_is_covered() -> None:
    labels = {m._meta.label for m in tenant_owned_models()}
    missing_factory = sorted(labels - set(MODEL_FACTORIES))
    assert missing_factory == [], f"add factories to tests/security/factories.py: {missing_factory}"
    in_console = {m._meta.label for m in console_site._registry}
    not_exposed = sorted(labels - in_console - set(NOT_IN_CONSOLE))
    assert not_exposed == [], f"register in the console or explain in NOT_IN_CONSOLE: {not_exposed}"
    console_unscoped = sorted(
        m._meta.label
        for m in console_site._registry
        if m._meta.label not in labels and m._meta.label not in f.CONSOLE_GLOBAL_MODELS
    )
    assert console_unscoped == [], f"console models without a tenant: {console_unscoped}"


def test_every_tenant_owned_model_has_the_scoped_manager() -> None:
    for model in tenant_owned_models():
        assert hasattr(model._default_manager, "for_tenant"), model._meta.label


def _object_cases() -> list[tuple[str, Any]]:
    return [(route, case) for route, case in ROUTES.items() if isinstance(case, ObjectRoute)]


def _list_cases() -> list[tuple[str, Any]]:
    return [(route, case) for route, case in ROUTES.items() if isinstance(case, ListRoute)]


def _member_cases() -> list[tuple[str, Any]]:
    return [(route, case) for route, case in ROUTES.items() if isinstance(case, MemberOnly)]


def _request(client: Any, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    call = getattr(client, method)
    if method in ("post", "put", "patch"):
        return (
            call(url, body or {}, format="json")
            if isinstance(client, APIClient)
            else call(url, body or {})
        )
    return call(url)


@pytest.mark.parametrize(("route", "case"), _object_cases(), ids=lambda v: str(v)[:60])
def test_object_routes_answer_404_to_another_tenant(world: World, route: str, case: Any) -> None:
    obj = MODEL_FACTORIES[case.model](world.tenant_a)
    value = case.lookup(obj) if case.lookup else obj.pk
    url = fill_route(route, value) + (case.query(obj) if case.query else "")
    client = _client(world, _surface(route) or "")
    for method in case.methods:
        body = case.body(obj, method) if callable(case.body) else case.body
        response = _request(client, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code, response.content)
        assert MARKER not in response.content.decode(errors="replace")
        if _surface(route) != "console":
            error = response.json()["error"]
            assert isinstance(error["code"], str) and error["code"], error


@pytest.mark.parametrize(("route", "case"), _list_cases(), ids=lambda v: str(v)[:60])
def test_lists_never_show_another_tenants_objects(world: World, route: str, case: Any) -> None:
    MODEL_FACTORIES[case.model](world.tenant_a)
    client = _client(world, _surface(route) or "")
    response = client.get(fill_route(route, "") + case.query)
    assert response.status_code == 200, response.content
    assert MARKER not in response.content.decode(errors="replace")


@pytest.mark.parametrize(("route", "case"), _member_cases(), ids=lambda v: str(v)[:60])
def test_member_routes_show_only_the_callers_member(world: World, route: str, case: Any) -> None:
    MODEL_FACTORIES[case.model](world.tenant_a)
    for method in case.methods:
        response = _request(world.shopper_b, method, fill_route(route, ""))
        assert response.status_code < 500
        assert MARKER not in response.content.decode(errors="replace")


def _console_registered_tenant_models() -> list[str]:
    labels = {m._meta.label for m in tenant_owned_models()}
    return sorted(m._meta.label for m in console_site._registry if m._meta.label in labels)


@pytest.mark.parametrize("label", _console_registered_tenant_models())
def test_console_model_pages_hide_another_tenants_objects(world: World, label: str) -> None:
    obj = MODEL_FACTORIES[label](world.tenant_a)
    app_label, model_name = obj._meta.app_label, obj._meta.model_name
    base = f"/console/{app_label}/{model_name}/"
    for suffix in ("change/", "delete/", "history/"):
        response = world.console_b.get(f"{base}{obj.pk}/{suffix}")
        assert response.status_code == 404, (label, suffix, response.status_code)
    response = world.console_b.post(f"{base}{obj.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404
    assert type(obj)._default_manager.filter(pk=obj.pk).exists()
    changelist = world.console_b.get(base)
    assert changelist.status_code in (200, 403)
    assert MARKER not in changelist.content.decode()


@pytest.mark.parametrize("label", _console_registered_tenant_models())
def test_console_view_on_site_does_not_leak(world: World, label: str) -> None:
    obj = MODEL_FACTORIES[label](world.tenant_a)
    ct = ContentType.objects.get_for_model(obj)
    response = world.console_b.get(f"/console/r/{ct.pk}/{obj.pk}/")
    assert response.status_code == 404


def test_platform_admin_is_closed_to_merchant_staff(world: World) -> None:
    response = world.console_b.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
