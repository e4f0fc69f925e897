"""The console runs on django-unfold: staff see their pages, section links work, no CDN."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mall.console.site import console_site
from mall.tenancy.models import Staff, Tenant

Role = Staff.Role
NO_PERMISSION = "permission to view or edit anything"


@pytest.mark.parametrize("role", list(Role.values))
def test_every_role_sees_its_pages_not_the_no_permission_notice(
    role: str,
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    client = console_client(make_staff(shop_a, role))

    page = client.get("/console/")

    assert page.status_code == 200
    html = page.content.decode()
    assert NO_PERMISSION not in html
    assert "/console/orders/order/" in html  # every role may look at orders


def test_section_links_open_for_the_owner(client_a: Client) -> None:
    app_labels = sorted({m._meta.app_label for m in console_site._registry})

    for label in app_labels:
        response = client_a.get(f"/console/{label}/")
        assert response.status_code == 200, label
        assert NO_PERMISSION not in response.content.decode()


def test_a_section_without_a_page_for_the_role_is_forbidden(
    shop_a: Tenant, make_staff: Callable[..., Staff], console_client: Callable[[Staff], Client]
) -> None:
    client = console_client(make_staff(shop_a, Role.SERVICE))

    assert client.get("/console/payments/").status_code == 403
    assert client.get("/console/catalog/").status_code == 200


def test_console_pages_load_nothing_from_another_host(client_a: Client) -> None:
    html = client_a.get("/console/orders/order/").content.decode()

    assert "unfold/css/styles.css" in html  # the unfold theme
    external = re.findall(r"""(?:src|href)=["']((?:https?:)?//[^"']+)""", html)
    assert external == []


def test_platform_admin_still_works(db: Any) -> None:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(user)

    for url in ("/admin/", "/admin/mall/tenant/", "/admin/mall/tenant/add/", "/admin/mall/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "unfold/css/styles.css" in response.content.decode()


def test_logging_in_on_the_login_page_lands_on_the_console(owner_a: Staff) -> None:
    # unfold's login template has no "next" field: without one Django sent the user to
    # /accounts/profile/ (a 404).
    response = Client().post(
        "/console/login/", {"username": owner_a.user.username, "password": "pass-word-123"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_dashboard_panels_use_only_classes_unfold_styles_and_no_admin_module_boxes() -> None:
    """The dashboard's panels are drawn with unfold's tailwind classes; unfold ships a compiled
    stylesheet, so a class it does not contain styles nothing (the shop, today and channels
    blocks had lost their look that way, as stock admin ``module`` boxes)."""
    from pathlib import Path

    import unfold
    from django.conf import settings

    stylesheet = (
        Path(unfold.__file__).parent / "static" / "unfold" / "css" / "styles.css"
    ).read_text()
    ours = "".join(
        (Path(settings.BASE_DIR) / "static" / "console" / name).read_text()
        for name in ("dashboard.css", "console.css")
    )
    template = (Path(settings.BASE_DIR) / "templates" / "console" / "index.html").read_text()
    html = re.sub(r"{%.*?%}|{{.*?}}", " ", template, flags=re.S)
    classes = {c for attr in re.findall(r'class="([^"]*)"', html) for c in attr.split()}

    def styled(name: str) -> bool:
        css_name = re.sub(r"([:/.\[\]])", lambda m: "\\" + m.group(1), name)
        selector = re.compile(r"\." + re.escape(css_name) + r"[\s,{:>+~.\[]")
        return bool(selector.search(stylesheet) or selector.search(ours))

    assert "module" not in classes
    # Hooks for tests and scripts, not for looks; "kpi-{{ key }}" leaves "kpi-" here.
    hooks = {"console-dashboard", "console-overview", "dashboard-panel", "dashboard-lower"}
    hooks |= {"dashboard-chart", "kpi-change-none", "help"}
    hooks |= {c for c in classes if c.endswith("-")}
    assert [c for c in sorted(classes - hooks) if not styled(c)] == []
