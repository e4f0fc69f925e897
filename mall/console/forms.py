"""Forms of the console: login, tenant settings, write-only secrets, staff, API keys."""

from __future__ import annotations

import base64
import binascii
import zoneinfo
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mall.console.login_guard import (
    client_ip,
    login_failure_record,
    login_locked,
    login_success_record,
)
from mall.console.services import staff_last_active_owner
from mall.errors import ApplicationError
from mall.tenancy.crypto import mask_secret
from mall.tenancy.keys import normalize_private_key, normalize_public_key
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant


class LoginGuardMixin:
    """Refuses logins of a locked account name or IP before the password is checked, counts
    failed passwords and clears the account's counter on success (``login_guard``)."""

    request: Any
    cleaned_data: dict[str, Any]
    locked_message = _(
        "Too many failed sign-in attempts. Sign-in is paused for %(minutes)d minutes; "
        "try again later or ask your shop's owner to check the account."
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()  # type: ignore[misc]
        ip = client_ip(self.request.META) if self.request is not None else None
        if login_locked(username=username, ip=ip):
            raise self.locked_error()
        try:
            cleaned = super().clean()  # type: ignore[misc]
        except ValidationError as exc:
            failed_password = getattr(exc, "code", None) == "invalid_login"
            if failed_password and login_failure_record(username=username, ip=ip):
                raise self.locked_error() from exc
            raise
        login_success_record(username=username)
        return cleaned

    def locked_error(self) -> ValidationError:
        minutes = max(1, -(-settings.CONSOLE_LOGIN_LOCKOUT_SECONDS // 60))
        return ValidationError(self.locked_message, code="locked_out", params={"minutes": minutes})


class ConsoleAuthenticationForm(LoginGuardMixin, AuthenticationForm):
    """Admits active users with an active staff membership (``is_staff`` is not needed)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_membership": _("This account does not belong to any shop's staff."),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        # A user's memberships span tenants (the console finds its shop from them).
        if not Staff.objects.all_tenants().filter(user=user, is_active=True).exists():
            raise ValidationError(self.error_messages["no_membership"], code="no_membership")


class PlatformAuthenticationForm(LoginGuardMixin, AdminAuthenticationForm):
    """The platform admin's (/admin/) login, with the same lockout as the console's."""


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TenantSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Timezone"), choices=timezone_choices)

    class Meta:
        model = Tenant
        fields = [
            "name",
            "timezone",
            "order_timeout_minutes",
            "auto_receive_days",
            "after_sale_days",
        ]


# --- Write-only secrets -----------------------------------------------------------------


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value (not even the one just posted)."""

    def format_value(self, value: Any) -> None:
        return None

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


class WriteOnlySecretsFormMixin:
    """Model form mixin: ``secret_fields`` are write-only; blank keeps the stored value.

    The widget never renders the stored (decrypted) value; the help text shows a mask.
    """

    secret_fields: tuple[str, ...] = ()
    multiline_secret_fields: tuple[str, ...] = ()
    instance: Any
    fields: dict[str, forms.Field]
    initial: MutableMapping[str, Any]
    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            if name not in self.fields:
                continue
            self.initial.pop(name, None)
            field = self.fields[name]
            field.required = False
            field.widget = (
                WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off"})
                if name in self.multiline_secret_fields
                else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            )
            current = getattr(self.instance, name, "") if self.instance.pk else ""
            field.help_text = (
                _("Currently set (%(masked)s). Leave blank to keep it.")
                % {"masked": mask_secret(current)}
                if current
                else _("Not set.")
            )

    def _clean_secret(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value and self.instance.pk:
            return getattr(self.instance, name, "") or ""
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        for name in self.secret_fields:
            if name in self.fields:
                cleaned[name] = self._clean_secret(name)
        return cleaned


_ALIPAY_ONE_PAIR = _(
    "Alipay channels only. The app's one key pair serves login, payments and phone numbers; "
    "configure_payments --gateway alipay sets the same keys."
)


class ChannelForm(WriteOnlySecretsFormMixin, forms.ModelForm):
    secret_fields = ("app_secret", "alipay_app_private_key", "alipay_aes_key")
    multiline_secret_fields = ("alipay_app_private_key",)

    class Meta:
        model = Channel
        fields = [
            "platform",
            "name",
            "app_id",
            "app_secret",
            "alipay_app_private_key",
            "alipay_public_key",
            "alipay_aes_key",
            "is_sandbox",
            "is_active",
        ]
        help_texts = {
            "alipay_app_private_key": _ALIPAY_ONE_PAIR,
            "alipay_public_key": _(
                "Alipay's public key of this app (PEM, or the bare base64 Alipay shows). "
                "Alipay channels only. The app's one key pair serves login, payments and phone "
                "numbers; configure_payments --gateway alipay sets the same keys."
            ),
            "alipay_aes_key": _(
                "Alipay channels only: the content encryption (AES) key set for this app in "
                "Alipay's console. Needed to read the phone number a shopper shares."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("alipay_app_private_key")
        if field is not None:
            field.help_text = f"{field.help_text} {_ALIPAY_ONE_PAIR}"

    def clean(self) -> dict[str, Any]:
        """New Alipay keys are checked and normalized as configure_payments does."""
        cleaned = super().clean()
        checks = (
            ("alipay_app_private_key", normalize_private_key),
            ("alipay_public_key", normalize_public_key),
        )
        for name, normalize in checks:
            value = (cleaned.get(name) or "").strip()
            if not value or value == (getattr(self.instance, name, "") or "").strip():
                continue  # unchanged: kept as stored
            try:
                cleaned[name] = normalize(value)
            except ApplicationError as exc:
                self.add_error(name, str(exc.message))
        aes_key = (cleaned.get("alipay_aes_key") or "").strip()
        if aes_key and aes_key != (self.instance.alipay_aes_key or "").strip():
            try:
                valid = len(base64.b64decode(aes_key, validate=True)) in (16, 24, 32)
            except (ValueError, binascii.Error):
                valid = False
            if not valid:
                self.add_error(
                    "alipay_aes_key",
                    _("Not an AES key: paste the base64 key Alipay's console shows."),
                )
            else:
                cleaned["alipay_aes_key"] = aes_key
        return cleaned


# --- Staff ------------------------------------------------------------------------------


def _role_choices(actor_role: str | None) -> list[tuple[str, Any]]:
    """Only an owner may grant the owner role."""
    return [
        (value, label)
        for value, label in Staff.Role.choices
        if value != Staff.Role.OWNER or actor_role == Staff.Role.OWNER
    ]


class StaffInviteForm(forms.Form):
    """Invite a staff member by e-mail; the answer never says whether the address has an
    account."""

    email = forms.EmailField(label=_("E-mail"), help_text=_("Where the invitation is sent."))
    role = forms.ChoiceField(label=_("Role"), choices=Staff.Role.choices)

    def __init__(self, *args: Any, actor_role: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(actor_role)  # type: ignore[attr-defined]  # a ChoiceField


class InvitationSignInForm(LoginGuardMixin, AuthenticationForm):
    """The invitee's password, for an address that already has an account (locks like the
    console's login)."""


class StaffChangeForm(forms.ModelForm):
    actor_role: str | None = None

    class Meta:
        model = Staff
        fields = ["role", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "role" in self.fields:
            choices = _role_choices(self.actor_role)
            if self.instance.role == Staff.Role.OWNER and all(
                v != Staff.Role.OWNER for v, _ in choices
            ):
                choices = [(Staff.Role.OWNER.value, Staff.Role.OWNER.label), *choices]
            self.fields["role"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # a ModelForm's clean() returns cleaned_data
        original = (
            Staff.objects.for_tenant(self.instance.tenant_id).filter(pk=self.instance.pk).first()
        )
        if original is None:
            return cleaned
        demoted = cleaned.get("role") != Staff.Role.OWNER or not cleaned.get("is_active", True)
        if demoted and staff_last_active_owner(staff=original):
            raise ValidationError(_("A shop needs at least one active owner."))
        return cleaned


# --- API keys ---------------------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, initial="default")
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple
    )


class TenantSwitchForm(forms.Form):
    tenant_id = forms.IntegerField(label=_("Tenant id"), min_value=1)
