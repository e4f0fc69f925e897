"""Payments: gateway configuration per tenant, payments, their audit events, and refunds.

Invariants live in the database: ``out_trade_no`` / ``out_refund_no`` / ``request_ref`` are
unique per tenant, an amount is positive, and the refunds reserved on a payment never exceed
what it paid (``refunded_amount <= amount``; refund services move ``refunded_amount`` by a
guarded ``F()`` update under the payment row lock).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from mall.tenancy.crypto import EncryptedTextField, mask_secret
from mall.tenancy.scoping import TenantOwnedModel


class Gateway(models.TextChoices):
    WECHAT = "wechat", "WeChat Pay"
    ALIPAY = "alipay", "Alipay"
    SANDBOX = "sandbox", "Sandbox"


class GatewayConfig(TenantOwnedModel):
    """A tenant's merchant account on one gateway. Secrets are encrypted at rest.

    WeChat Pay (APIv3, public-key mode): ``mch_id``, ``app_id`` (the mini program),
    ``serial_no`` (merchant API certificate serial), ``private_key`` (merchant API key, PEM),
    ``api_v3_key`` (32 bytes), ``public_key`` + ``public_key_id`` (WeChat Pay platform public
    key and its id, the ``Wechatpay-Serial`` of notifications).

    Alipay: ``app_id``, ``private_key`` (the app's private key, PEM), ``public_key`` (Alipay's
    public key, PEM).

    Sandbox: generated keys; ``sandbox_signing_key`` is the private key the sandbox signs its
    notifications with (``public_key`` is its public half), so sandbox notifications go
    through the same verification as WeChat Pay's.
    """

    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    is_active = models.BooleanField(default=True)
    is_sandbox = models.BooleanField(default=False)
    app_id = models.CharField(max_length=64, blank=True, default="")
    mch_id = models.CharField(max_length=64, blank=True, default="")
    serial_no = models.CharField(max_length=128, blank=True, default="")
    private_key = EncryptedTextField(blank=True, default="")
    api_v3_key = EncryptedTextField(blank=True, default="")
    public_key = models.TextField(blank=True, default="")
    public_key_id = models.CharField(max_length=128, blank=True, default="")
    sandbox_signing_key = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("private_key", "api_v3_key", "sandbox_signing_key")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "gateway"], name="uniq_gateway_config_per_tenant"
            ),
            models.CheckConstraint(
                condition=models.Q(gateway__in=["wechat", "alipay", "sandbox"]),
                name="gateway_config_gateway_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} {self.mch_id or self.app_id}"

    def masked(self, field: str) -> str:
        return mask_secret(getattr(self, field) or "")


class Payment(TenantOwnedModel):
    """One attempt to collect money for a payable (``purpose`` + ``reference``) on a gateway."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PENDING = "pending", "Pending (waiting for the payer)"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CLOSED = "closed", "Closed"

    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    out_trade_no = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    subject = models.CharField(max_length=128, blank=True, default="")
    # The merchant account the payment was made with (checked against notifications).
    app_id = models.CharField(max_length=64, blank=True, default="")
    mch_id = models.CharField(max_length=64, blank=True, default="")
    # What the gateway answered at creation (prepay_id / Alipay trade_no), to answer /pay again.
    prepay_id = models.CharField(max_length=128, blank=True, default="")
    transaction_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    payer_id = models.CharField(max_length=128, blank=True, default="")
    raw_notification = models.JSONField(null=True, blank=True)
    # Did the payable take the money (on_paid answered True)? False: refunded automatically.
    purpose_accepted = models.BooleanField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_queried_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "out_trade_no"], name="uniq_payment_out_trade_no_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="payment_refunds_lte_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["created", "pending", "succeeded", "failed", "closed"]
                ),
                name="payment_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "purpose", "reference"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.out_trade_no} ({self.status})"

    @property
    def refundable_amount(self) -> Decimal:
        return self.amount - self.refunded_amount


TRANSITIONS: dict[str, frozenset[str]] = {
    Payment.Status.CREATED: frozenset(
        {
            Payment.Status.PENDING,
            Payment.Status.SUCCEEDED,
            Payment.Status.FAILED,
            Payment.Status.CLOSED,
        }
    ),
    Payment.Status.PENDING: frozenset(
        {Payment.Status.SUCCEEDED, Payment.Status.FAILED, Payment.Status.CLOSED}
    ),
    # A verified success is never lost: money that arrives after we closed or failed the
    # payment is recorded (and refunded automatically when the payable refuses it).
    Payment.Status.FAILED: frozenset({Payment.Status.SUCCEEDED}),
    Payment.Status.CLOSED: frozenset({Payment.Status.SUCCEEDED}),
    Payment.Status.SUCCEEDED: frozenset(),
}


class Refund(TenantOwnedModel):
    """Money going back for a payment. ``request_ref`` makes requests idempotent."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PROCESSING = "processing", "Processing at the gateway"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (retryable)"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    out_refund_no = models.CharField(max_length=64)
    # "after_sale:12" for after-sales; "auto:<payment id>" for automatic refunds.
    request_ref = models.CharField(max_length=64)
    reason = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    gateway_refund_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    raw_notification = models.JSONField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    AUTO_PREFIX = "auto:"

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "out_refund_no"], name="uniq_refund_out_refund_no_per_tenant"
            ),
            models.UniqueConstraint(
                fields=["tenant", "request_ref"], name="uniq_refund_request_ref_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(
                condition=models.Q(status__in=["created", "processing", "succeeded", "failed"]),
                name="refund_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.out_refund_no} {self.amount} ({self.status})"

    @property
    def is_automatic(self) -> bool:
        return self.request_ref.startswith(self.AUTO_PREFIX)


class PaymentEvent(TenantOwnedModel):
    """Audit trail: every state change of a payment or refund, with what caused it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=48)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    source = models.CharField(max_length=32, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"
