"""``python manage.py settle_commissions [--tenant S] [--dry-run] [--workers N]``: settle what is
due now (``--workers 2`` on PostgreSQL: two connections in parallel)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from distribution.services import commissions_settle_due
from mall.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Settle pending commissions of completed orders and credit the distributors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="Only this tenant (slug).")
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument(
            "--workers", type=int, default=1, help="Parallel connections (PostgreSQL)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant {options['tenant']!r}.")
            tenant_id = tenant.pk
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        result = commissions_settle_due(
            tenant_id=tenant_id, dry_run=options["dry_run"], workers=options["workers"]
        )
        verb = "Would settle" if options["dry_run"] else "Settled"
        self.stdout.write(
            f"{verb} {result.count} commissions, {result.amount} CNY, "
            f"{result.distributors} distributor credits."
        )
