"""Distributor centre API: apply, bind, me, team, commissions, withdrawals, poster."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from distribution.models import Binding, Distributor, LedgerEntry
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_settle_due,
)
from tests.catalog.factories import ProductFactory
from tests.conftest import shopper_client
from tests.distribution import factories as f
from tests.members.factories import MemberFactory, access_token_for

pytestmark = pytest.mark.django_db


def client_for(channel: Any, member: Any) -> Any:
    return shopper_client(channel.app_id, access_token_for(member))


def test_apply_with_approval_waits_then_console_approves(
    tenant: Any, channel: Any, config: Any, gold: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    answer = client_for(channel, member).post("/api/v1/distribution/apply", {}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == "pending"
    again = client_for(channel, member).post("/api/v1/distribution/apply", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_distributor"


def test_apply_refused_when_disabled_or_invitation_only(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    api = client_for(channel, member)
    assert (
        api.post("/api/v1/distribution/apply", {}, format="json").json()["error"]["code"]
        == "distribution_disabled"
    )
    f.enable(tenant, recruitment="invitation")
    answer = api.post("/api/v1/distribution/apply", {}, format="json")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invitation_required"


def test_apply_by_invitation_sets_parent_and_chain(tenant: Any, channel: Any, chain: dict) -> None:
    f.enable(tenant, recruitment="invitation")
    member = MemberFactory(tenant=tenant)
    answer = client_for(channel, member).post(
        "/api/v1/distribution/apply", {"invite_code": chain["d"].share_code}, format="json"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "approved" and body["parent_share_code"] == chain["d"].share_code
    new = Distributor.objects.get(pk=body["id"])
    assert (new.parent_id, new.ancestor2_id, new.ancestor3_id) == (
        chain["d"].pk,
        chain["c"].pk,
        chain["b"].pk,
    )
    assert new.path == f"{chain['d'].path}{new.pk}/"


def test_bind_first_touch_keeps_owner_last_touch_moves(
    tenant: Any, channel: Any, chain: dict
) -> None:
    customer = MemberFactory(tenant=tenant)
    api = client_for(channel, customer)
    first = api.post("/api/v1/distribution/bind", {"code": chain["c"].share_code}, format="json")
    assert first.status_code == 200 and first.json()["changed"] is True
    second = api.post("/api/v1/distribution/bind", {"code": chain["d"].share_code}, format="json")
    assert second.json()["changed"] is False
    assert second.json()["distributor_share_code"] == chain["c"].share_code
    f.enable(tenant, binding_mode="last_touch")
    third = api.post("/api/v1/distribution/bind", {"code": chain["d"].share_code}, format="json")
    assert third.json()["changed"] is True
    history = Binding.objects.filter(customer=customer).order_by("pk")
    assert [(b.distributor_id, b.is_current) for b in history] == [
        (chain["c"].pk, False),
        (chain["d"].pk, True),
    ]


def test_bind_refuses_self_cycle_and_unknown_code(tenant: Any, channel: Any, chain: dict) -> None:
    api = client_for(channel, chain["b"].member)
    own = api.post("/api/v1/distribution/bind", {"code": chain["b"].share_code}, format="json")
    assert own.status_code == 422 and own.json()["error"]["code"] == "self_binding"
    down = api.post("/api/v1/distribution/bind", {"code": chain["d"].share_code}, format="json")
    assert down.status_code == 422 and down.json()["error"]["code"] == "binding_cycle"
    unknown = api.post("/api/v1/distribution/bind", {"code": "NOPE2345"}, format="json")
    assert unknown.status_code == 404


def test_another_tenants_code_is_unknown(
    tenant: Any, other_tenant: Any, other_channel: Any, chain: dict
) -> None:
    f.enable(other_tenant)
    stranger = MemberFactory(tenant=other_tenant)
    answer = client_for(other_channel, stranger).post(
        "/api/v1/distribution/bind", {"code": chain["d"].share_code}, format="json"
    )
    assert answer.status_code == 404


def _settled(tenant: Any, chain: dict, payable: str = "100.00") -> None:
    order = f.paid_order(
        tenant,
        chain["buyer"],
        [{"payable": payable, "title": "Tea"}],
        distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
    )
    commissions_create_for_order(order_id=order.pk)
    f.complete(order)
    commissions_settle_due()


def test_me_team_and_commissions(tenant: Any, channel: Any, chain: dict) -> None:
    _settled(tenant, chain)
    api = client_for(channel, chain["b"].member)
    me = api.get("/api/v1/distribution/me").json()
    assert me["balance"] == "2.00" and me["team_size"] == 2 and me["direct_size"] == 1
    team = api.get("/api/v1/distribution/team").json()
    assert team["count"] == 2
    assert sorted(x["level"] for x in team["results"]) == [1, 2]
    rows = api.get("/api/v1/distribution/commissions?status=settled").json()
    assert rows["count"] == 1
    assert rows["results"][0]["amount"] == "2.00" and rows["results"][0]["tier"] == 3
    outsider = client_for(channel, MemberFactory(tenant=tenant))
    assert outsider.get("/api/v1/distribution/me").status_code == 404


def test_withdrawal_is_idempotent_and_limited(tenant: Any, channel: Any, chain: dict) -> None:
    f.enable(
        tenant,
        withdrawal_min_amount=Decimal("2.00"),
        withdrawal_fee_rate=Decimal("0.006"),
        withdrawal_daily_limit=Decimal("8.00"),
    )
    _settled(tenant, chain)  # d: 10.00
    api = client_for(channel, chain["d"].member)
    headers = {"HTTP_IDEMPOTENCY_KEY": "w-1"}
    first = api.post(
        "/api/v1/distribution/withdrawals", {"amount": "5.00"}, format="json", **headers
    )
    assert first.status_code == 201, first.content
    assert first.json()["fee"] == "0.03" and first.json()["net_amount"] == "4.97"
    replay = api.post(
        "/api/v1/distribution/withdrawals", {"amount": "5.00"}, format="json", **headers
    )
    assert replay.json()["id"] == first.json()["id"]
    assert LedgerEntry.objects.filter(kind="withdraw").count() == 1
    small = api.post("/api/v1/distribution/withdrawals", {"amount": "1.00"}, format="json")
    assert small.json()["error"]["code"] == "withdrawal_below_minimum"
    over = api.post("/api/v1/distribution/withdrawals", {"amount": "4.00"}, format="json")
    assert over.json()["error"]["code"] == "withdrawal_daily_limit"
    bad = api.post("/api/v1/distribution/withdrawals", {"amount": "abc"}, format="json")
    assert bad.status_code == 400
    assert api.get("/api/v1/distribution/me").json()["balance"] == "5.00"


def test_poster_png_decodes_to_the_share_scene(tenant: Any, channel: Any, chain: dict) -> None:
    product = ProductFactory(
        tenant=tenant, title="龙井绿茶 West Lake tea", display_price=Decimal("88.00")
    )
    api = client_for(channel, chain["d"].member)
    answer = api.get(f"/api/v1/distribution/poster?product_id={product.pk}")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(answer.content))
    assert image.format == "PNG" and image.size == (750, 1200)
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == [f"d={chain['d'].share_code}&p={product.pk}"]
    assert "X-Share-Text" in answer
    other = ProductFactory(tenant=f.distributor(tenant).tenant, status="draft")
    assert api.get(f"/api/v1/distribution/poster?product_id={other.pk}").status_code == 404
    assert api.get("/api/v1/distribution/poster?product_id=x").status_code == 400


def test_poster_of_another_tenants_product_is_404(
    tenant: Any, other_tenant: Any, channel: Any, chain: dict
) -> None:
    foreign = ProductFactory(tenant=other_tenant)
    api = client_for(channel, chain["d"].member)
    assert api.get(f"/api/v1/distribution/poster?product_id={foreign.pk}").status_code == 404


def test_schema_documents_the_distribution_api(api: Any) -> None:
    schema = api.get("/api/schema/?format=json").json()
    for path in ("apply", "bind", "me", "team", "commissions", "withdrawals", "poster"):
        assert f"/api/v1/distribution/{path}" in schema["paths"]
