"""Write paths of the payments app (see the submodules); the public entry points."""

from payments.services.config import gateway_config_set, sandbox_config_ensure
from payments.services.notifications import (
    NotificationAnswer,
    notification_handle_alipay,
    notification_handle_wechat,
)
from payments.services.payments import (
    PaidResult,
    PayStarted,
    payment_apply_state,
    payment_apply_success,
    payment_close,
    payment_close_for,
    payment_start,
    payment_sync,
    payments_sync_pending,
)
from payments.services.refunds import (
    refund_finalise,
    refund_request,
    refund_retry,
    refund_submit,
    refunds_sync_processing,
)
from payments.services.sandbox import sandbox_pay, sandbox_payment_complete

__all__ = [
    "NotificationAnswer",
    "PaidResult",
    "PayStarted",
    "gateway_config_set",
    "notification_handle_alipay",
    "notification_handle_wechat",
    "payment_apply_state",
    "payment_apply_success",
    "payment_close",
    "payment_close_for",
    "payment_start",
    "payment_sync",
    "payments_sync_pending",
    "refund_finalise",
    "refund_request",
    "refund_retry",
    "refund_submit",
    "refunds_sync_processing",
    "sandbox_config_ensure",
    "sandbox_pay",
    "sandbox_payment_complete",
]
