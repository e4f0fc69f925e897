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

    Alipay: ``app_id`` only: the app's one key pair (its private key, Alipay's public key) is
    kept on the tenant's Alipay channel of that app id, where login reads it too
    (``payments.gateways.alipay.alipay_app_keys``); ``private_key``/``public_key`` stay empty.

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
    # The gateway's fee on paid amounts (0.0060 = 0.6%); empty = DEFAULT_FEE_RATES.
    fee_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
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
            models.CheckConstraint(
                condition=models.Q(fee_rate__isnull=True)
                | (models.Q(fee_rate__gte=0) & models.Q(fee_rate__lt=1)),
                name="gateway_config_fee_rate_valid",
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


class Payout(TenantOwnedModel):
    """Money going out to a member (distributor withdrawals): WeChat Pay's merchant transfer
    to the member's balance (``mch_transfer_bills``) or the sandbox.

    ``reference`` (e.g. ``withdrawal:12``) makes requests idempotent; ``purpose`` is its prefix
    and names the handler told of the outcome (``payments.purposes.register_payout_purpose``).
    A payout ends ``succeeded`` or ``failed`` exactly once (the row is locked to finalise).
    """

    class Status(models.TextChoices):
        CREATED = "created", "Created (not accepted by the gateway yet)"
        PROCESSING = "processing", "Processing at the gateway"
        WAITING_CONFIRMATION = "waiting_confirmation", "Waiting for the member to confirm"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (nothing was paid)"

    FINAL = frozenset({Status.SUCCEEDED, Status.FAILED})

    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=32, blank=True, default="")
    out_bill_no = models.CharField(max_length=32)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.CREATED)
    app_id = models.CharField(max_length=64, blank=True, default="")
    mch_id = models.CharField(max_length=64, blank=True, default="")
    payee_openid = models.CharField(max_length=128, blank=True, default="")
    transfer_bill_no = models.CharField(max_length=64, blank=True, default="")
    # WeChat's package_info: the mini program passes it to wx.requestMerchantTransfer.
    package_info = models.CharField(max_length=1024, blank=True, default="")
    fail_reason = models.CharField(max_length=200, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    raw = models.JSONField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reference"], name="uniq_payout_reference_per_tenant"
            ),
            models.UniqueConstraint(
                fields=["tenant", "out_bill_no"], name="uniq_payout_out_bill_no_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_gt_0"),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "created",
                        "processing",
                        "waiting_confirmation",
                        "succeeded",
                        "failed",
                    ]
                ),
                name="payout_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.out_bill_no} {self.amount} ({self.status})"


