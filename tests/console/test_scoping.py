"""Tenant scoping of the console: lists, object pages, choices, autocomplete, saving."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Category
from mall.console.introspection import (
    console_changelist_url,
    console_object_urls,
    console_tenant_owned_models,
    console_url_names,
)
from mall.tenancy.models import ApiKey, Staff, StaffInvitation, Tenant
from members.models import Address, Member
from tests.catalog.factories import CategoryFactory
from tests.mall.factories import ChannelFactory, StaffFactory, UserFactory
from tests.members.factories import AddressFactory, MemberFactory

MARKER = "bravo-private-marker"

# One object of a tenant for every tenant-owned model this module registers in the console.
OBJECT_MAKERS: dict[str, Callable[[Tenant], Any]] = {
    "mall.Channel": lambda t: ChannelFactory(tenant=t, name=MARKER),
    "mall.Staff": lambda t: StaffFactory(
        tenant=t, role=Staff.Role.OPERATOR, user=UserFactory(username=f"{MARKER}@example.com")
    ),
    "mall.ApiKey": lambda t: ApiKey.objects.create(
        tenant=t, name=MARKER, prefix="abcd1234", key_hash="f" * 64, scopes=["catalog"]
    ),
    "mall.StaffInvitation": lambda t: StaffInvitation.objects.create(
        tenant=t,
        email=f"{MARKER}@example.com",
        role=Staff.Role.OPERATOR,
        token_hash=f"{t.pk:064d}",
        expires_at=timezone.now() + timedelta(days=7),
    ),
    "members.Member": lambda t: MemberFactory(tenant=t, nickname=MARKER),
    "members.Address": lambda t: AddressFactory(member=MemberFactory(tenant=t), name=MARKER),
    "catalog.Category": lambda t: CategoryFactory(tenant=t, name=MARKER),
}


def test_the_console_registers_the_tenancy_members_and_catalog_models() -> None:
    labels = {m._meta.label for m in console_tenant_owned_models()}
    assert set(OBJECT_MAKERS) <= labels
    names = console_url_names()
    for expected in (
        "console:index",
        "console:tenant_switch",
        "console:tenant_settings",
        "console:members_member_change",
        "console:catalog_category_changelist",
    ):
        assert expected in names
    assert "console:view_on_site" not in names


@pytest.mark.parametrize("label", sorted(OBJECT_MAKERS))
def test_another_tenants_object_pages_answer_404(
    label: str, shop_b: Tenant, client_a: Client
) -> None:
    obj = OBJECT_MAKERS[label](shop_b)
    model = type(obj)

    for view, url in console_object_urls(obj).items():
        response = client_a.get(url)
        assert response.status_code == 404, (label, view, response.status_code)
        assert MARKER not in response.content.decode()
    response = client_a.post(console_object_urls(obj)["delete"], {"post": "yes"})
    assert response.status_code == 404
    assert model._default_manager.filter(pk=obj.pk).exists()
    response = client_a.post(console_object_urls(obj)["change"], {"name": "hijacked"})
    assert response.status_code == 404
    changelist = client_a.get(console_changelist_url(model))
    assert changelist.status_code == 200
    assert MARKER not in changelist.content.decode()


@pytest.mark.parametrize("object_id", ["999999", "not-a-number"])
def test_missing_object_answers_404_not_a_redirect(client_a: Client, object_id: str) -> None:
    response = client_a.get(f"/console/members/member/{object_id}/change/")

    assert response.status_code == 404


def test_view_on_site_shortcut_is_not_served(shop_b: Tenant, client_a: Client) -> None:
    from django.contrib.contenttypes.models import ContentType

    member = MemberFactory(tenant=shop_b)
    ct = ContentType.objects.get_for_model(Member)

    assert client_a.get(f"/console/r/{ct.pk}/{member.pk}/").status_code == 404


def test_changelists_show_only_own_members_and_categories(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    MemberFactory(tenant=shop_a, nickname="alpha-member")
    MemberFactory(tenant=shop_b, nickname="bravo-member")
    CategoryFactory(tenant=shop_a, name="Alpha Teas")
    CategoryFactory(tenant=shop_b, name="Bravo Breads")

    members = client_a.get("/console/members/member/").content.decode()
    categories = client_a.get("/console/catalog/category/").content.decode()
    # Filtering by another tenant through the query string does not widen the scope.
    filtered = client_a.get(f"/console/members/member/?tenant__id__exact={shop_b.pk}")

    assert "alpha-member" in members and "bravo-member" not in members
    assert "Alpha Teas" in categories and "Bravo Breads" not in categories
    assert "bravo-member" not in filtered.content.decode()


def test_category_parent_choices_are_own_categories_and_a_foreign_parent_is_refused(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    own = CategoryFactory(tenant=shop_a, name="Alpha Teas")
    foreign = CategoryFactory(tenant=shop_b, name="Bravo Breads")

    form = client_a.get("/console/catalog/category/add/")
    parent_choices = [str(c.pk) for c in form.context["adminform"].form.fields["parent"].queryset]
    response = client_a.post(
        "/console/catalog/category/add/",
        {"parent": foreign.pk, "name": "Sneaky", "sort_order": 0, "is_visible": "on"},
    )

    assert parent_choices == [str(own.pk)]
    assert "Bravo Breads" not in form.content.decode()
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Category.objects.filter(name="Sneaky").exists()


def test_saving_sets_the_staff_members_tenant_whatever_the_body_says(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    parent = CategoryFactory(tenant=shop_a, name="Alpha Teas")

    response = client_a.post(
        "/console/catalog/category/add/",
        {
            "parent": parent.pk,
            "name": "Green tea",
            "sort_order": 1,
            "is_visible": "on",
            "tenant": shop_b.pk,
        },
    )

    assert response.status_code == 302
    created = Category.objects.get(name="Green tea")
    assert created.tenant_id == shop_a.pk
    assert created.parent_id == parent.pk


def test_unique_constraints_with_tenant_are_form_errors_not_500(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    parent = CategoryFactory(tenant=shop_a, name="Alpha Teas")
    CategoryFactory(tenant=shop_a, parent=parent, name="Oolong")

    response = client_a.post(
        "/console/catalog/category/add/",
        {"parent": parent.pk, "name": "Oolong", "sort_order": 0, "is_visible": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Category.objects.filter(tenant=shop_a, name="Oolong").count() == 1


def test_address_member_choices_and_autocomplete_are_scoped(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    own = MemberFactory(tenant=shop_a, nickname="alpha-zhang")
    foreign = MemberFactory(tenant=shop_b, nickname="bravo-zhang")

    auto = client_a.get(
        "/console/autocomplete/",
        {"app_label": "members", "model_name": "address", "field_name": "member", "term": "zhang"},
    )
    ids = [row["id"] for row in json.loads(auto.content)["results"]]
    response = client_a.post(
        "/console/members/address/add/",
        {
            "member": foreign.pk,
            "name": "Li Si",
            "phone": "13900139000",
            "province": "Guangdong",
            "city": "Shenzhen",
            "detail": "2 Keji Road",
        },
    )

    assert auto.status_code == 200
    assert ids == [str(own.pk)]
    assert response.status_code == 200
    assert "member" in response.context["adminform"].form.errors
    assert not Address.objects.filter(member=foreign).exists()


def test_address_added_from_console_goes_through_the_rules(
    shop_a: Tenant, client_a: Client
) -> None:
    member = MemberFactory(tenant=shop_a)
    first = AddressFactory(member=member, is_default=True)
    data = {
        "member": member.pk,
        "name": "Li Si",
        "phone": "13900139000",
        "province": "Guangdong",
        "city": "Shenzhen",
        "detail": "2 Keji Road",
        "is_default": "on",
    }

    response = client_a.post("/console/members/address/add/", data)

    assert response.status_code == 302
    created = Address.objects.get(name="Li Si")
    assert created.tenant_id == shop_a.pk and created.is_default
    first.refresh_from_db()
    assert first.is_default is False  # the single default moved


def test_member_inline_address_is_saved_with_the_tenant(shop_a: Tenant, client_a: Client) -> None:
    member = MemberFactory(tenant=shop_a, nickname="alpha-wang")
    page = client_a.get(f"/console/members/member/{member.pk}/change/")
    assert page.status_code == 200
    data = {
        "nickname": "alpha-wang-2",
        "gender": "unknown",
        "is_active": "on",
        "identities-TOTAL_FORMS": "0",
        "identities-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-name": "Wang Wu",
        "addresses-0-phone": "13700137000",
        "addresses-0-province": "Zhejiang",
        "addresses-0-city": "Hangzhou",
        "addresses-0-detail": "3 West Lake Road",
        "addresses-0-is_default": "on",
    }

    response = client_a.post(f"/console/members/member/{member.pk}/change/", data)

    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"][1].formset.forms
    ]
    member.refresh_from_db()
    assert member.nickname == "alpha-wang-2"
    address = Address.objects.get(member=member)
    assert address.tenant_id == shop_a.pk and address.is_default


def test_list_filter_on_member_offers_only_own_members(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    from members.admin import AddressConsoleAdmin

    AddressConsoleAdmin.list_filter = ("is_default", "member")
    try:
        MemberFactory(tenant=shop_a, nickname="alpha-filter")
        MemberFactory(tenant=shop_a, nickname="alpha-filter-2")
        MemberFactory(tenant=shop_b, nickname="bravo-filter")
        html = client_a.get("/console/members/address/").content.decode()
    finally:
        AddressConsoleAdmin.list_filter = ("is_default",)

    assert "alpha-filter" in html
    assert "bravo-filter" not in html


@pytest.mark.parametrize("widget", ["autocomplete", "raw_id"])
def test_prefilled_foreign_member_is_not_rendered_on_the_add_form(
    widget: str, shop_b: Tenant, client_a: Client
) -> None:
    from members.admin import AddressConsoleAdmin

    foreign = MemberFactory(tenant=shop_b, nickname=MARKER)
    if widget == "raw_id":
        AddressConsoleAdmin.autocomplete_fields = ()
        AddressConsoleAdmin.raw_id_fields = ("member",)
    try:
        response = client_a.get(f"/console/members/address/add/?member={foreign.pk}")
    finally:
        AddressConsoleAdmin.autocomplete_fields = ("member",)
        AddressConsoleAdmin.raw_id_fields = ()

    assert response.status_code == 200
    assert MARKER not in response.content.decode()
