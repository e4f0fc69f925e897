"""What adapters answer, and how they fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from payments.models import GatewayConfig, Payment, Refund


class GatewayError(Exception):
    """The gateway could not be reached, refused, or answered something we cannot trust."""

    UNAVAILABLE = "unavailable"
    REFUSED = "refused"
    INVALID = "invalid"

    def __init__(self, kind: str, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code  # the gateway's own error code, if any

    def __str__(self) -> str:
        return f"{self.kind}: {self.code + ' ' if self.code else ''}{self.message}"[:500]


@dataclass(frozen=True)
class Prepay:
    """A payment created at the gateway: ``prepay_id`` (WeChat) or ``trade_no`` (Alipay)."""

    prepay_id: str


@dataclass(frozen=True)
class TradeState:
    """A payment as the gateway sees it (from a notification or a query)."""

    state: str  # "succeeded" | "pending" | "closed" | "failed"
    out_trade_no: str
    amount_fen: int | None = None
    transaction_id: str = ""
    payer_id: str = ""
    app_id: str = ""
    mch_id: str = ""
    paid_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundState:
    state: str  # "succeeded" | "processing" | "failed"
    out_refund_no: str = ""
    gateway_refund_id: str = ""
    amount_fen: int | None = None
    message: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PayoutState:
    """A transfer as the gateway sees it (answer, query or notification)."""

    state: str  # "processing" | "waiting_confirmation" | "succeeded" | "failed" | "not_found"
    out_bill_no: str = ""
    transfer_bill_no: str = ""
    amount_fen: int | None = None
    openid: str = ""
    mch_id: str = ""
    package_info: str = ""
    fail_reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class GatewayAdapter(Protocol):
    config: GatewayConfig

    def prepay(
        self, *, payment: Payment, payer_id: str, notify_url: str, expires_at: datetime | None
    ) -> Prepay: ...

    def pay_answer(self, *, payment: Payment) -> dict[str, Any]: ...

    def query(self, *, payment: Payment) -> TradeState: ...

    def close(self, *, payment: Payment) -> None: ...

    def refund(self, *, refund: Refund, payment: Payment, notify_url: str) -> RefundState: ...

    def query_refund(self, *, refund: Refund, payment: Payment) -> RefundState: ...


class AlreadyPaid(GatewayError):
    """Closing failed because the payer already paid (apply the success instead)."""

    def __init__(self, message: str = "The payment was already made.") -> None:
        super().__init__(GatewayError.REFUSED, message, code="ORDERPAID")