class ShippingUpload(TenantOwnedModel):
    """The shipping of a WeChat-paid payable, uploaded to WeChat's order shipping management
    (``/wxa/sec/order/upload_shipping_info``): WeChat keeps the merchant's funds until then.

    One row per payable; each shipment adds a package and sets it pending again; a Celery
    task (and beat) uploads until WeChat accepts. ``failed`` = refused for good (see
    ``last_error``), retryable from the console.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (to upload or retry)"
        ACCEPTED = "accepted", "Accepted by WeChat"
        FAILED = "failed", "Failed (refused; retry from the console)"

    class Logistics(models.IntegerChoices):
        EXPRESS = 1, "Express"
        SAME_CITY = 2, "Same-city delivery"
        VIRTUAL = 3, "Virtual goods"
        PICKUP = 4, "Store pickup"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    logistics_type = models.PositiveSmallIntegerField(choices=Logistics.choices)
    packages = models.JSONField(default=list, blank=True)
    is_all_delivered = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Bumped by every change; an upload only marks the version it sent as accepted.
    version = models.PositiveIntegerField(default=1)
    accepted_version = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purpose", "reference"], name="uniq_shipping_upload_payable"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "failed"]),
                name="shipping_upload_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"shipping of {self.purpose} {self.reference} ({self.status})"


class ReconciliationRun(TenantOwnedModel):
    """One gateway bill of one day compared with our records (re-running replaces it)."""

    class Status(models.TextChoices):
        MATCHED = "matched", "Matched"
        MISMATCHED = "mismatched", "Mismatches found"
        FAILED = "failed", "Bill could not be fetched"

    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    bill_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices)
    bill_rows = models.PositiveIntegerField(default=0)
    our_rows = models.PositiveIntegerField(default=0)
    mismatch_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    ran_at = models.DateTimeField()

    class Meta:
        ordering = ["-bill_date", "gateway"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "gateway", "bill_date"], name="uniq_reconciliation_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.bill_date} ({self.status})"


class ReconciliationMismatch(TenantOwnedModel):
    class Kind(models.TextChoices):
        MISSING_OURS = "missing_ours", "In the bill, not in our records"
        MISSING_THEIRS = "missing_theirs", "In our records, not in the bill"
        AMOUNT_DIFFERS = "amount_differs", "Amount differs"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="mismatches")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    entry = models.CharField(max_length=16)  # "payment" | "refund"
    out_trade_no = models.CharField(max_length=64, blank=True, default="")
    out_refund_no = models.CharField(max_length=64, blank=True, default="")
    gateway_no = models.CharField(max_length=64, blank=True, default="")
    ours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    theirs = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "reconciliation mismatches"

    def __str__(self) -> str:
        return f"{self.kind} {self.entry} {self.out_refund_no or self.out_trade_no}"


def _money() -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))


MAX_PROFIT_SHARING_RATE = Decimal("0.30")  # WeChat Pay: at most 30% of a payment is shared


class ProfitSharingReceiver(TenantOwnedModel):
    """Who gets a share of completed WeChat-paid orders (suppliers of S2B2C tenants),
    registered with WeChat Pay (``/v3/profitsharing/receivers/add``). The active receivers'
    ``share_rate`` add up to at most 30% (WeChat's rule; checked by the service)."""

    class Type(models.TextChoices):
        MERCHANT_ID = "MERCHANT_ID", "Merchant id"
        PERSONAL_OPENID = "PERSONAL_OPENID", "Personal openid"

    class Relation(models.TextChoices):
        SUPPLIER = "SUPPLIER", "Supplier"
        DISTRIBUTOR = "DISTRIBUTOR", "Distributor"
        PARTNER = "PARTNER", "Partner"
        BRAND = "BRAND", "Brand"
        STORE = "STORE", "Store"
        HEADQUARTER = "HEADQUARTER", "Headquarter"

    type = models.CharField(max_length=16, choices=Type.choices)
    account = models.CharField(max_length=64)
    name = models.CharField(max_length=128, blank=True, default="")
    relation_type = models.CharField(
        max_length=16, choices=Relation.choices, default=Relation.SUPPLIER
    )
    share_rate = models.DecimalField(max_digits=5, decimal_places=4)
    is_active = models.BooleanField(default=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "type", "account"], name="uniq_profit_sharing_receiver"
            ),
            models.CheckConstraint(
                condition=models.Q(share_rate__gt=0) & models.Q(share_rate__lte=Decimal("0.30")),
                name="profit_sharing_receiver_rate_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=["MERCHANT_ID", "PERSONAL_OPENID"]),
                name="profit_sharing_receiver_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.account} ({self.share_rate:.2%})"


class ProfitSharingOrder(TenantOwnedModel):
    """The profit sharing of one paid WeChat payment of a completed payable
    (``/v3/profitsharing/orders``); ``receivers`` holds what each receiver gets (fen) and
    WeChat's result for it. One per payment; ``out_order_no`` unique per tenant."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing at WeChat Pay"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    out_order_no = models.CharField(max_length=64)
    transaction_id = models.CharField(max_length=64)
    base_amount = _money()  # what the rates were applied to
    amount = _money()  # total shared
    receivers = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    order_id = models.CharField(max_length=64, blank=True, default="")  # WeChat's
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    raw = models.JSONField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "out_order_no"], name="uniq_profit_sharing_out_order_no"
            ),
            models.UniqueConstraint(
                fields=["tenant", "payment"], name="uniq_profit_sharing_per_payment"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0) & models.Q(amount__lte=models.F("base_amount")),
                name="profit_sharing_amount_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["processing", "finished", "failed"]),
                name="profit_sharing_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "purpose", "reference"])]

    def __str__(self) -> str:
        return f"{self.out_order_no} {self.amount} ({self.status})"


class OrderSettlement(TenantOwnedModel):
    """The merchant's ledger of one payable (an order): what was paid, what went back, what
    distributors and suppliers got, the gateway fee and the merchant's net, to the fen.
    Recomputed (same row) by ``settlement_compute_for``."""

    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    gateway = models.CharField(max_length=16, blank=True, default="")
    gross = _money()
    refunds = _money()
    commissions = _money()
    supplier_shares = _money()
    fee = _money()
    net = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "purpose", "reference"], name="uniq_order_settlement"
            ),
            models.CheckConstraint(
                condition=models.Q(gross__gte=0)
                & models.Q(refunds__gte=0)
                & models.Q(refunds__lte=models.F("gross"))
                & models.Q(commissions__gte=0)
                & models.Q(supplier_shares__gte=0)
                & models.Q(fee__gte=0),
                name="order_settlement_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"settlement of {self.purpose} {self.reference}: {self.net}"
