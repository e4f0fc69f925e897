"""Courier companies and adapters that query tracking events of an express shipment.

``COURIERS`` is the maintained list of the common Chinese express companies the console offers
(name + Kuaidi100 company code, the code stored in ``Shipment.carrier`` and sent as ``com`` to
Kuaidi100); ``courier_find`` resolves a name or code typed in a batch-shipping file.

``courier_adapter()`` returns the adapter named by ``settings.COURIER_BACKEND``:
``local`` (default; development and tests: answers from the shipment itself) or ``kuaidi100``
(the Kuaidi100 real-time query API: POST form ``customer``, ``param`` (JSON), ``sign`` =
upper(md5(param + key + customer)) to ``KUAIDI100_API_URL``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, UpstreamError
from orders.errors import OrderErrorCode


@dataclass(frozen=True)
class Courier:
    code: str  # the Kuaidi100 company code
    name_en: str  # the English name (shown when the console is in English)
    name_zh: str  # the Chinese name merchants and spreadsheets use (shown in Chinese)
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name in the active language: both names are data here, not catalogue entries."""
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


# Common Chinese express companies with their Kuaidi100 codes (https://api.kuaidi100.com/manager/
# v2/query/overview: "快递公司编码"). Keep the codes exactly as Kuaidi100 spells them.
COURIERS: tuple[Courier, ...] = (
    Courier("shunfeng", "SF Express", "顺丰速运", ("sf", "顺丰", "sf express")),
    Courier("zhongtong", "ZTO Express", "中通快递", ("zto", "中通")),
    Courier("yuantong", "YTO Express", "圆通速递", ("yto", "圆通")),
    Courier("shentong", "STO Express", "申通快递", ("sto", "申通")),
    Courier("yunda", "Yunda Express", "韵达快递", ("韵达",)),
    Courier("jd", "JD Logistics", "京东物流", ("京东", "jdl", "jd logistics")),
    Courier("ems", "EMS", "EMS", ("中国邮政ems", "邮政ems")),
    Courier("youzhengguonei", "China Post parcel", "邮政快递包裹", ("邮政", "china post")),
    Courier("jtexpress", "J&T Express", "极兔速递", ("j&t", "jt", "极兔")),
    Courier("debangwuliu", "Deppon", "德邦物流", ("deppon", "德邦", "debang", "德邦快递")),
    Courier("huitongkuaidi", "Best Express", "百世快递", ("best", "百世", "百世汇通")),
    Courier("danniao", "Danniao", "丹鸟", ("丹鸟快递",)),
    Courier("zhaijisong", "ZJS Express", "宅急送", ("zjs",)),
    Courier("fengwang", "Fengwang Express", "丰网速运", ("丰网",)),
    Courier("kuayue", "Kuayue Express", "跨越速运", ("跨越",)),
    Courier("annengwuliu", "ANE Logistics", "安能物流", ("ane", "安能")),
    Courier("zhongtongkuaiyun", "ZTO Freight", "中通快运", ()),
    Courier("yundakuaiyun", "Yunda Freight", "韵达快运", ()),
)

_BY_KEY: dict[str, Courier] = {}
for _courier in COURIERS:
    for _key in (_courier.code, _courier.name_zh, _courier.name_en, *_courier.aliases):
        _BY_KEY.setdefault(_key.strip().lower(), _courier)


def courier_by_code(code: str) -> Courier | None:
    return next((c for c in COURIERS if c.code == code), None)


def courier_find(value: str) -> Courier | None:
    """The courier whose code, Chinese or English name or common alias is ``value``
    (case-insensitive), else None."""
    return _BY_KEY.get(value.strip().lower()) if value else None


def courier_choices() -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in COURIERS]


def courier_label(code: str) -> str:
    courier = courier_by_code(code)
    return courier.label if courier is not None else code


@dataclass(frozen=True)
class TrackingEvent:
    time: str
    text: str
    location: str = ""


@dataclass(frozen=True)
class Tracking:
    carrier: str
    tracking_no: str
    state: str  # in_transit / delivered / unknown / ...
    events: tuple[TrackingEvent, ...]


class CourierAdapter(Protocol):
    def track(self, *, carrier: str, tracking_no: str, phone: str = "") -> Tracking: ...


class LocalCourier:
    """Development courier: every parcel is 'collected' and nothing more is known."""

    def track(self, *, carrier: str, tracking_no: str, phone: str = "") -> Tracking:
        return Tracking(
            carrier=carrier,
            tracking_no=tracking_no,
            state="in_transit",
            events=(TrackingEvent(time="", text=f"{carrier} collected parcel {tracking_no}"),),
        )


KUAIDI100_DEFAULT_URL = "https://poll.kuaidi100.com/poll/query.do"

KUAIDI100_STATES = {
    "0": "in_transit",
    "1": "collected",
    "2": "problem",
    "3": "delivered",
    "4": "returned",
    "5": "delivering",
    "6": "returning",
    "7": "transferred",
    "14": "refused",
}


class Kuaidi100Courier:
    def __init__(self, *, url: str, customer: str, key: str, timeout: float = 5.0) -> None:
        self.url, self.customer, self.key, self.timeout = url, customer, key, timeout

    def sign(self, param: str) -> str:
        raw = f"{param}{self.key}{self.customer}".encode()
        return hashlib.md5(raw, usedforsecurity=False).hexdigest().upper()

    def track(self, *, carrier: str, tracking_no: str, phone: str = "") -> Tracking:
        param = json.dumps(
            {"com": carrier, "num": tracking_no, "phone": phone, "resultv2": "1"},
            separators=(",", ":"),
        )
        try:
            response = requests.post(
                self.url,
                data={"customer": self.customer, "param": param, "sign": self.sign(param)},
                timeout=self.timeout,
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise _error(_("The courier could not be reached.")) from exc
        if response.status_code != 200 or "data" not in body:
            raise _error(str(body.get("message") or _("The courier refused the query.")))
        events = tuple(
            TrackingEvent(
                time=str(item.get("ftime") or item.get("time") or ""),
                text=str(item.get("context", "")),
                location=str(item.get("areaName") or item.get("location") or ""),
            )
            for item in body["data"]
        )
        return Tracking(
            carrier=carrier,
            tracking_no=tracking_no,
            state=KUAIDI100_STATES.get(str(body.get("state")), "unknown"),
            events=events,
        )


def _error(message: str | Promise) -> ApplicationError:
    return UpstreamError(OrderErrorCode.COURIER_ERROR, message)


def courier_adapter() -> CourierAdapter:
    backend = getattr(settings, "COURIER_BACKEND", "local")
    if backend == "kuaidi100":
        return Kuaidi100Courier(
            url=getattr(settings, "KUAIDI100_API_URL", KUAIDI100_DEFAULT_URL),
            customer=getattr(settings, "KUAIDI100_CUSTOMER", ""),
            key=getattr(settings, "KUAIDI100_KEY", ""),
        )
    return LocalCourier()
