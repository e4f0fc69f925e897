"""Forms of the console: login, tenant settings, write-only secrets, staff, API keys."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mall.api.errors import ApplicationError
from mall.console.services import console_user_for_email, staff_last_active_owner
from mall.tenancy.crypto import mask_secret
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant


class ConsoleAuthenticationForm(AuthenticationForm):
    """Admits active users with an active staff membership (``is_staff`` is not needed)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_membership": _("This account does not belong to any shop's staff."),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not Staff.objects.filter(user=user, is_active=True).exists():
            raise ValidationError(self.error_messages["no_membership"], code="no_membership")


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class TenantSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=timezone_choices)

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
    initial: dict[str, Any]
    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
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


class ChannelForm(WriteOnlySecretsFormMixin, forms.ModelForm):
    secret_fields = ("app_secret", "alipay_app_private_key")
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
            "is_sandbox",
            "is_active",
        ]


# --- Staff ------------------------------------------------------------------------------


def _role_choices(actor_role: str | None) -> list[tuple[str, str]]:
    """Only an owner may grant the owner role."""
    return [
        (value, label)
        for value, label in Staff.Role.choices
        if value != Staff.Role.OWNER or actor_role == Staff.Role.OWNER
    ]


class StaffAddForm(forms.ModelForm):
    """Add a staff member by email: an existing user, or a new one with an initial password."""

    email = forms.EmailField(label=_("Email"), help_text=_("The staff member's login email."))
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Only for a new user (ignored when the email already has an account)."),
    )
    actor_role: str | None = None

    class Meta:
        model = Staff
        fields = ["role", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(self.actor_role)
        self._user: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        email = cleaned.get("email")
        if not email:
            return cleaned
        from django.contrib.auth import get_user_model

        existing = get_user_model().objects.filter(email__iexact=email).order_by("id").first()
        password = cleaned.get("password") or ""
        if existing is None:
            if not password:
                self.add_error("password", _("Set an initial password for a new user."))
                return cleaned
            try:
                validate_password(password)
            except ValidationError as exc:
                self.add_error("password", exc)
                return cleaned
        elif Staff.objects.for_tenant(self.instance.tenant_id).filter(user=existing).exists():
            self.add_error("email", _("This user is already a staff member of this shop."))
        return cleaned

    def resolve_user(self) -> Any:
        """The user to attach (created here for a new email). Call inside the save transaction."""
        try:
            return console_user_for_email(
                email=self.cleaned_data["email"], password=self.cleaned_data.get("password")
            )
        except ApplicationError as exc:  # pragma: no cover - clean() already checked
            raise ValidationError(exc.message) from exc


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
            self.fields["role"].choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        original = Staff.objects.filter(pk=self.instance.pk).first()
        if original is None:
            return cleaned
        demoted = cleaned.get("role") != Staff.Role.OWNER or not cleaned.get("is_active", True)
        if demoted and staff_last_active_owner(staff=original):
            raise ValidationError(_("A shop needs at least one active owner."))
        return cleaned


# --- API keys ---------------------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, initial="default")
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple
    )


class TenantSwitchForm(forms.Form):
    tenant_id = forms.IntegerField(min_value=1)
