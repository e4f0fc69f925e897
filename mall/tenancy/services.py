"""Write paths of the tenancy core: tenants with owners and channels, API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mall import lock_objects
from mall.errors import ConflictError, InvalidInputError
from mall.tenancy.keys import normalize_private_key, normalize_public_key
from mall.tenancy.models import TENANT_TRANSITIONS, ApiKey, Channel, Staff, Tenant
from mall.tenancy.selectors import channels_changed
from mall.transitions import transition_apply, transition_update


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    owner_email: str
    owner_password: str | None  # set only when a new user was created
    channels: list[Channel]


def tenant_create(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    wechat_app_id: str | None = None,
    wechat_app_secret: str = "",
    alipay_app_id: str | None = None,
    alipay_app_private_key: str | None = None,
    alipay_public_key: str | None = None,
    h5_app_id: str | None = None,
    sandbox: bool = False,
    timezone: str = "Asia/Shanghai",
) -> TenantCreated:
    """Create a merchant with its owner (a console user) and its mini program channels.

    The Alipay keys (the app's private key, Alipay's public key) go on the Alipay channel:
    its login, payments and phone numbers all use that one key pair.
    """
    if (alipay_app_private_key or alipay_public_key) and not alipay_app_id:
        raise InvalidInputError("missing_values", _("Alipay keys need the Alipay app id."))
    alipay_keys = {
        "alipay_app_private_key": (
            normalize_private_key(alipay_app_private_key) if alipay_app_private_key else ""
        ),
        "alipay_public_key": normalize_public_key(alipay_public_key) if alipay_public_key else "",
    }
    if Tenant.objects.filter(slug=slug).exists():
        raise ConflictError(
            "tenant_exists", _("A tenant with slug %(slug)r already exists.") % {"slug": slug}
        )
    with transaction.atomic():
        tenant = Tenant(slug=slug, name=name, timezone=timezone)
        try:
            tenant.full_clean()
        except ValidationError as exc:
            raise InvalidInputError(
                "validation_error", _("Invalid tenant."), details=exc.message_dict
            ) from exc
        tenant.save()

        User = get_user_model()
        user = User.objects.filter(email__iexact=owner_email).first()
        new_password: str | None = None
        if user is None:
            new_password = owner_password or secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=owner_email.lower(), email=owner_email.lower(), password=new_password
            )
        Staff.objects.create(tenant=tenant, user=user, role=Staff.Role.OWNER)

        channels: list[Channel] = []
        for platform, app_id, secret in (
            (Channel.Platform.WECHAT, wechat_app_id, wechat_app_secret),
            (Channel.Platform.ALIPAY, alipay_app_id, ""),
            (Channel.Platform.H5, h5_app_id, ""),
        ):
            if not app_id:
                continue
            if Channel.objects.filter(app_id=app_id).exists():
                raise ConflictError(
                    "app_id_taken",
                    _("App id %(app_id)r is already registered.") % {"app_id": app_id},
                )
            channels.append(
                Channel.objects.create(
                    tenant=tenant,
                    platform=platform,
                    app_id=app_id,
                    app_secret=secret,
                    is_sandbox=sandbox,
                    name=f"{name} {platform}",
                    **(alipay_keys if platform == Channel.Platform.ALIPAY else {}),
                )
            )
    return TenantCreated(
        tenant=tenant,
        owner_email=owner_email.lower(),
        owner_password=new_password,
        channels=channels,
    )


def alipay_channel_for_update(*, tenant: Tenant | int, app_id: str) -> Channel:
    """The tenant's Alipay channel with this app id, locked (call inside a transaction)."""
    channel = lock_objects.alipay_channel_qs_for_update(tenant=tenant, app_id=app_id).first()
    if channel is None:
        raise InvalidInputError(
            "channel_not_found",
            _(
                "This tenant has no Alipay mini program with app id %(app_id)r; add the channel "
                "first (create_tenant --alipay-app-id or the console)."
            )
            % {"app_id": app_id},
            details={"app_id": [f"no Alipay channel {app_id!r}"]},
        )
    return channel


@transaction.atomic
def channel_alipay_keys_set(
    *,
    tenant: Tenant | int,
    app_id: str,
    app_private_key: str | None = None,
    alipay_public_key: str | None = None,
) -> Channel:
    """Set the one key pair of an Alipay app (used for login, payments and phone numbers).

    Keys are normalized (PKCS#8 private key, PEM public key; a bare base64 Alipay public key is
    accepted); ``None`` keeps the stored value.
    """
    private = normalize_private_key(app_private_key) if app_private_key is not None else None
    public = normalize_public_key(alipay_public_key) if alipay_public_key is not None else None
    channel = alipay_channel_for_update(tenant=tenant, app_id=app_id)
    if private is not None:
        channel.alipay_app_private_key = private
    if public is not None:
        channel.alipay_public_key = public
    channel.save(update_fields=["alipay_app_private_key", "alipay_public_key"])
    return channel


def tenant_transition(tenant: Tenant, to: str) -> bool:
    """The status change of a tenant, checked against ``TENANT_TRANSITIONS`` (409 when not
    allowed; ``False`` when already there). The caller saves."""
    return transition_apply(tenant, TENANT_TRANSITIONS, to, entity="tenant")


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    """Suspend or re-activate a merchant (platform operators only)."""
    if status not in Tenant.Status.values:
        raise InvalidInputError(
            "validation_error", _("Unknown status %(status)r.") % {"status": status}
        )
    transition_update(Tenant.objects.filter(pk=tenant.pk), TENANT_TRANSITIONS, status)
    channels_changed()  # .update() sends no signal
    tenant.refresh_from_db()
    return tenant


def api_key_create(
    *, tenant: Tenant, scopes: list[str], name: str = "default"
) -> tuple[ApiKey, str]:
    """Create an open API key; returns the key row and the raw key (shown once, never stored)."""
    unknown = sorted(set(scopes) - set(ApiKey.Scope.values))
    if not scopes or unknown:
        raise InvalidInputError(
            "invalid_scopes",
            _("Scopes must be a non-empty subset of %(scopes)s.")
            % {"scopes": ", ".join(ApiKey.Scope.values)},
            details={"unknown": unknown},
        )
    prefix = secrets.token_hex(4)
    raw = f"mk_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        prefix=prefix,
        key_hash=ApiKey.hash_key(raw),
        scopes=sorted(set(scopes)),
    )
    return key, raw


def api_key_revoke(*, tenant: Tenant, key_id: int) -> None:
    ApiKey.objects.for_tenant(tenant).filter(pk=key_id).update(is_active=False)
