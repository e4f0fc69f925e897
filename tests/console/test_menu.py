"""The left menu: grouped entries, shown only to roles whose pages answer 200, and every
console page a role may not use answers 403."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client, RequestFactory
from django.urls import URLPattern

from mall.console.menu import MENU, entry_link, entry_permission, role_matrix_markdown
from mall.console.site import console_site
from mall.tenancy.models import Staff, Tenant

Role = Staff.Role
ROLES = list(Role.values)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "console.md"


def _request_as(role: str, path: str = "/console/") -> object:
    request = RequestFactory().get(path)
    request.staff = Staff(role=role)  # type: ignore[attr-defined]
    return request


def _menu_entries() -> list[tuple[str, str, object]]:
    return [
        (str(group.title), link, entry)
        for group in MENU
        for entry in group.entries
        if (link := entry_link(entry)) is not None
    ]


def _argless_model_urls() -> list[tuple[type, str]]:
    """Every console model page without an object id: changelist, add, custom list views."""
    urls = []
    for model, model_admin in console_site._registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            route = str(pattern.pattern)
            if not isinstance(pattern, URLPattern) or "<" in route or "(?P" in route:
                continue
            urls.append((model, f"/console/{opts.app_label}/{opts.model_name}/{route}"))
    return urls


def test_the_menu_is_grouped_the_way_merchants_think() -> None:
    keys = [g.key for g in MENU]

    assert keys == [
        "overview",
        "products",
        "orders",
        "marketing",
        "members",
        "distribution",
        "finance",
        "settings",
    ]


def test_every_registered_console_page_is_in_the_menu() -> None:
    in_menu = {e.model for g in MENU for e in g.entries if e.model}

    registered = {m._meta.label for m in console_site._registry}

    assert registered - in_menu == set()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_the_entries_it_may_open(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))
    html = client.get("/console/").content.decode()

    for _group, link, entry in _menu_entries():
        allowed = entry_permission(entry)(_request_as(role, link))
        response = client.get(link)
        if allowed:
            assert f'href="{link}"' in html, (role, link)
            assert response.status_code == 200, (role, link)
        else:
            assert f'href="{link}"' not in html, (role, link)
            assert response.status_code == 403, (role, link)


# Add pages that lead to another model's add page instead of a form of their own.
ADD_LEADS_TO = {"mall.Staff": "mall.StaffInvitation"}


@pytest.mark.parametrize("role", ROLES)
def test_pages_of_models_a_role_may_not_view_answer_403(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))
    checked = 0

    for model, url in _argless_model_urls():
        model_admin = console_site._registry[model]
        request = _request_as(role, url)
        status = client.get(url).status_code
        if not model_admin.has_view_permission(request):
            assert status == 403, (role, url, status)
            checked += 1
        elif url.endswith("/add/") and model._meta.label in ADD_LEADS_TO:
            # "Add staff" leads to the invitation form, for those who may invite.
            target = console_site._registry[apps.get_model(ADD_LEADS_TO[model._meta.label])]
            assert status == (302 if target.has_add_permission(request) else 403), (role, url)
        elif url.endswith("/add/"):
            assert status == (200 if model_admin.has_add_permission(request) else 403), (role, url)
        elif url.count("/") == 4:  # the changelist
            assert status == 200, (role, url)
    for label in {m._meta.app_label for m in console_site._registry}:
        visible = any(
            a.has_view_permission(_request_as(role))
            for m, a in console_site._registry.items()
            if m._meta.app_label == label
        )
        assert client.get(f"/console/{label}/").status_code == (200 if visible else 403), label
    assert checked > 0 or role in (Role.OWNER,)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.OWNER, 200),
        (Role.ADMIN, 200),
        (Role.OPERATOR, 403),
        (Role.FINANCE, 403),
        (Role.SERVICE, 403),
    ],
)
def test_custom_console_views_follow_the_role(
    role: str,
    expected: int,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))

    assert client.get("/console/settings/").status_code == expected
    assert client.get("/console/switch-tenant/").status_code == 405  # POST only, every role


def test_service_staff_menu_has_no_finance_or_settings(
    shop_a: Tenant, make_staff: Callable[..., Staff], console_client: Callable[[Staff], Client]
) -> None:
    html = console_client(make_staff(shop_a, Role.SERVICE)).get("/console/").content.decode()

    assert "/console/orders/aftersale/" in html and "/console/members/member/" in html
    for hidden in ("/console/payments/payment/", "/console/mall/staff/", "/console/settings/"):
        assert hidden not in html


def test_docs_hold_the_current_role_matrix() -> None:
    assert role_matrix_markdown() in DOCS.read_text(encoding="utf-8")
