"""Payouts: WeChat Pay merchant transfers (signed requests and answers against the fake at
WECHATPAY_API_BASE_URL), transfer notifications verified like payment ones, the fallback
query, the sandbox, idempotency per reference, and the purpose handler told exactly once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from mall.api.errors import ApplicationError
from mall.money import to_fen
from payments import purposes
from payments.gateways.config import sandbox_config_ensure
from payments.models import Payout
from payments.payouts.services import (
    payout_confirmation_params,
    payout_gateway_for,
    payout_request,
    payouts_sync,
)
from tests.members.factories import MemberFactory
from tests.payments.conftest import MCH_ID, FakeWeChatPay, Keys

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def on_payout_succeeded(self, *, tenant: Any, reference: str, payout: Any) -> None:
        self.calls.append(("succeeded", reference, payout.status))

    def on_payout_failed(self, *, tenant: Any, reference: str, payout: Any) -> None:
        self.calls.append(("failed", reference, payout.fail_reason))


@pytest.fixture
def handler() -> Any:
    recorder = Recorder()
    previous = purposes._PAYOUT_HANDLERS.get("test")
    purposes.register_payout_purpose("test", recorder)
    yield recorder
    if previous is None:
        purposes._PAYOUT_HANDLERS.pop("test", None)
    else:
        purposes.register_payout_purpose("test", previous)


def request(tenant: Any, member: Any, capture: Any, amount: str = "12.34", ref: str = "test:1"):
    with capture(execute=True):
        payout = payout_request(
            tenant=tenant,
            member=member,
            amount=Decimal(amount),
            reference=ref,
            reason="Commission withdrawal",
        )
    payout.refresh_from_db()
    return payout


def transfer_notify(fake: FakeWeChatPay, slug: str, payout: Payout, **overrides: Any) -> Any:
    resource = {
        "out_bill_no": payout.out_bill_no,
        "transfer_bill_no": payout.transfer_bill_no,
        "state": "SUCCESS",
        "mch_id": MCH_ID,
        "transfer_amount": to_fen(payout.amount),
        "openid": payout.payee_openid,
        "create_time": "2026-11-25T10:00:00+08:00",
        "update_time": "2026-11-25T10:01:00+08:00",
    }
    resource.update({k: v for k, v in overrides.items() if k in resource or k == "fail_reason"})
    headers, body = fake.notification(
        resource,
        event_type="MCHTRANSFER.BILL.FINISHED",
        associated_data="mch_payment",
        **{k: v for k, v in overrides.items() if k in ("key", "serial", "timestamp")},
    )
    return APIClient().post(
        f"/api/v1/payments/notify/wechat/{slug}/transfer",
        data=body,
        content_type="application/json",
        **headers,
    )


def test_wechat_transfer_waits_for_confirmation_then_notification_pays_once(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert payout_gateway_for(tenant=tenant, member=buyer) == "wechat"
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    sent = wechatpay.transfers[payout.out_bill_no]["request"]
    assert sent["transfer_amount"] == 1234
    assert sent["openid"] == "o-buyer-openid"
    assert sent["appid"] == "wx-shop-a"
    assert (
        sent["notify_url"]
        == "https://mall.example.com/api/v1/payments/notify/wechat/shop-a/transfer"
    )
    assert sent["transfer_scene_report_infos"]
    assert payout.status == "waiting_confirmation"
    params = payout_confirmation_params(payout=payout)
    assert params == {"mchId": MCH_ID, "appId": "wx-shop-a", "package": payout.package_info}

    for _ in range(2):  # delivered twice: finalised once
        assert transfer_notify(wechatpay, tenant.slug, payout).status_code == 204
    payout.refresh_from_db()
    assert payout.status == "succeeded" and payout.finished_at is not None
    assert handler.calls == [("succeeded", "test:1", "succeeded")]


def test_same_reference_is_the_same_payout_and_reuse_with_other_amount_is_refused(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = request(tenant, buyer, django_capture_on_commit_callbacks)
    again = request(tenant, buyer, django_capture_on_commit_callbacks)
    assert again.pk == first.pk
    assert len(wechatpay.calls("/transfer-bills")) == 1
    with pytest.raises(ApplicationError) as err:
        request(tenant, buyer, django_capture_on_commit_callbacks, amount="1.00")
    assert err.value.code == "payout_reference_reused"


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"transfer_amount": 1}, 400),
        ({"mch_id": "1900000999"}, 400),
        ({"openid": "o-someone-else"}, 400),
        ({"serial": "PUB_KEY_ID_UNKNOWN"}, 401),
        ({"timestamp": 1_600_000_000}, 401),
        ({"out_bill_no": "T-unknown"}, 404),
    ],
)
def test_forged_or_mismatching_transfer_notifications_change_nothing(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
    overrides: dict,
    status: int,
    caplog: Any,
) -> None:
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    answer = transfer_notify(wechatpay, tenant.slug, payout, **overrides)
    assert answer.status_code == status
    payout.refresh_from_db()
    assert payout.status == "waiting_confirmation"
    assert handler.calls == []
    assert "rejected wechat notification" in caplog.text


def test_wrong_signature_key_is_refused(
    tenant: Any,
    buyer: Any,
    keys: Keys,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    assert transfer_notify(wechatpay, tenant.slug, payout, key=keys.stranger).status_code == 401
    payout.refresh_from_db()
    assert payout.status == "waiting_confirmation"


def test_cancelled_transfer_fails_once_through_the_fallback_query(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    wechatpay.transfers[payout.out_bill_no]["state"] = "CANCELLED"
    Payout.objects.filter(pk=payout.pk).update(updated_at=payout.updated_at.replace(year=2020))
    assert payouts_sync() == 1
    assert payouts_sync() == 0  # final: not queried again
    payout.refresh_from_db()
    assert payout.status == "failed" and payout.fail_reason == "CANCELLED"
    assert handler.calls == [("failed", "test:1", "CANCELLED")]
    # A late success notification for a failed payout changes nothing.
    assert transfer_notify(wechatpay, tenant.slug, payout).status_code == 204
    assert handler.calls == [("failed", "test:1", "CANCELLED")]


def test_refused_request_fails_at_once_and_unknown_outcome_is_retried_after_a_query(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    wechatpay.transfer_answer = (403, {"code": "NOT_ENOUGH", "message": "balance"})
    refused = request(tenant, buyer, django_capture_on_commit_callbacks, ref="test:1")
    assert refused.status == "failed" and "NOT_ENOUGH" in refused.fail_reason
    assert handler.calls == [("failed", "test:1", refused.fail_reason)]

    wechatpay.transfer_answer = (500, {"code": "SYSTEM_ERROR", "message": "busy"})
    unknown = request(tenant, buyer, django_capture_on_commit_callbacks, ref="test:2")
    assert unknown.status == "created" and unknown.attempts == 1 and unknown.last_error
    wechatpay.transfer_answer = None
    wechatpay.transfer_state = "SUCCESS"
    Payout.objects.filter(pk=unknown.pk).update(updated_at=unknown.updated_at.replace(year=2020))
    payouts_sync()
    unknown.refresh_from_db()
    assert unknown.status == "succeeded" and unknown.attempts == 2
    # The retry asked first (404), then submitted the same out_bill_no once more.
    assert [r["method"] for r in wechatpay.requests[-2:]] == ["GET", "POST"]
    assert handler.calls[-1] == ("succeeded", "test:2", "succeeded")


def test_answer_with_another_amount_is_not_trusted(
    tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    wechatpay.transfers[payout.out_bill_no].update(state="SUCCESS", transfer_amount=999999)
    Payout.objects.filter(pk=payout.pk).update(updated_at=payout.updated_at.replace(year=2020))
    payouts_sync()
    payout.refresh_from_db()
    assert payout.status == "waiting_confirmation" and "amount differs" in payout.last_error
    assert handler.calls == []


def test_refusals_before_any_gateway_call(
    tenant: Any, buyer: Any, wechatpay: FakeWeChatPay, wechat_config: Any, handler: Recorder
) -> None:
    stranger = MemberFactory(tenant=tenant)
    assert payout_gateway_for(tenant=tenant, member=stranger) is None
    cases = [
        ({"member": stranger}, "payer_unknown"),
        ({"amount": Decimal("2000.00")}, "payout_needs_real_name"),
        ({"amount": Decimal("0")}, "payout_invalid"),
        ({"reference": "no-purpose"}, "payout_invalid"),
    ]
    for overrides, code in cases:
        kwargs = {
            "tenant": tenant,
            "member": buyer,
            "amount": Decimal("5.00"),
            "reference": "test:9",
            "reason": "x",
            **overrides,
        }
        with pytest.raises(ApplicationError) as err:
            payout_request(**kwargs)
        assert err.value.code == code
    assert Payout.objects.count() == 0
    assert wechatpay.calls("/transfer-bills") == []


def test_no_gateway_means_no_payout(tenant: Any, buyer: Any, settings: Any) -> None:
    settings.MALL_ALLOW_SANDBOX = False
    assert payout_gateway_for(tenant=tenant, member=buyer) is None
    with pytest.raises(ApplicationError) as err:
        payout_request(tenant=tenant, member=buyer, amount=Decimal("1"), reference="t:1", reason="")
    assert err.value.code == "payout_not_configured"


def test_sandbox_pays_out_at_once(
    tenant: Any, buyer: Any, handler: Recorder, django_capture_on_commit_callbacks: Any
) -> None:
    sandbox_config_ensure(tenant=tenant)
    assert payout_gateway_for(tenant=tenant, member=buyer) == "sandbox"
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    assert payout.gateway == "sandbox" and payout.status == "succeeded"
    assert handler.calls == [("succeeded", "test:1", "succeeded")]


def test_another_tenants_payout_is_not_touched_by_this_tenants_notification(
    tenant: Any,
    other_tenant: Any,
    buyer: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    # other_tenant has no WeChat Pay configuration: 404, nothing changes.
    assert transfer_notify(wechatpay, other_tenant.slug, payout).status_code == 404
    payout.refresh_from_db()
    assert payout.status == "waiting_confirmation"


def test_member_reads_the_confirmation_params_of_their_own_payout_only(
    tenant: Any,
    buyer: Any,
    buyer_api: Any,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    handler: Recorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.conftest import shopper_client
    from tests.members.factories import access_token_for

    payout = request(tenant, buyer, django_capture_on_commit_callbacks)
    answer = buyer_api.get(f"/api/v1/payments/payouts/{payout.out_bill_no}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "waiting_confirmation" and body["amount"] == "12.34"
    assert body["confirmation"] == {
        "mchId": MCH_ID,
        "appId": "wx-shop-a",
        "package": payout.package_info,
    }
    someone = shopper_client("wx-shop-a", access_token_for(MemberFactory(tenant=tenant)))
    other = someone.get(f"/api/v1/payments/payouts/{payout.out_bill_no}")
    assert other.status_code == 404 and other.json()["error"]["code"]
    assert transfer_notify(wechatpay, tenant.slug, payout).status_code == 204
    done = buyer_api.get(f"/api/v1/payments/payouts/{payout.out_bill_no}").json()
    assert done["status"] == "succeeded" and done["confirmation"] is None
