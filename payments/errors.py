"""Error codes of the payments domain (raised with the kinds of ``mall.errors``)."""

from __future__ import annotations

from enum import StrEnum


class PaymentErrorCode(StrEnum):
    GATEWAY_NOT_CONFIGURED = "gateway_not_configured"
    GATEWAY_UNAVAILABLE = "gateway_unavailable"
    GATEWAY_REFUSED = "gateway_refused"
    GATEWAY_INVALID_RESPONSE = "gateway_invalid_response"
    SANDBOX_DISABLED = "sandbox_disabled"
    PAYER_UNKNOWN = "payer_unknown"
    PURPOSE_UNKNOWN = "purpose_unknown"
    NOT_PAYABLE = "not_payable"
    PAYMENT_NOT_FOUND = "payment_not_found"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    REFUND_INVALID_AMOUNT = "refund_invalid_amount"
    REFUND_REF_REUSED = "refund_request_ref_reused"
    REFUND_NOT_RETRYABLE = "refund_not_retryable"
    NOTHING_PAID = "nothing_paid"
    PAYOUT_NOT_CONFIGURED = "payout_not_configured"
    PAYOUT_INVALID = "payout_invalid"
    PAYOUT_REFERENCE_REUSED = "payout_reference_reused"
    PAYOUT_NEEDS_REAL_NAME = "payout_needs_real_name"
    SHIPPING_NOT_APPLICABLE = "shipping_not_applicable"
    PROFIT_SHARING_RATE_EXCEEDED = "profit_sharing_rate_exceeded"
    PROFIT_SHARING_RECEIVER_INVALID = "profit_sharing_receiver_invalid"
    PROFIT_SHARING_RECEIVER_NOT_FOUND = "profit_sharing_receiver_not_found"
