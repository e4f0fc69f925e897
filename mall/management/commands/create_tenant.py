"""``manage.py create_tenant``: a merchant with its owner and its mini program channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import IntegrityError

from mall.errors import ApplicationError
from mall.tenancy.services import tenant_create


def application_error_text(exc: ApplicationError) -> str:
    """One line for an operator: the message, then field errors if any."""
    if not exc.details:
        return str(exc.message)
    parts = []
    for field, problems in exc.details.items():
        text = "; ".join(str(p) for p in problems) if isinstance(problems, list) else problems
        parts.append(f"{field}: {text}")
    return f"{exc.message} ({', '.join(parts)})"


def _read(path: str | None, what: str) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} file {path!r}: {exc.strerror}") from exc


class Command(BaseCommand):
    help = (
        "Create a merchant (tenant) with its owner (a console user) and its WeChat/Alipay "
        "mini program channels. Prints the owner's password when a new user was created."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="URL-safe id: a-z, 0-9 and dashes")
        parser.add_argument("--name", required=True, help="the shop's display name")
        parser.add_argument("--owner-email", required=True, help="owner's console login")
        parser.add_argument("--wechat-app-id", default=None, help="WeChat mini program app id")
        parser.add_argument("--wechat-app-secret", default="", help="WeChat mini program secret")
        parser.add_argument("--alipay-app-id", default=None, help="Alipay mini program app id")
        parser.add_argument(
            "--alipay-app-private-key-file",
            default=None,
            help="the Alipay app's private key (PEM); login, payments and phone numbers use it",
        )
        parser.add_argument(
            "--alipay-public-key-file",
            default=None,
            help="Alipay's public key for this app (PEM or the bare base64 Alipay shows)",
        )
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="channels answer logins themselves (development only; refused when DEBUG is "
            "off unless MALL_ALLOW_SANDBOX=1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"].strip()
        name: str = options["name"].strip()
        email: str = options["owner_email"].strip()
        wechat_app_id: str | None = (options["wechat_app_id"] or "").strip() or None
        wechat_secret: str = options["wechat_app_secret"] or ""
        alipay_app_id: str | None = (options["alipay_app_id"] or "").strip() or None
        sandbox: bool = options["sandbox"]
        alipay_private = _read(options["alipay_app_private_key_file"], "Alipay app private key")
        alipay_public = _read(options["alipay_public_key_file"], "Alipay public key")

        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--owner-email {email!r} is not a valid email address.") from exc
        if not name:
            raise CommandError("--name must not be empty.")
        if wechat_secret and not wechat_app_id:
            raise CommandError("--wechat-app-secret needs --wechat-app-id.")
        if wechat_app_id and not wechat_secret and not sandbox:
            self.stderr.write(
                "Warning: no --wechat-app-secret given; WeChat logins will fail until it is set."
            )
        if (alipay_private or alipay_public) and not alipay_app_id:
            raise CommandError("The Alipay key files need --alipay-app-id.")
        if wechat_app_id and wechat_app_id == alipay_app_id:
            raise CommandError("The WeChat and Alipay app ids must differ.")

        try:
            created = tenant_create(
                slug=slug,
                name=name,
                owner_email=email,
                wechat_app_id=wechat_app_id,
                wechat_app_secret=wechat_secret,
                alipay_app_id=alipay_app_id,
                alipay_app_private_key=alipay_private,
                alipay_public_key=alipay_public,
                sandbox=sandbox,
            )
        except ApplicationError as exc:
            raise CommandError(application_error_text(exc)) from exc
        except IntegrityError as exc:  # lost a race with a concurrent create
            raise CommandError(f"Tenant {slug!r} or one of its app ids already exists.") from exc

        tenant = created.tenant
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.slug!r} ({tenant.name})."))
        for channel in created.channels:
            sandbox_note = " (sandbox)" if channel.is_sandbox else ""
            keys_note = " (keys set)" if channel.alipay_app_private_key else ""
            self.stdout.write(
                f"  {channel.get_platform_display()}: {channel.app_id}{sandbox_note}{keys_note}"
            )
        if created.owner_password is not None:
            self.stdout.write(
                f"  Owner: {created.owner_email}  password: {created.owner_password}  "
                "(shown once; change it after the first login)"
            )
        else:
            self.stdout.write(f"  Owner: {created.owner_email} (existing user, password unchanged)")
