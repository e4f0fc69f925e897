"""Read paths of the console dashboard about distribution (registered in
``distribution/admin.py``): withdrawals to approve and the distributor funnel."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from distribution.models import Commission, Distributor, Withdrawal
from mall.console.dashboard import (
    ChartData,
    ChartSeries,
    register_dashboard_chart,
    register_dashboard_todo,
)
from mall.tenancy.models import Tenant

FUNNEL_STEPS = ("applied", "approved", "earning", "withdrawn")


def withdrawals_to_approve_count(tenant: Tenant, now: datetime) -> int:
    """Withdrawal requests waiting for finance."""
    return Withdrawal.objects.for_tenant(tenant).filter(status=Withdrawal.Status.REQUESTED).count()


WITHDRAWALS_TO_APPROVE_QUERY: dict[str, str] = {"status__exact": Withdrawal.Status.REQUESTED}


def distributor_funnel(tenant: Tenant, now: datetime) -> ChartData:
    """Distributors since the programme started: applied (every application), approved (now
    approved or frozen, i.e. approved once), earning (at least one commission not reversed)
    and withdrawn (at least one withdrawal paid out). One query."""
    earning = Commission.objects.filter(
        tenant_id=OuterRef("tenant_id"), beneficiary_id=OuterRef("pk")
    ).exclude(status=Commission.Status.REVERSED)
    withdrawn = Withdrawal.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        distributor_id=OuterRef("pk"),
        status=Withdrawal.Status.PAID,
    )
    row = (
        Distributor.objects.for_tenant(tenant)
        .annotate(is_earning=Exists(earning), has_withdrawn=Exists(withdrawn))
        .aggregate(
            applied=Count("id"),
            approved=Count(
                "id",
                filter=Q(status__in=[Distributor.Status.APPROVED, Distributor.Status.FROZEN]),
            ),
            earning=Count("id", filter=Q(is_earning=True)),
            withdrawn=Count("id", filter=Q(has_withdrawn=True)),
        )
    )
    return ChartData(
        categories=list(FUNNEL_STEPS), series={"distributors": [row[s] for s in FUNNEL_STEPS]}
    )


FUNNEL_LABELS = {
    "applied": _("Applied"),
    "approved": _("Approved"),
    "earning": _("Earning commission"),
    "withdrawn": pgettext_lazy("distribution funnel", "Withdrawn"),
}


def dashboard_register() -> None:
    """Called once from ``distribution/admin.py``."""
    register_dashboard_todo(
        "withdrawals_to_approve",
        _("Withdrawals to approve"),
        withdrawals_to_approve_count,
        model=Withdrawal,
        query=WITHDRAWALS_TO_APPROVE_QUERY,
        order=40,
    )
    register_dashboard_chart(
        "distributor_funnel",
        _("Distribution funnel"),
        distributor_funnel,
        model=Distributor,
        type="bar",
        horizontal=True,
        series=[ChartSeries("distributors", _("Distributors"), "count")],
        category_label=FUNNEL_LABELS.__getitem__,
        help=_("Distributors since the programme started, at each step."),
        order=50,
    )
