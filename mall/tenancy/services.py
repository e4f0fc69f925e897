"""Write paths of the tenancy core: tenants with owners and channels, API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from mall.api.errors import ApplicationError, InvalidInputError
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant
from mall.tenancy.selectors import channel_cache_clear


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
    h5_app_id: str | None = None,
    sandbox: bool = False,
    timezone: str = "Asia/Shanghai",
) -> TenantCreated:
    """Create a merchant with its owner (a console user) and its mini program channels."""
    if Tenant.objects.filter(slug=slug).exists():
        raise ApplicationError(
            "tenant_exists", f"A tenant with slug {slug!r} already exists.", status_code=409
        )
    with transaction.atomic():
        tenant = Tenant(slug=slug, name=name, timezone=timezone)
        try:
            tenant.full_clean()
        except ValidationError as exc:
            raise InvalidInputError(
                "validation_error", "Invalid tenant.", details=exc.message_dict
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
                raise ApplicationError(
                    "app_id_taken", f"App id {app_id!r} is already registered.", status_code=409
                )
            channels.append(
                Channel.objects.create(
                    tenant=tenant,
                    platform=platform,
                    app_id=app_id,
                    app_secret=secret,
                    is_sandbox=sandbox,
                    name=f"{name} {platform}",
                )
            )
    return TenantCreated(
        tenant=tenant,
        owner_email=owner_email.lower(),
        owner_password=new_password,
        channels=channels,
    )


def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    """Suspend or re-activate a merchant (platform operators only)."""
    if status not in Tenant.Status.values:
        raise InvalidInputError("validation_error", f"Unknown status {status!r}.")
    Tenant.objects.filter(pk=tenant.pk).update(status=status)
    channel_cache_clear()  # .update() sends no signal
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
            f"Scopes must be a non-empty subset of {', '.join(ApiKey.Scope.values)}.",
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
