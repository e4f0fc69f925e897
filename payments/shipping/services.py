"""WeChat order shipping management: WeChat keeps a mini program merchant's funds until the
shipping of each WeChat-paid order is uploaded (``/wxa/sec/order/upload_shipping_info``).

``shipping_info_upload_for`` is what the payable's app calls when it ships (express,
same-city) or hands over (store pickup). It records the package on the payable's
:class:`ShippingUpload` (one per payable; each shipment adds a package and bumps the version)
and uploads after commit (Celery). Every failure is retried with backoff by beat
(``payments.tasks.shipping_uploads_retry``) until WeChat accepts, up to
``SHIPPING_MAX_ATTEMPTS``; then the upload is ``failed`` and the console can retry it.
Payables paid through Alipay need nothing (the call answers None); sandbox payments are
accepted locally.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wechatpy.exceptions import WeChatClientException

from mall.errors import ApplicationError, InvalidInputError
from mall.followups.services import follow_up
from mall.tenancy.models import Channel, Tenant
from mall.transitions import transition_apply, transition_update
from payments import lock_objects
from payments.errors import PaymentErrorCode
from payments.models import SHIPPING_UPLOAD_TRANSITIONS, Gateway, Payment, ShippingUpload
from payments.selectors import payment_accepted_last

logger = logging.getLogger(__name__)

UPLOAD_PATH = "wxa/sec/order/upload_shipping_info"
SHIPPING_MAX_ATTEMPTS = 12
LOGISTICS = {
    "express": ShippingUpload.Logistics.EXPRESS,
    "same_city": ShippingUpload.Logistics.SAME_CITY,
    "pickup": ShippingUpload.Logistics.PICKUP,
    "virtual": ShippingUpload.Logistics.VIRTUAL,
}
# Our carrier codes -> WeChat's delivery company ids (others are sent upper-cased).
EXPRESS_COMPANIES = {
    "shunfeng": "SF",
    "sf": "SF",
    "yuantong": "YTO",
    "zhongtong": "ZTO",
    "shentong": "STO",
    "yunda": "YD",
    "jd": "JD",
    "jingdong": "JD",
    "ems": "EMS",
    "youzhengguonei": "YZPY",
    "jtexpress": "JTSD",
    "debangwuliu": "DBL",
}


def _mask_phone(phone: str) -> str:
    """WeChat wants the receiver's phone masked: ``189****1234``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return ""
    return f"{digits[:3]}****{digits[-4:]}"


def _package(shipment: dict[str, Any], payment: Payment) -> dict[str, Any]:
    kind = str(shipment.get("kind") or "")
    package: dict[str, Any] = {
        "key": str(shipment.get("shipment_id") or shipment.get("tracking_no") or kind)[:64],
        "item_desc": str(shipment.get("item_desc") or payment.subject or payment.reference)[:120],
    }
    if kind == "express":
        carrier = str(shipment.get("carrier") or "").strip()
        tracking_no = str(shipment.get("tracking_no") or "").strip()
        if not carrier or not tracking_no:
            raise InvalidInputError(
                PaymentErrorCode.SHIPPING_NOT_APPLICABLE,
                _("An express shipment needs a carrier and a tracking number."),
            )
        package["tracking_no"] = tracking_no[:128]
        package["express_company"] = EXPRESS_COMPANIES.get(carrier.lower(), carrier.upper())[:32]
    phone = _mask_phone(str(shipment.get("receiver_phone") or ""))
    if phone:
        package["receiver_contact"] = phone
    return package


def shipping_upload_transition(upload: ShippingUpload, to: str) -> bool:
    """The one status change of a (locked) upload, checked against
    ``SHIPPING_UPLOAD_TRANSITIONS`` (409 when not allowed; ``False`` when already there)."""
    return transition_apply(upload, SHIPPING_UPLOAD_TRANSITIONS, to, entity="shipping upload")


