"""``manage.py seed_demo``: a demo shop to click through, safe to run again and again.

Without ``--tenant`` it creates (or reuses) the tenant ``demo`` with sandbox WeChat and Alipay
channels and an owner, then seeds it; with ``--tenant S`` it seeds an existing tenant.

The platform part (tenant, channels, owner) lives here. Each app adds its own demo data
(members, products, campaigns ...) through an optional module ``<app>.seed`` with
``seed(*, tenant, stdout) -> None`` (called in the order of ``SEED_APPS``, found by name: mall
imports no app above it); every such function must be idempotent.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from mall.errors import ApplicationError
from mall.management.commands.create_tenant import application_error_text
from mall.tenancy.models import Channel, Staff, Tenant
from mall.tenancy.services import tenant_create

SEED_APPS = ("members", "catalog", "promotions", "orders", "payments", "distribution")

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Shop"
DEMO_WECHAT_APP_ID = "wxdemo0000000001"
DEMO_ALIPAY_APP_ID = "2021000000000001"
DEMO_OWNER_EMAIL = "owner@demo.local"
# A local demo only: the password is printed on purpose.
DEMO_OWNER_PASSWORD = "demo-owner-pass"


def _ensure_demo_tenant() -> tuple[Tenant, bool]:
    """The demo tenant with its sandbox channels and owner; created on the first run."""
    tenant = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if tenant is None:
        try:
            created = tenant_create(
                slug=DEMO_SLUG,
                name=DEMO_NAME,
                owner_email=DEMO_OWNER_EMAIL,
                owner_password=DEMO_OWNER_PASSWORD,
                wechat_app_id=DEMO_WECHAT_APP_ID,
                wechat_app_secret="demo-sandbox-secret",
                alipay_app_id=DEMO_ALIPAY_APP_ID,
                sandbox=True,
            )
        except ApplicationError as exc:
            raise CommandError(application_error_text(exc)) from exc
        return created.tenant, True

    # Reuse: put back whatever is missing, never touch what an operator changed.
    for platform, app_id in (
        (Channel.Platform.WECHAT, DEMO_WECHAT_APP_ID),
        (Channel.Platform.ALIPAY, DEMO_ALIPAY_APP_ID),
    ):
        channel = Channel.objects.filter(app_id=app_id).first()
        if channel is None:
            Channel.objects.create(
                tenant=tenant,
                platform=platform,
                app_id=app_id,
                is_sandbox=True,
                name=f"{DEMO_NAME} {platform}",
            )
        elif channel.tenant_id != tenant.pk:
            raise CommandError(f"App id {app_id!r} belongs to another tenant.")
    User = get_user_model()
    owner = User.objects.filter(email__iexact=DEMO_OWNER_EMAIL).first()
    if owner is None:
        owner = User.objects.create_user(
            username=DEMO_OWNER_EMAIL, email=DEMO_OWNER_EMAIL, password=DEMO_OWNER_PASSWORD
        )
    Staff.objects.get_or_create(tenant=tenant, user=owner, defaults={"role": Staff.Role.OWNER})
    return tenant, False


class Command(BaseCommand):
    help = (
        "Seed demo data (members, categories, products, campaigns ... from each app's seed "
        "module). Without --tenant: creates or reuses the sandbox tenant 'demo'. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenant", default=None, help="seed this existing tenant (slug) instead of 'demo'"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str | None = options["tenant"]
        with transaction.atomic():
            if slug:
                tenant = Tenant.objects.filter(slug=slug.strip()).first()
                if tenant is None:
                    raise CommandError(
                        f"No tenant with slug {slug!r}; create it first with create_tenant."
                    )
                is_new = False
            else:
                tenant, is_new = _ensure_demo_tenant()
            verb = "Created" if is_new else "Seeding"
            self.stdout.write(f"{verb} tenant {tenant.slug!r} ({tenant.name}):")
            for app in SEED_APPS:
                module_name = f"{app}.seed"
                if importlib.util.find_spec(module_name) is None:
                    continue
                module = importlib.import_module(module_name)
                module.seed(tenant=tenant, stdout=self.stdout)

        self._print_summary(tenant)

    def _print_summary(self, tenant: Tenant) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in tenant {tenant.slug!r}."))
        for channel in Channel.objects.for_tenant(tenant).filter(is_active=True).order_by("id"):
            sandbox_note = " (sandbox)" if channel.is_sandbox else ""
            self.stdout.write(
                f"  {channel.get_platform_display()} app id: {channel.app_id}{sandbox_note}"
            )
        if tenant.slug == DEMO_SLUG:
            owner = get_user_model().objects.filter(email__iexact=DEMO_OWNER_EMAIL).first()
            if owner is not None and owner.check_password(DEMO_OWNER_PASSWORD):
                login = f"{owner.get_username()} / {DEMO_OWNER_PASSWORD}"
            else:
                login = f"{DEMO_OWNER_EMAIL} (password was changed since seeding)"
            self.stdout.write(f"  Console: /console/  login: {login}")
        first = Channel.objects.for_tenant(tenant).filter(is_active=True).order_by("id").first()
        if first is not None:
            port = os.environ.get("PORT", "8000")
            self.stdout.write(
                f"  Try: curl -H 'X-App-Id: {first.app_id}' "
                f"http://127.0.0.1:{port}/api/v1/categories"
            )
