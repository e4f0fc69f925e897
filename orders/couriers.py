"""Courier adapters: query tracking events of an express shipment.

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

from mall.api.errors import ApplicationError
from orders.errors import OrderErrorCode


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
            raise _error("The courier could not be reached.") from exc
        if response.status_code != 200 or "data" not in body:
            raise _error(str(body.get("message") or "The courier refused the query."))
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


def _error(message: str) -> ApplicationError:
    return ApplicationError(OrderErrorCode.COURIER_ERROR, message, status_code=502)


def courier_adapter() -> CourierAdapter:
    backend = getattr(settings, "COURIER_BACKEND", "local")
    if backend == "kuaidi100":
        return Kuaidi100Courier(
            url=getattr(settings, "KUAIDI100_API_URL", KUAIDI100_DEFAULT_URL),
            customer=getattr(settings, "KUAIDI100_CUSTOMER", ""),
            key=getattr(settings, "KUAIDI100_KEY", ""),
        )
    return LocalCourier()
