"""``manage.py sandbox_pay --tenant S --order NUMBER``: the sandbox gateway pays an order.

It delivers a signed notification through the same verification and transition code as a
real gateway. Refused unless DEBUG or MALL_ALLOW_SANDBOX=1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mall.errors import ApplicationError
from mall.tenancy.models import Tenant
from mall.tenancy.sandbox import sandbox_allowed
from payments.collection.sandbox import sandbox_pay


class Command(BaseCommand):
    help = "Pay an order (or another payable) through the sandbox gateway (demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--order", required=True, help="order number (the reference)")
        parser.add_argument("--purpose", default="order", help="payment purpose (default order)")

    def handle(self, *args: Any, **o: Any) -> None:
        if not sandbox_allowed():
            raise CommandError("The sandbox is disabled (DEBUG off and MALL_ALLOW_SANDBOX unset).")
        tenant = Tenant.objects.filter(slug=o["tenant"].strip()).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {o['tenant']!r}.")
        try:
            payment = sandbox_pay(tenant=tenant, purpose=o["purpose"], reference=o["order"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        accepted = {True: "accepted", False: "refused: refunded automatically", None: "-"}
        self.stdout.write(
            self.style.SUCCESS(
                f"{payment.out_trade_no}: {payment.status} ({o['purpose']} {o['order']} "
                f"{accepted[payment.purpose_accepted]})"
            )
        )
