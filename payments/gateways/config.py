"""Gateway configuration: set (configure_payments), the sandbox's generated keys, lookups."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ForbiddenError, InvalidInputError
from mall.tenancy.keys import normalize_private_key, normalize_public_key
from mall.tenancy.models import Tenant
from mall.tenancy.sandbox import sandbox_allowed
from mall.tenancy.services import channel_alipay_keys_set
from payments import lock_objects
from payments.errors import PaymentErrorCode
from payments.gateways.sandbox import generate_private_key_pem, public_pem_of
from payments.models import Gateway, GatewayConfig

REQUIRED = {
    Gateway.WECHAT: (
        "mch_id",
        "app_id",
        "serial_no",
        "private_key",
        "api_v3_key",
        "public_key",
        "public_key_id",
    ),
    Gateway.ALIPAY: ("app_id",),
}


@transaction.atomic
def gateway_config_set(*, tenant: Tenant, gateway: str, **values: Any) -> GatewayConfig:
    """Create or update the tenant's configuration of ``gateway``; unset values are kept.

    Alipay: one app has one key pair, kept on the Alipay channel of ``app_id`` (which must
    exist); ``private_key`` (the app's) and ``public_key`` (Alipay's) are stored there, where
    the login and phone numbers read them too, never on the configuration.
    """
    if gateway not in (Gateway.WECHAT, Gateway.ALIPAY):
        raise InvalidInputError("invalid_gateway", _("Gateway must be wechat or alipay."))
    alipay_keys: dict[str, str | None] = {}
    if gateway == Gateway.ALIPAY:
        alipay_keys = {
            "app_private_key": values.pop("private_key", None),
            "alipay_public_key": values.pop("public_key", None),
        }
    config = lock_objects.gateway_config_qs_for_update(
        tenant=tenant, gateway=gateway
    ).first() or GatewayConfig(tenant=tenant, gateway=gateway)
    for name, value in values.items():
        if value is None:
            continue
        if name == "private_key":
            value = normalize_private_key(value)
        elif name == "public_key":
            value = normalize_public_key(value)
        elif name == "api_v3_key" and len(value.encode()) != 32:
            raise InvalidInputError("invalid_key", _("The APIv3 key must be exactly 32 bytes."))
        elif isinstance(value, str):
            value = value.strip()
        setattr(config, name, value)
    missing = [f for f in REQUIRED[Gateway(gateway)] if not getattr(config, f)]
    if gateway == Gateway.ALIPAY and not missing:
        channel = channel_alipay_keys_set(tenant=tenant, app_id=config.app_id, **alipay_keys)
        config.private_key = config.public_key = ""  # the channel's, see above
        missing += [
            name
            for name, value in (
                ("private_key", channel.alipay_app_private_key),
                ("public_key", channel.alipay_public_key),
            )
            if not value
        ]
    if missing:
        raise InvalidInputError(
            "missing_values",
            _("Missing for %(gateway)s: %(missing)s.")
            % {"gateway": gateway, "missing": ", ".join(missing)},
            details={"missing": missing},
        )
    config.save()
    return config


def gateway_config_get(*, tenant: Tenant | int, gateway: str) -> GatewayConfig | None:
    return GatewayConfig.objects.for_tenant(tenant).filter(gateway=gateway, is_active=True).first()


def sandbox_config_ensure(*, tenant: Tenant) -> GatewayConfig:
    """The tenant's sandbox gateway, with keys generated on first use."""
    if not sandbox_allowed():
        raise ForbiddenError(
            PaymentErrorCode.SANDBOX_DISABLED,
            _("The sandbox gateway is disabled on this server (set MALL_ALLOW_SANDBOX=1)."),
        )
    config = GatewayConfig.objects.for_tenant(tenant).filter(gateway=Gateway.SANDBOX).first()
    if config is not None:
        return config
    signing_key = generate_private_key_pem()
    try:
        with transaction.atomic():
            return GatewayConfig.objects.create(
                tenant=tenant,
                gateway=Gateway.SANDBOX,
                is_sandbox=True,
                app_id=f"sandbox-{tenant.slug}"[:64],
                mch_id=f"sandbox-{tenant.pk}",
                serial_no=secrets.token_hex(20).upper(),
                private_key=generate_private_key_pem(),
                api_v3_key=secrets.token_hex(16),
                sandbox_signing_key=signing_key,
                public_key=public_pem_of(signing_key),
                public_key_id=f"PUB_KEY_ID_SANDBOX_{secrets.token_hex(8).upper()}",
            )
    except IntegrityError:  # created concurrently
        return GatewayConfig.objects.for_tenant(tenant).get(gateway=Gateway.SANDBOX)


def config_for_gateway(*, tenant: Tenant, gateway: str) -> GatewayConfig:
    if gateway == Gateway.SANDBOX:
        return sandbox_config_ensure(tenant=tenant)
    config = gateway_config_get(tenant=tenant, gateway=gateway)
    if config is None:
        raise ApplicationError(
            PaymentErrorCode.GATEWAY_NOT_CONFIGURED,
            _("This shop does not accept %(gateway)s payments.") % {"gateway": gateway},
        )
    return config
