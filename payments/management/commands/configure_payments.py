"""``manage.py configure_payments``: a tenant's WeChat Pay or Alipay merchant keys.

Alipay keys are the app's one key pair and are stored on the tenant's Alipay channel of that
app id (login and phone numbers use them too); ``create_tenant`` can set them as well.

Secrets are read from files (never from the command line, except the APIv3 key as API.md
defines), stored encrypted, and printed back masked only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mall.errors import ApplicationError
from mall.management.commands.create_tenant import application_error_text
from mall.tenancy.crypto import mask_secret
from mall.tenancy.models import Channel, Tenant
from mall.tenancy.selectors import channel_app_ids
from payments.gateways.config import gateway_config_set
from payments.models import GatewayConfig


def _default_app_id(tenant: Tenant, gateway: str) -> str:
    """The app id of the tenant's only mini program on this gateway's platform."""
    platform = Channel.Platform.WECHAT if gateway == "wechat" else Channel.Platform.ALIPAY
    label = Channel.Platform(platform).label
    app_ids = channel_app_ids(tenant=tenant, platform=platform)
    if len(app_ids) == 1:
        return app_ids[0]
    if not app_ids:
        raise CommandError(
            f"Tenant {tenant.slug!r} has no {label} channel to take the app id from; "
            f"give --app-id (or add the channel with create_tenant or in the console)."
        )
    raise CommandError(
        f"Tenant {tenant.slug!r} has several {label} channels; choose one with --app-id: "
        f"{', '.join(app_ids)}."
    )


def _read(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} file {path!r}: {exc.strerror}") from exc


class Command(BaseCommand):
    help = "Set a tenant's payment gateway keys (WeChat Pay APIv3 or Alipay); shown masked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--gateway", required=True, choices=["wechat", "alipay"])
        parser.add_argument(
            "--app-id",
            default=None,
            help="mini program app id (both gateways); default: the tenant's only channel of "
            "the gateway's platform",
        )
        parser.add_argument("--mch-id", default=None, help="WeChat Pay merchant id")
        parser.add_argument("--serial-no", default=None, help="merchant API certificate serial")
        parser.add_argument("--private-key-file", default=None, help="merchant API private key")
        parser.add_argument("--api-v3-key", default=None, help="WeChat Pay APIv3 key (32 bytes)")
        parser.add_argument(
            "--platform-public-key-file",
            default=None,
            help="WeChat Pay platform public key (or certificate) PEM",
        )
        parser.add_argument(
            "--platform-serial",
            default=None,
            help="its id (PUB_KEY_ID_...), the Wechatpay-Serial of notifications",
        )
        parser.add_argument("--app-private-key-file", default=None, help="Alipay app private key")
        parser.add_argument("--alipay-public-key-file", default=None, help="Alipay public key")
        parser.add_argument("--disable", action="store_true", help="stop accepting this gateway")
        parser.add_argument("--enable", action="store_true", help="accept this gateway again")

    def handle(self, *args: Any, **o: Any) -> None:
        tenant = Tenant.objects.filter(slug=o["tenant"].strip()).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {o['tenant']!r}.")
        gateway = o["gateway"]
        values: dict[str, Any] = {}
        if gateway == "wechat":
            values.update(
                mch_id=o["mch_id"],
                serial_no=o["serial_no"],
                private_key=_read(o["private_key_file"], "private key"),
                api_v3_key=o["api_v3_key"],
                public_key=_read(o["platform_public_key_file"], "platform public key"),
                public_key_id=o["platform_serial"],
            )
        else:
            values.update(
                private_key=_read(
                    o["app_private_key_file"] or o["private_key_file"], "app private key"
                ),
                public_key=_read(o["alipay_public_key_file"], "Alipay public key"),
            )
        app_id = (o["app_id"] or "").strip() or None
        if app_id is None:
            stored = (
                GatewayConfig.objects.for_tenant(tenant)
                .filter(gateway=gateway)
                .values_list("app_id", flat=True)
                .first()
            )
            if not stored:
                app_id = _default_app_id(tenant, gateway)
        values["app_id"] = app_id
        if o["disable"]:
            values["is_active"] = False
        elif o["enable"]:
            values["is_active"] = True
        try:
            config = gateway_config_set(tenant=tenant, gateway=gateway, **values)
        except ApplicationError as exc:
            raise CommandError(application_error_text(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{gateway} configured for {tenant.slug}:"))
        rows = [
            ("active", str(config.is_active)),
            ("app id", config.app_id),
            ("mch id", config.mch_id),
            ("serial no", config.serial_no),
            ("private key", config.masked("private_key")),
            ("APIv3 key", config.masked("api_v3_key")),
            ("public key id", config.public_key_id),
            ("public key", "set" if config.public_key else ""),
        ]
        if gateway == "alipay":
            channel = Channel.objects.for_tenant(tenant).get(
                platform=Channel.Platform.ALIPAY, app_id=config.app_id
            )
            rows[4] = (
                "app private key (on the channel)",
                mask_secret(channel.alipay_app_private_key),
            )
            rows[7] = (
                "Alipay public key (on the channel)",
                "set" if channel.alipay_public_key else "",
            )
        for label, value in rows:
            if value:
                self.stdout.write(f"  {label}: {value}")
