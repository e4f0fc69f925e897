"""Write paths of the payments app (see the submodules); the public entry points."""

from payments.services.config import gateway_config_set, sandbox_config_ensure
from payments.services.notifications import (
    NotificationAnswer,
    notification_handle_alipay,
    notification_handle_wechat,
    notification_handle_wechat_transfer,
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
from payments.services.payouts import (
    payout_apply_state,
    payout_confirmation_params,
    payout_gateway_for,
    payout_request,
    payout_submit,
    payouts_sync,
)
from payments.services.refunds import (
    refund_check,
    refund_finalise,
    refund_request,
    refund_retry,
    refund_status_for,
    refund_submit,
    refunds_sync_processing,
)
from payments.services.sandbox import sandbox_pay, sandbox_payment_complete
from payments.services.shipping import (
    shipping_info_upload_for,
    shipping_upload_retry,
    shipping_upload_submit,
    shipping_uploads_retry,
)

__all__ = [
    "NotificationAnswer",
    "PaidResult",
    "PayStarted",
    "gateway_config_set",
    "notification_handle_alipay",
    "notification_handle_wechat",
    "notification_handle_wechat_transfer",
    "payment_apply_state",
    "payment_apply_success",
    "payment_close",
    "payment_close_for",
    "payment_start",
    "payment_sync",
    "payments_sync_pending",
    "payout_apply_state",
    "payout_confirmation_params",
    "payout_gateway_for",
    "payout_request",
    "payout_submit",
    "payouts_sync",
    "refund_check",
    "refund_finalise",
    "refund_request",
    "refund_retry",
    "refund_status_for",
    "refund_submit",
    "refunds_sync_processing",
    "sandbox_config_ensure",
    "sandbox_pay",
    "sandbox_payment_complete",
    "shipping_info_upload_for",
    "shipping_upload_retry",
    "shipping_upload_submit",
    "shipping_uploads_retry",
]
