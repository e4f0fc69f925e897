"""Payments: gateway configuration per tenant, payments, their audit events, and refunds.

Invariants live in the database: ``out_trade_no`` / ``out_refund_no`` / ``request_ref`` are
unique per tenant, an amount is positive, and the refunds reserved on a payment never exceed
what it paid (``refunded_amount <= amount``; refund services move ``refunded_amount`` by a
guarded ``F()`` update under the payment row lock).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.crypto import EncryptedTextField, mask_secret
from mall.tenancy.scoping import TenantOwnedModel


class Gateway(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    SANDBOX = "sandbox", _("Sandbox")


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

    gateway = models.CharField(max_length=16, choices=Gateway.choices, verbose_name=_("gateway"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_sandbox = models.BooleanField(default=False, verbose_name=_("is sandbox"))
    app_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("app id"))
    mch_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("mch id"))
    serial_no = models.CharField(
        max_length=128, blank=True, default="", verbose_name=_("serial no")
    )
    private_key = EncryptedTextField(blank=True, default="")
    api_v3_key = EncryptedTextField(blank=True, default="")
    public_key = models.TextField(blank=True, default="", verbose_name=_("public key"))
    public_key_id = models.CharField(
        max_length=128, blank=True, default="", verbose_name=_("public key id")
    )
    sandbox_signing_key = EncryptedTextField(blank=True, default="")
    # The gateway's fee on paid amounts (0.0060 = 0.6%); empty = DEFAULT_FEE_RATES.
    fee_rate = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, verbose_name=_("fee rate")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    SECRET_FIELDS = ("private_key", "api_v3_key", "sandbox_signing_key")

    class Meta:
        verbose_name = _("payment gateway configuration")
        verbose_name_plural = _("payment gateway configurations")
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


class GatewayExchange(TenantOwnedModel):
    """The fields every record of an exchange with a gateway carries (refunds, payouts,
    shipping uploads, profit sharing): how often we asked, the last error, when."""

    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(
        max_length=500, blank=True, default="", verbose_name=_("last error")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        abstract = True


class Payment(TenantOwnedModel):
    """One attempt to collect money for a payable (``purpose`` + ``reference``) on a gateway."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Pending (waiting for the payer)")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CLOSED = "closed", _("Closed")

    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("member"),
    )
    gateway = models.CharField(max_length=16, choices=Gateway.choices, verbose_name=_("gateway"))
    out_trade_no = models.CharField(max_length=32, verbose_name=_("out trade no"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    refunded_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("refunded amount")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.CREATED, verbose_name=_("status")
    )
    subject = models.CharField(max_length=128, blank=True, default="", verbose_name=_("subject"))
    # The merchant account the payment was made with (checked against notifications).
    app_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("app id"))
    mch_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("mch id"))
    # What the gateway answered at creation (prepay_id / Alipay trade_no), to answer /pay again.
    prepay_id = models.CharField(
        max_length=128, blank=True, default="", verbose_name=_("prepay id")
    )
    transaction_id = models.CharField(
        max_length=64, blank=True, default="", db_index=True, verbose_name=_("transaction id")
    )
    payer_id = models.CharField(max_length=128, blank=True, default="", verbose_name=_("payer id"))
    raw_notification = models.JSONField(null=True, blank=True, verbose_name=_("raw notification"))
    # Did the payable take the money (on_paid answered True)? False: refunded automatically.
    purpose_accepted = models.BooleanField(
        null=True, blank=True, verbose_name=_("purpose accepted")
    )
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("paid at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    last_queried_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last queried at"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
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


PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
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


class Refund(GatewayExchange):
    """Money going back for a payment. ``request_ref`` makes requests idempotent."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PROCESSING = "processing", _("Processing at the gateway")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed (retryable)")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    out_refund_no = models.CharField(max_length=64, verbose_name=_("out refund no"))
    # "after_sale:12" for after-sales; "auto:<payment id>" for automatic refunds.
    request_ref = models.CharField(max_length=64, verbose_name=_("request ref"))
    reason = models.CharField(max_length=200, blank=True, default="", verbose_name=_("reason"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.CREATED, verbose_name=_("status")
    )
    gateway_refund_id = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("gateway refund id")
    )
    raw_notification = models.JSONField(null=True, blank=True, verbose_name=_("raw notification"))
    refunded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refunded at"))

    AUTO_PREFIX = "auto:"

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
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


_R = Refund.Status
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    _R.CREATED: frozenset({_R.PROCESSING, _R.SUCCEEDED, _R.FAILED}),
    _R.PROCESSING: frozenset({_R.SUCCEEDED, _R.FAILED}),
    # Retried (console, or a new submission); a gateway that reports success after we marked
    # the refund failed is believed: the money went back.
    _R.FAILED: frozenset({_R.PROCESSING, _R.SUCCEEDED}),
    _R.SUCCEEDED: frozenset(),
}


class PaymentEvent(TenantOwnedModel):
    """Audit trail: every state change of a payment or refund, with what caused it."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="events", verbose_name=_("payment")
    )
    refund = models.ForeignKey(
        Refund,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("refund"),
    )
    kind = models.CharField(max_length=48, verbose_name=_("kind"))
    from_status = models.CharField(
        max_length=16, blank=True, default="", verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=16, blank=True, default="", verbose_name=_("to status"))
    source = models.CharField(max_length=32, blank=True, default="", verbose_name=_("source"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"


class Payout(GatewayExchange):
    """Money going out to a member (distributor withdrawals): WeChat Pay's merchant transfer
    to the member's balance (``mch_transfer_bills``) or the sandbox.

    ``reference`` (e.g. ``withdrawal:12``) makes requests idempotent; ``purpose`` is its prefix
    and names the handler told of the outcome (``payments.purposes.register_payout_purpose``).
    A payout ends ``succeeded`` or ``failed`` exactly once (the row is locked to finalise).
    """

    class Status(models.TextChoices):
        CREATED = "created", _("Created (not accepted by the gateway yet)")
        PROCESSING = "processing", _("Processing at the gateway")
        WAITING_CONFIRMATION = "waiting_confirmation", _("Waiting for the member to confirm")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed (nothing was paid)")

    FINAL = frozenset({Status.SUCCEEDED, Status.FAILED})

    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    gateway = models.CharField(max_length=16, choices=Gateway.choices, verbose_name=_("gateway"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    reason = models.CharField(max_length=32, blank=True, default="", verbose_name=_("reason"))
    out_bill_no = models.CharField(max_length=32, verbose_name=_("out bill no"))
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.CREATED, verbose_name=_("status")
    )
    app_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("app id"))
    mch_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("mch id"))
    payee_openid = models.CharField(
        max_length=128, blank=True, default="", verbose_name=_("payee openid")
    )
    transfer_bill_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("transfer bill no")
    )
    # WeChat's package_info: the mini program passes it to wx.requestMerchantTransfer.
    package_info = models.CharField(
        max_length=1024, blank=True, default="", verbose_name=_("package info")
    )
    fail_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("fail reason")
    )
    raw = models.JSONField(null=True, blank=True, verbose_name=_("raw"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
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


_P = Payout.Status
PAYOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    _P.CREATED: frozenset({_P.PROCESSING, _P.WAITING_CONFIRMATION, _P.SUCCEEDED, _P.FAILED}),
    # WeChat's transfer states move between these until the member confirms (or it times out).
    _P.PROCESSING: frozenset({_P.WAITING_CONFIRMATION, _P.SUCCEEDED, _P.FAILED}),
    _P.WAITING_CONFIRMATION: frozenset({_P.PROCESSING, _P.SUCCEEDED, _P.FAILED}),
    _P.SUCCEEDED: frozenset(),
    _P.FAILED: frozenset(),
}


class ShippingUpload(GatewayExchange):
    """The shipping of a WeChat-paid payable, uploaded to WeChat's order shipping management
    (``/wxa/sec/order/upload_shipping_info``): WeChat keeps the merchant's funds until then.

    One row per payable; each shipment adds a package and sets it pending again; a Celery
    task (and beat) uploads until WeChat accepts. ``failed`` = refused for good (see
    ``last_error``), retryable from the console.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending (to upload or retry)")
        ACCEPTED = "accepted", _("Accepted by WeChat")
        FAILED = "failed", _("Failed (refused; retry from the console)")

    class Logistics(models.IntegerChoices):
        EXPRESS = 1, _("Express")
        SAME_CITY = 2, _("Same-city delivery")
        VIRTUAL = 3, _("Virtual goods")
        PICKUP = 4, _("Store pickup")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="+", verbose_name=_("payment")
    )
    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    logistics_type = models.PositiveSmallIntegerField(
        choices=Logistics.choices, verbose_name=_("logistics type")
    )
    packages = models.JSONField(default=list, blank=True, verbose_name=_("packages"))
    is_all_delivered = models.BooleanField(default=True, verbose_name=_("is all delivered"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    # Bumped by every change; an upload only marks the version it sent as accepted.
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    accepted_version = models.PositiveIntegerField(default=0, verbose_name=_("accepted version"))
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, db_index=True, verbose_name=_("next attempt at")
    )
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))

    class Meta:
        verbose_name = _("shipping upload")
        verbose_name_plural = _("shipping uploads")
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
        return gettext("shipping of %(purpose)s %(reference)s (%(status)s)") % {
            "purpose": self.purpose,
            "reference": self.reference,
            "status": self.get_status_display(),
        }


_U = ShippingUpload.Status
SHIPPING_UPLOAD_TRANSITIONS: dict[str, frozenset[str]] = {
    _U.PENDING: frozenset({_U.ACCEPTED, _U.FAILED}),
    # A new shipment (or a retry from the console) makes it pending again.
    _U.ACCEPTED: frozenset({_U.PENDING}),
    _U.FAILED: frozenset({_U.PENDING}),
}


class ReconciliationRun(TenantOwnedModel):
    """One gateway bill of one day compared with our records (re-running replaces it)."""

    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched")
        MISMATCHED = "mismatched", _("Mismatches found")
        FAILED = "failed", _("Bill could not be fetched")

    gateway = models.CharField(max_length=16, choices=Gateway.choices, verbose_name=_("gateway"))
    bill_date = models.DateField(verbose_name=_("bill date"))
    status = models.CharField(max_length=16, choices=Status.choices, verbose_name=_("status"))
    bill_rows = models.PositiveIntegerField(default=0, verbose_name=_("bill rows"))
    our_rows = models.PositiveIntegerField(default=0, verbose_name=_("our rows"))
    mismatch_count = models.PositiveIntegerField(default=0, verbose_name=_("mismatch count"))
    error = models.CharField(max_length=500, blank=True, default="", verbose_name=_("error"))
    ran_at = models.DateTimeField(verbose_name=_("ran at"))

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-bill_date", "gateway"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "gateway", "bill_date"], name="uniq_reconciliation_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.bill_date} ({self.status})"


_RUN = ReconciliationRun.Status
# A run is an outcome, not a workflow: reconciling the same day again (``update_or_create`` in
# ``payments.reconciliation.services``) replaces it with the new outcome, whatever it was.
RECONCILIATION_RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset(set(_RUN.values) - {status}) for status in _RUN.values
}


class ReconciliationMismatch(TenantOwnedModel):
    class Kind(models.TextChoices):
        MISSING_OURS = "missing_ours", _("In the bill, not in our records")
        MISSING_THEIRS = "missing_theirs", _("In our records, not in the bill")
        AMOUNT_DIFFERS = "amount_differs", _("Amount differs")

    run = models.ForeignKey(
        ReconciliationRun,
        on_delete=models.CASCADE,
        related_name="mismatches",
        verbose_name=_("run"),
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    entry = models.CharField(max_length=16, verbose_name=_("entry"))  # "payment" | "refund"
    out_trade_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("out trade no")
    )
    out_refund_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("out refund no")
    )
    gateway_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("gateway no")
    )
    ours = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("ours")
    )
    theirs = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("theirs")
    )

    class Meta:
        verbose_name = _("reconciliation mismatch")
        ordering = ["id"]
        verbose_name_plural = _("reconciliation mismatches")

    def __str__(self) -> str:
        return f"{self.kind} {self.entry} {self.out_refund_no or self.out_trade_no}"


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"), **kwargs)  # type: ignore[arg-type]


MAX_PROFIT_SHARING_RATE = Decimal("0.30")  # WeChat Pay: at most 30% of a payment is shared


class ProfitSharingReceiver(TenantOwnedModel):
    """Who gets a share of completed WeChat-paid orders (suppliers of S2B2C tenants),
    registered with WeChat Pay (``/v3/profitsharing/receivers/add``). The active receivers'
    ``share_rate`` add up to at most 30% (WeChat's rule; checked by the service)."""

    class Type(models.TextChoices):
        MERCHANT_ID = "MERCHANT_ID", _("Merchant id")
        PERSONAL_OPENID = "PERSONAL_OPENID", _("Personal openid")

    class Relation(models.TextChoices):
        SUPPLIER = "SUPPLIER", _("Supplier")
        DISTRIBUTOR = "DISTRIBUTOR", _("Distributor")
        PARTNER = "PARTNER", _("Partner")
        BRAND = "BRAND", _("Brand")
        STORE = "STORE", _("Store")
        HEADQUARTER = "HEADQUARTER", _("Headquarter")

    type = models.CharField(max_length=16, choices=Type.choices, verbose_name=_("type"))
    account = models.CharField(max_length=64, verbose_name=_("account"))
    name = models.CharField(max_length=128, blank=True, default="", verbose_name=_("name"))
    relation_type = models.CharField(
        max_length=16,
        choices=Relation.choices,
        default=Relation.SUPPLIER,
        verbose_name=_("relation type"),
    )
    share_rate = models.DecimalField(max_digits=5, decimal_places=4, verbose_name=_("share rate"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    registered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("registered at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("profit sharing receiver")
        verbose_name_plural = _("profit sharing receivers")
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


class ProfitSharingOrder(GatewayExchange):
    """The profit sharing of one paid WeChat payment of a completed payable
    (``/v3/profitsharing/orders``); ``receivers`` holds what each receiver gets (fen) and
    WeChat's result for it. One per payment; ``out_order_no`` unique per tenant."""

    class Status(models.TextChoices):
        PROCESSING = "processing", _("Processing at WeChat Pay")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="+", verbose_name=_("payment")
    )
    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    out_order_no = models.CharField(max_length=64, verbose_name=_("out order no"))
    transaction_id = models.CharField(max_length=64, verbose_name=_("transaction id"))
    base_amount = _money(verbose_name=_("base amount"))  # what the rates were applied to
    amount = _money(verbose_name=_("amount"))  # total shared
    receivers = models.JSONField(default=list, blank=True, verbose_name=_("receivers"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROCESSING, verbose_name=_("status")
    )
    order_id = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("order id")
    )  # WeChat's
    raw = models.JSONField(null=True, blank=True, verbose_name=_("raw"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("profit sharing order")
        verbose_name_plural = _("profit sharing orders")
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


_S = ProfitSharingOrder.Status
PROFIT_SHARING_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.PROCESSING: frozenset({_S.FINISHED, _S.FAILED}),
    _S.FINISHED: frozenset(),
    _S.FAILED: frozenset(),
}
PROFIT_SHARING_ORDER_TRANSITIONS = PROFIT_SHARING_TRANSITIONS  # the name the convention finds


class OrderSettlement(TenantOwnedModel):
    """The merchant's ledger of one payable (an order): what was paid, what went back, what
    distributors and suppliers got, the gateway fee and the merchant's net, to the fen.
    Recomputed (same row) by ``settlement_compute_for``."""

    purpose = models.CharField(max_length=32, verbose_name=_("purpose"))
    reference = models.CharField(max_length=64, verbose_name=_("reference"))
    gateway = models.CharField(max_length=16, blank=True, default="", verbose_name=_("gateway"))
    gross = _money(verbose_name=_("gross"))
    refunds = _money(verbose_name=_("refunds"))
    commissions = _money(verbose_name=_("commissions"))
    supplier_shares = _money(verbose_name=_("supplier shares"))
    fee = _money(verbose_name=_("fee"))
    net = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), verbose_name=_("net")
    )
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("order settlement")
        verbose_name_plural = _("order settlements")
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
        return gettext("settlement of %(purpose)s %(reference)s: %(net)s") % {
            "purpose": self.purpose,
            "reference": self.reference,
            "net": self.net,
        }
