"""Alipay phone binding: the my.getPhoneNumber answer verified (RSA2, Alipay's key) and decrypted
(AES, the app's content key), then the same bind-or-merge as WeChat's phone binding."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from members.models import Member, MemberIdentity, MemberMerge
from tests.conftest import shopper_client
from tests.members.conftest import AlipayKeys
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.members.test_api_auth import assert_error

pytestmark = pytest.mark.django_db

AES_KEY = base64.b64encode(bytes(range(16))).decode()


def _encrypt(key_b64: str, plain: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(key_b64)), modes.CBC(bytes(16))).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def _sign(key: RSAPrivateKey, content: str) -> str:
    signature = key.sign(content.encode(), rsa_padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def phone_payload(
    keys: AlipayKeys,
    answer: dict[str, Any],
    *,
    aes_key: str = AES_KEY,
    signer: RSAPrivateKey | None = None,
) -> str:
    """What my.getPhoneNumber hands the mini program, as Alipay builds it."""
    response = _encrypt(aes_key, json.dumps(answer).encode())
    sign = _sign(signer or keys.alipay_private, f'"{response}"')
    return json.dumps(
        {
            "response": response,
            "sign": sign,
            "sign_type": "RSA2",
            "encrypt_type": "AES",
            "charset": "UTF-8",
        }
    )


@pytest.fixture
def aes_channel(alipay_channel: Any) -> Any:
    alipay_channel.alipay_aes_key = AES_KEY
    alipay_channel.save()
    return alipay_channel


def _bind(channel: Any, member: Member, code: str) -> Any:
    client = shopper_client(channel.app_id, access_token_for(member))
    return client.post("/api/v1/me/phone", {"code": code}, format="json")


def test_alipay_member_with_a_wechat_members_phone_merges_into_it(
    tenant: Any, channel: Any, aes_channel: Any, alipay_keys: AlipayKeys
) -> None:
    wechat = MemberFactory(tenant=tenant, phone="13800000021")
    MemberIdentity.objects.create(
        tenant=tenant, member=wechat, platform="wechat", app_id=channel.app_id, openid="o-wx-21"
    )
    alipay = MemberFactory(tenant=tenant)
    MemberIdentity.objects.create(
        tenant=tenant, member=alipay, platform="alipay", app_id=aes_channel.app_id, openid="2088-21"
    )
    AddressFactory(member=alipay)
    payload = phone_payload(
        alipay_keys, {"code": "10000", "msg": "Success", "mobile": "13800000021"}
    )

    response = _bind(aes_channel, alipay, payload)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["merged"] is True and body["member"]["id"] == wechat.pk
    assert body["member"]["phone"] == "13800000021"
    # One member now: both platform identities and the address are the WeChat member's.
    platforms = MemberIdentity.objects.for_tenant(tenant).filter(member=wechat)
    assert sorted(platforms.values_list("platform", flat=True)) == ["alipay", "wechat"]
    assert wechat.addresses.count() == 1
    alipay.refresh_from_db()
    assert alipay.merged_into_id == wechat.pk
    assert MemberMerge.objects.for_tenant(tenant).filter(survivor=wechat, merged=alipay).exists()
    # The Alipay login now lands on the WeChat member (new tokens from the answer work).
    me = shopper_client(aes_channel.app_id, body["access"]).get("/api/v1/me").json()
    assert me["id"] == wechat.pk


def test_new_phone_binds_to_the_alipay_member(
    tenant: Any, aes_channel: Any, alipay_keys: AlipayKeys
) -> None:
    member = MemberFactory(tenant=tenant)
    payload = phone_payload(
        alipay_keys, {"code": "10000", "msg": "Success", "mobile": "13800000022"}
    )

    body = _bind(aes_channel, member, payload).json()

    assert body["merged"] is False and body["member"]["phone"] == "13800000022"


@pytest.mark.parametrize(
    "case",
    ["forged signature", "wrong aes key", "refused by the user", "not json", "no sign", "rsa1"],
)
def test_bad_payloads_are_refused_and_bind_nothing(
    case: str, tenant: Any, aes_channel: Any, alipay_keys: AlipayKeys
) -> None:
    member = MemberFactory(tenant=tenant)
    ok = {"code": "10000", "msg": "Success", "mobile": "13800000023"}
    payload = {
        "forged signature": lambda: phone_payload(alipay_keys, ok, signer=alipay_keys.app_private),
        "wrong aes key": lambda: phone_payload(
            alipay_keys, ok, aes_key=base64.b64encode(os.urandom(16)).decode()
        ),
        "refused by the user": lambda: phone_payload(
            alipay_keys, {"code": "40003", "msg": "Insufficient Conditions", "subCode": "isv.x"}
        ),
        "not json": lambda: "encrypted",
        "no sign": lambda: json.dumps({"response": "abc"}),
        "rsa1": lambda: json.dumps({"response": "abc", "sign": "x", "sign_type": "RSA"}),
    }[case]()

    response = _bind(aes_channel, member, payload)

    assert_error(response, 400, "alipay_phone_failed")
    member.refresh_from_db()
    assert member.phone == ""


def test_channel_without_aes_key_says_so(
    tenant: Any, alipay_channel: Any, alipay_keys: AlipayKeys
) -> None:
    member = MemberFactory(tenant=tenant)
    payload = phone_payload(
        alipay_keys, {"code": "10000", "msg": "Success", "mobile": "13800000024"}
    )

    assert_error(_bind(alipay_channel, member, payload), 503, "channel_not_configured")


def test_wechat_and_alipay_members_with_points_coupons_and_cards_become_one(
    tenant: Any, channel: Any, aes_channel: Any, alipay_keys: AlipayKeys
) -> None:
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from members.models import MemberCard, PointsLot
    from members.points.models import Reason
    from members.points.services import points_earn
    from promotions.models import Coupon
    from tests.promotions.factories import CouponFactory, CouponTemplateFactory

    now = timezone.now()
    wechat = MemberFactory(tenant=tenant, phone="13800000031")
    alipay = MemberFactory(tenant=tenant)
    for member, points in ((wechat, 120), (alipay, 80)):
        points_earn(
            tenant=tenant,
            member_id=member.pk,
            points=points,
            reason=Reason.ADJUST,
            ref=f"open:{member.pk}",
        )
    template = CouponTemplateFactory(tenant=tenant)
    CouponFactory(template=template, member=wechat)
    CouponFactory(template=template, member=alipay)
    MemberCard.objects.create(
        tenant=tenant, member=wechat, starts_at=now, ends_at=now + dt.timedelta(days=10)
    )
    MemberCard.objects.create(
        tenant=tenant, member=alipay, starts_at=now, ends_at=now + dt.timedelta(days=20)
    )
    payload = phone_payload(
        alipay_keys, {"code": "10000", "msg": "Success", "mobile": "13800000031"}
    )

    with time_machine.travel(now, tick=False):
        body = _bind(aes_channel, alipay, payload).json()

    assert body["merged"] is True and body["member"]["id"] == wechat.pk
    wechat.refresh_from_db()
    assert (wechat.points, wechat.points_debt) == (200, 0)
    lots = PointsLot.objects.for_tenant(tenant).filter(member=wechat)
    assert sorted(lot.remaining for lot in lots) == [80, 120]  # the lots moved, expiry kept
    assert Coupon.objects.for_tenant(tenant).filter(member=wechat).count() == 2
    card = MemberCard.objects.for_tenant(tenant).get(member=wechat)
    assert card.ends_at == now + dt.timedelta(days=30)  # 10 days left + the other's 20
    assert not MemberCard.objects.for_tenant(tenant).filter(member=alipay).exists()
    assert not PointsLot.objects.for_tenant(tenant).filter(member=alipay).exists()
