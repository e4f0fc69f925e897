"""``manage.py import_products --tenant S FILE.csv|xlsx``: all rows valid, or nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importer import ImportInvalid, products_import
from mall.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Import products (one row per SKU) from a CSV or XLSX file into a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate only")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            with path.open("rb") as stream:
                result = products_import(
                    tenant=tenant, name=path.name, stream=stream, dry_run=options["dry_run"]
                )
        except ImportInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"row {error.row}, column {error.column or '-'}: {error.reason}")
            raise CommandError(exc.message) from exc
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {result.skus} SKU(s): {result.products_created} product(s) created, "
            f"{result.products_updated} updated, {result.categories_created} categories created."
        )