def shipping_info_upload_for(
    *, tenant: Tenant, purpose: str, reference: str, shipment: dict[str, Any]
) -> ShippingUpload | None:
    """Record a shipment of a payable and upload it to WeChat after commit.

    ``shipment``: ``kind`` (``express`` | ``same_city`` | ``pickup``), ``shipment_id`` (makes
    repeats idempotent), ``carrier`` + ``tracking_no`` (express), ``item_desc``,
    ``receiver_phone`` (masked before sending), ``complete`` (nothing left to ship; default
    True). Answers None when the payable was not paid through WeChat Pay or the sandbox."""
    kind = str(shipment.get("kind") or "")
    if kind not in LOGISTICS:
        raise InvalidInputError(
            PaymentErrorCode.SHIPPING_NOT_APPLICABLE,
            _("Shipment kind must be express, same_city or pickup."),
        )
    payment = payment_accepted_last(tenant=tenant, purpose=purpose, reference=reference)
    if payment is None or payment.gateway not in (Gateway.WECHAT, Gateway.SANDBOX):
        return None
    package = _package(shipment, payment)
    complete = bool(shipment.get("complete", True))
    for _attempt in range(2):
        try:
            with transaction.atomic():
                upload = _record(tenant, purpose, reference, payment, kind, package, complete)
                break
        except IntegrityError:  # created concurrently: lock it on the second round
            continue
    else:  # pragma: no cover - two concurrent creations cannot both lose
        raise RuntimeError("shipping upload could not be recorded")
    return upload


def _record(
    tenant: Tenant,
    purpose: str,
    reference: str,
    payment: Payment,
    kind: str,
    package: dict[str, Any],
    complete: bool,
) -> ShippingUpload:
    upload = lock_objects.shipping_upload_qs_for_update(
        tenant=tenant, purpose=purpose, reference=reference
    ).first()
    if upload is None:
        upload = ShippingUpload.objects.create(
            tenant=tenant,
            payment=payment,
            purpose=purpose,
            reference=reference,
            logistics_type=LOGISTICS[kind],
            packages=[package],
            is_all_delivered=complete,
            next_attempt_at=timezone.now(),
        )
    else:
        known = {p.get("key") for p in upload.packages}
        if package["key"] in known and upload.is_all_delivered == complete:
            return upload  # the same shipment again: nothing new
        if package["key"] not in known:
            upload.packages = [*upload.packages, package]
        upload.is_all_delivered = complete
        upload.logistics_type = LOGISTICS[kind]
        upload.payment = payment
        shipping_upload_transition(upload, ShippingUpload.Status.PENDING)
        upload.version += 1
        upload.attempts = 0
        upload.last_error = ""
        upload.next_attempt_at = timezone.now()
        upload.save()
    follow_up(
        tenant=upload.tenant_id,
        task="payments.tasks.shipping_upload",
        key=f"shipping_upload:{upload.pk}:v{upload.version}",
        kwargs={"upload_id": upload.pk},
    )
    return upload


def shipping_payload(upload: ShippingUpload) -> dict[str, Any]:
    """The body of ``upload_shipping_info`` for this upload's current version."""
    payment = upload.payment
    if payment.transaction_id:
        order_key: dict[str, Any] = {
            "order_number_type": 2,
            "transaction_id": payment.transaction_id,
        }
    else:
        order_key = {
            "order_number_type": 1,
            "mchid": payment.mch_id,
            "out_trade_no": payment.out_trade_no,
        }
    shipping_list = []
    for package in upload.packages:
        item: dict[str, Any] = {"item_desc": package["item_desc"]}
        if upload.logistics_type == ShippingUpload.Logistics.EXPRESS:
            item["tracking_no"] = package.get("tracking_no", "")
            item["express_company"] = package.get("express_company", "")
        if package.get("receiver_contact"):
            item["contact"] = {"receiver_contact": package["receiver_contact"]}
        shipping_list.append(item)
    split = len(shipping_list) > 1 or not upload.is_all_delivered
    body: dict[str, Any] = {
        "order_key": order_key,
        "logistics_type": int(upload.logistics_type),
        "delivery_mode": 2 if split else 1,
        "shipping_list": shipping_list,
        "upload_time": timezone.localtime().isoformat(timespec="milliseconds"),
        "payer": {"openid": payment.payer_id},
    }
    if split:
        body["is_all_delivered"] = upload.is_all_delivered
    return body


class _UploadFailed(Exception):
    pass


