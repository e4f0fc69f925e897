"""``manage.py reconcile_payments --tenant S --date D [--gateway wechat|alipay]``.

Downloads the gateways' bills of day D (Beijing time) and reports mismatches with our
records (also stored for the console: Payments → Reconciliation runs). Exits non-zero when
a bill could not be fetched or mismatches were found (for cron and alerting).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mall.tenancy.models import Tenant
from payments.models import ReconciliationRun
from payments.reconciliation.services import reconcile


class Command(BaseCommand):
    help = "Reconcile a day's WeChat Pay / Alipay bills with our payments and refunds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--date", required=True, help="bill date, YYYY-MM-DD (Beijing)")
        parser.add_argument("--gateway", choices=["wechat", "alipay"], default=None)

    def handle(self, *args: Any, **o: Any) -> None:
        tenant = Tenant.objects.filter(slug=o["tenant"].strip()).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {o['tenant']!r}.")
        try:
            bill_date = date.fromisoformat(o["date"])
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD.") from None
        runs = reconcile(tenant=tenant, bill_date=bill_date, gateway=o["gateway"])
        if not runs:
            raise CommandError("No active WeChat Pay or Alipay configuration for this tenant.")
        bad = False
        for run in runs:
            line = (
                f"{run.gateway} {run.bill_date}: {run.status} — bill {run.bill_rows} rows, "
                f"ours {run.our_rows}, mismatches {run.mismatch_count}"
            )
            if run.status == ReconciliationRun.Status.MATCHED:
                self.stdout.write(self.style.SUCCESS(line))
                continue
            bad = True
            self.stdout.write(self.style.ERROR(line + (f" ({run.error})" if run.error else "")))
            for m in run.mismatches.all():
                self.stdout.write(
                    f"  {m.kind} {m.entry} {m.out_trade_no} {m.out_refund_no} "
                    f"ours={m.ours} theirs={m.theirs}"
                )
        if bad:
            raise CommandError("Reconciliation found problems (see above).")
