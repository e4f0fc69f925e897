"""``manage.py create_api_key``: a merchant open API key, printed once (only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mall.errors import ApplicationError
from mall.management.commands.create_tenant import application_error_text
from mall.tenancy.models import ApiKey, Tenant
from mall.tenancy.services import api_key_create


class Command(BaseCommand):
    help = "Create an open API key for a tenant and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"comma-separated, from: {', '.join(ApiKey.Scope.values)}",
        )
        parser.add_argument("--name", default="default", help="a label, e.g. erp or wms")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["tenant"].strip()
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        name: str = options["name"].strip() or "default"
        if len(name) > ApiKey._meta.get_field("name").max_length:  # type: ignore[operator]  # set
            raise CommandError("--name is too long (at most 100 characters).")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {slug!r}.")
        try:
            key, raw = api_key_create(tenant=tenant, scopes=scopes, name=name)
        except ApplicationError as exc:
            raise CommandError(application_error_text(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created API key #{key.pk} {key.name!r} for tenant {tenant.slug!r} "
                f"(scopes: {', '.join(key.scopes)})."
            )
        )
        self.stdout.write("Store it now; it is shown only this once:")
        self.stdout.write(raw)