def _post_to_wechat(upload: ShippingUpload, body: dict[str, Any]) -> None:
    from members.platforms.wechat import MallWeChatClient

    payment = upload.payment
    channel = (
        Channel.objects.filter(
            tenant_id=upload.tenant_id, app_id=payment.app_id, platform=Channel.Platform.WECHAT
        )
        .order_by("pk")
        .first()
    )
    if channel is None or not channel.app_secret:
        raise _UploadFailed(f"no WeChat mini program {payment.app_id!r} with an app secret")
    base = settings.WECHAT_API_BASE_URL.rstrip("/")
    client = MallWeChatClient(channel.app_id, channel.app_secret, base_url=base)
    try:
        client.post(UPLOAD_PATH, data=body, api_base_url=f"{base}/")
    except WeChatClientException as exc:
        raise _UploadFailed(f"WeChat errcode {exc.errcode}: {exc.errmsg}") from exc
    except requests.RequestException as exc:
        raise _UploadFailed(f"WeChat unreachable: {exc!r}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _UploadFailed(f"WeChat answered oddly: {exc!r}") from exc


def shipping_upload_submit(*, upload_id: int) -> ShippingUpload:
    """Upload the current version; accepted, or retried later with backoff (then failed)."""
    # The task names the upload only: finding its tenant is platform-wide.
    upload = ShippingUpload.objects.all_tenants().select_related("payment").get(pk=upload_id)
    if upload.status != ShippingUpload.Status.PENDING:
        return upload
    claimed = (
        ShippingUpload.objects.for_tenant(upload.tenant_id)
        .filter(
            pk=upload.pk,
            status=ShippingUpload.Status.PENDING,
            version=upload.version,
            attempts=upload.attempts,
        )
        .update(attempts=F("attempts") + 1)
    )
    if not claimed:
        return ShippingUpload.objects.for_tenant(upload.tenant_id).get(pk=upload.pk)
    version, attempts = upload.version, upload.attempts + 1
    now = timezone.now()
    try:
        # The sandbox has no WeChat behind it: its uploads are accepted as they are.
        if upload.payment.gateway != Gateway.SANDBOX:
            _post_to_wechat(upload, shipping_payload(upload))
    except _UploadFailed as exc:
        logger.warning("shipping upload %s failed (attempt %s): %s", upload.pk, attempts, exc)
        final = attempts >= SHIPPING_MAX_ATTEMPTS
        delay = timedelta(minutes=min(2**attempts, 360))
        mine = ShippingUpload.objects.for_tenant(upload.tenant_id).filter(
            pk=upload.pk, version=version
        )
        if final:
            transition_update(
                mine,
                SHIPPING_UPLOAD_TRANSITIONS,
                ShippingUpload.Status.FAILED,
                last_error=str(exc)[:500],
                next_attempt_at=None,
            )
        else:
            mine.filter(status=ShippingUpload.Status.PENDING).update(
                last_error=str(exc)[:500], next_attempt_at=now + delay
            )
    else:
        # Only the version we sent is accepted; a newer shipment keeps it pending.
        transition_update(
            ShippingUpload.objects.for_tenant(upload.tenant_id).filter(
                pk=upload.pk, version=version
            ),
            SHIPPING_UPLOAD_TRANSITIONS,
            ShippingUpload.Status.ACCEPTED,
            accepted_version=version,
            accepted_at=now,
            last_error="",
            next_attempt_at=None,
        )
    upload.refresh_from_db()
    return upload


def shipping_uploads_retry(*, limit: int = 200) -> int:
    """Beat: upload the pending ones that are due."""
    due = (
        ShippingUpload.objects.all_tenants()
        .filter(  # sweep over every tenant
            status=ShippingUpload.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")[:limit]
    )
    done = 0
    for upload in due:
        if shipping_upload_submit(upload_id=upload.pk).status == ShippingUpload.Status.ACCEPTED:
            done += 1
    return done


def shipping_upload_retry(*, tenant: Tenant, upload_id: int) -> ShippingUpload:
    """Console: try a failed (or pending) upload again now."""
    updated = (
        ShippingUpload.objects.for_tenant(tenant)
        .filter(pk=upload_id)
        .exclude(status=ShippingUpload.Status.ACCEPTED)
        .update(status=ShippingUpload.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
    )
    if not updated:
        raise ApplicationError(
            "shipping_upload_not_retryable", _("Only pending or failed uploads can be retried.")
        )
    return shipping_upload_submit(upload_id=upload_id)
