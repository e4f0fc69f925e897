"""Tenancy core: the merchant (Tenant), its mini program apps (Channel), its staff and API keys."""

from __future__ import annotations

import hashlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.crypto import EncryptedTextField
from mall.tenancy.scoping import TenantOwnedModel, all_tenants


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("Unknown time zone: %(value)s"), params={"value": value}, code="invalid"
        ) from exc


class Tenant(models.Model):
    """A merchant. Every tenant-owned row points here."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class BusinessModel(models.TextChoices):
        B2C = "b2c", _("B2C (single merchant)")
        BBC = "bbc", _("BBC (marketplace)")
        S2B2C = "s2b2c", _("S2B2C (supplier to retailer)")

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9-]*$", _("lowercase letters, digits, dashes"))
        ],
        verbose_name=_("shop code"),
    )
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    business_model = models.CharField(
        _("business model"), max_length=8, choices=BusinessModel.choices, default=BusinessModel.B2C
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    # Operational settings (minutes/days); later issues read these.
    order_timeout_minutes = models.PositiveIntegerField(
        _("unpaid order timeout (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(7 * 24 * 60)],
    )
    auto_receive_days = models.PositiveIntegerField(
        _("auto-receive after (days)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    after_sale_days = models.PositiveIntegerField(
        _("after-sale window (days)"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(90)],
    )
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


# ``mall.tenancy.services.tenant_set_status`` applies it (platform operators only).
TENANT_TRANSITIONS: dict[str, frozenset[str]] = {
    Tenant.Status.ACTIVE: frozenset({Tenant.Status.SUSPENDED}),
    Tenant.Status.SUSPENDED: frozenset({Tenant.Status.ACTIVE}),
}


class Channel(TenantOwnedModel):
    """One mini program (or H5 site) of a tenant; its ``app_id`` identifies tenant and platform."""

    class Platform(models.TextChoices):
        WECHAT = "wechat", _("WeChat mini program")
        ALIPAY = "alipay", _("Alipay mini program")
        H5 = "h5", _("H5")

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    app_id = models.CharField(_("app id"), max_length=64, unique=True)
    app_secret = EncryptedTextField(_("app secret"), blank=True, default="")
    # Alipay: the app's private key (PEM) and Alipay's public key, for login calls.
    alipay_app_private_key = EncryptedTextField(_("Alipay app private key"), blank=True, default="")
    alipay_public_key = models.TextField(_("Alipay public key"), blank=True, default="")
    # Alipay: the app's content encryption key (AES, base64, "接口内容加密方式"), which
    # decrypts what my.getPhoneNumber answers.
    alipay_aes_key = EncryptedTextField(_("Alipay AES key"), blank=True, default="")
    is_sandbox = models.BooleanField(_("sandbox"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("mini program")
        verbose_name_plural = _("mini programs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(platform__in=["wechat", "alipay", "h5"]),
                name="channel_platform_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.app_id}"

    def validate_unique(self, exclude: Any = None) -> None:
        # App ids are unique across the platform, so the check looks at every tenant's.
        with all_tenants():
            super().validate_unique(exclude=exclude)


class Staff(TenantOwnedModel):
    """A console user's membership in a tenant, with a role."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Administrator")
        OPERATOR = "operator", _("Operator")
        FINANCE = "finance", _("Finance")
        SERVICE = "service", _("Customer service")

    class Language(models.TextChoices):
        BROWSER = "", _("Browser's language")
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", _("English")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OPERATOR)
    is_active = models.BooleanField(_("active"), default=True)
    # The console's language for this staff member; blank: the browser's (Accept-Language).
    language = models.CharField(
        _("language"), max_length=16, choices=Language.choices, default="", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="uniq_staff_user_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"


class ApiKey(TenantOwnedModel):
    """A merchant open API key. Only its SHA-256 hash is stored; the key is shown once."""

    class Scope(models.TextChoices):
        CATALOG = "catalog", _("Catalog and inventory")
        ORDERS = "orders", _("Orders and after-sales")
        MEMBERS = "members", _("Members")
        FINANCE = "finance", _("Finance")

    name = models.CharField(_("name"), max_length=100, default="default")
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class StaffInvitation(TenantOwnedModel):
    """An invitation to join a tenant's staff with a role, accepted through a mailed link.

    Only the SHA-256 hash of the link's token is stored. Pending until accepted, revoked or
    expired; accepted once (``mall/tenancy/invitations.py``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Staff.Role.choices)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "email"], name="staffinv_tenant_email")]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    def status_at(self, now: Any) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.PENDING
