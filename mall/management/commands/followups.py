"""``manage.py followups``: see and relay the follow-ups (work recorded with a state change)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from mall.followups.models import FollowUp
from mall.followups.services import followup_retry, followups_relay


class Command(BaseCommand):
    help = (
        "Show the follow-ups by status, publish those that are due now (what the beat sweep "
        "does every 30 s), or give failed ones a new round of attempts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--relay", action="store_true", help="publish what is due now")
        parser.add_argument(
            "--retry-failed", action="store_true", help="re-arm every failed follow-up"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["retry_failed"]:
            failed = FollowUp.objects.filter(status=FollowUp.Status.FAILED)
            count = sum(
                followup_retry(tenant=tenant_id, followup_id=pk)
                for pk, tenant_id in failed.values_list("pk", "tenant_id")
            )
            self.stdout.write(f"re-armed {count} failed follow-up(s)")
        if options["relay"]:
            self.stdout.write(f"published {followups_relay()} follow-up(s)")
        counts = dict(
            FollowUp.objects.order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        for status in FollowUp.Status.values:
            self.stdout.write(f"{status}: {counts.get(status, 0)}")
