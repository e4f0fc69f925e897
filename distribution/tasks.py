"""Celery tasks of distribution: thin wrappers over the services."""

from __future__ import annotations

from decimal import Decimal

from celery import shared_task

from distribution import services


@shared_task(name="distribution.tasks.commissions_create")
def commissions_create(order_id: int) -> int:
    """Schedule with ``transaction.on_commit`` after the paid transition."""
    return services.commissions_create_for_order(order_id=order_id)


@shared_task(name="distribution.tasks.commissions_reverse")
def commissions_reverse(order_id: int, line_refunds: dict[str, str], refund_ref: str) -> int:
    """JSON-friendly wrapper: ``line_refunds`` maps line ids to amounts as strings."""
    return services.commissions_reverse_for_refund(
        order_id=order_id,
        line_refunds={int(k): Decimal(v) for k, v in line_refunds.items()},
        refund_ref=refund_ref,
    )


@shared_task(name="distribution.tasks.settle_commissions", all_tenants=True)  # beat sweep
def settle_commissions() -> int:
    return services.commissions_settle_due().count


@shared_task(name="distribution.tasks.team_rewards", all_tenants=True)  # beat sweep
def team_rewards() -> int:
    return services.team_rewards_compute_all()


@shared_task(name="distribution.tasks.grades_review", all_tenants=True)  # beat sweep
def grades_review() -> int:
    """Beat: automatic grade upgrades (idempotent)."""
    return services.distributor_grades_review_all()
