"""Automatic grade upgrades: conditions on the grade, reviewed by a beat task, idempotent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from distribution import tasks
from distribution.models import Distributor, DistributorGrade
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_settle_due,
    distributor_grades_review,
)
from mall.events.models import OutboxEvent
from tests.distribution import factories as f
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def silver(tenant: Any, config: Any) -> DistributorGrade:
    return f.grade(tenant, ("0.10", "0.05", "0.02"), name="silver", level=1, is_default=True)


@pytest.fixture
def gold(tenant: Any, silver: DistributorGrade) -> DistributorGrade:
    return f.grade(
        tenant,
        ("0.15", "0.08", "0.03"),
        name="gold",
        level=2,
        upgrade_team_size=3,
        upgrade_team_sales=Decimal("1000.00"),
    )


@pytest.fixture
def diamond(tenant: Any, gold: DistributorGrade) -> DistributorGrade:
    return f.grade(tenant, ("0.20", "0.10", "0.05"), name="diamond", level=3, upgrade_team_size=6)


def grade_of(d: Distributor) -> str | None:
    found = Distributor.objects.select_related("grade").get(pk=d.pk)
    return found.grade.name if found.grade else None


def test_a_team_of_three_over_three_tiers_reaches_gold_once(
    tenant: Any, silver: Any, gold: Any
) -> None:
    top = f.distributor(tenant, grade_obj=silver)
    child = f.distributor(tenant, parent=top, grade_obj=silver)
    grandchild = f.distributor(tenant, parent=child, grade_obj=silver)
    f.distributor(tenant, parent=grandchild, grade_obj=silver)  # tier 3 of top
    f.distributor(tenant, parent=top, grade_obj=silver, status=Distributor.Status.PENDING)

    upgrades = distributor_grades_review(tenant=tenant)

    assert [(u.distributor_id, u.to_grade_id, u.team_size) for u in upgrades] == [
        (top.pk, gold.pk, 3)
    ]
    assert grade_of(top) == "gold"
    assert grade_of(child) == "silver"  # a team of 2 only
    event = OutboxEvent.objects.get(name="distributor.grade_upgraded")
    assert event.payload["distributor_id"] == top.pk
    assert event.payload["from_grade_id"] == silver.pk
    # Idempotent: nothing more to do, no second event.
    assert distributor_grades_review(tenant=tenant) == []
    assert OutboxEvent.objects.filter(name="distributor.grade_upgraded").count() == 1


def test_settled_team_sales_reach_gold_but_pending_ones_do_not(
    tenant: Any, silver: Any, gold: Any
) -> None:
    d = f.distributor(tenant, grade_obj=silver)
    buyer = MemberFactory(tenant=tenant)
    from distribution.models import Binding

    Binding.objects.create(tenant=tenant, customer=buyer, distributor=d, source="share_link")
    order = f.paid_order(
        tenant,
        buyer,
        [{"payable": "600.00"}, {"payable": "410.00", "shipping_fee": "10.00"}],
        distribution=attribution_snapshot(tenant=tenant, member=buyer),
    )
    commissions_create_for_order(order_id=order.pk)

    assert distributor_grades_review(tenant=tenant) == []  # pending: not sales yet

    f.complete(order)
    commissions_settle_due()
    upgrades = distributor_grades_review(tenant=tenant)

    assert len(upgrades) == 1
    assert upgrades[0].team_sales == Decimal("1000.00")  # bases: shipping excluded
    assert grade_of(d) == "gold"


def test_the_highest_grade_reached_wins_and_nobody_is_downgraded(
    tenant: Any, silver: Any, gold: Any, diamond: Any
) -> None:
    top = f.distributor(tenant, grade_obj=silver)
    for _ in range(6):
        f.distributor(tenant, parent=top, grade_obj=silver)
    already_diamond = f.distributor(tenant, grade_obj=diamond)  # no team at all

    upgrades = distributor_grades_review(tenant=tenant)

    assert [(u.distributor_id, u.to_grade_id) for u in upgrades] == [(top.pk, diamond.pk)]
    assert grade_of(top) == "diamond"
    assert grade_of(already_diamond) == "diamond"


def test_frozen_distributors_and_grades_without_conditions_are_left_alone(
    tenant: Any, silver: Any
) -> None:
    manual = f.grade(tenant, ("0.30", "0", "0"), name="partner", level=9)  # no conditions
    frozen = f.distributor(tenant, grade_obj=silver, status=Distributor.Status.FROZEN)
    active = f.distributor(tenant, grade_obj=silver)
    gold = f.grade(tenant, name="gold", level=2, upgrade_team_size=1)
    f.distributor(tenant, parent=frozen, grade_obj=silver)
    f.distributor(tenant, parent=active, grade_obj=silver)

    upgrades = distributor_grades_review(tenant=tenant)

    assert [(u.distributor_id, u.to_grade_id) for u in upgrades] == [(active.pk, gold.pk)]
    assert grade_of(frozen) == "silver"
    assert not Distributor.objects.filter(grade=manual).exists()


def test_a_distributor_without_a_grade_is_upgraded_and_other_tenants_untouched(
    tenant: Any, other_tenant: Any, gold: Any
) -> None:
    top = f.distributor(tenant)  # no grade
    for _ in range(3):
        f.distributor(tenant, parent=top)
    f.enable(other_tenant, tiers=3)
    other_gold = f.grade(other_tenant, name="gold", level=2, upgrade_team_size=1)
    other_top = f.distributor(other_tenant)
    f.distributor(other_tenant, parent=other_top)

    assert len(distributor_grades_review(tenant=tenant)) == 1

    assert grade_of(top) == "gold"
    assert Distributor.objects.get(pk=other_top.pk).grade_id is None
    assert other_gold.pk != gold.pk


def test_the_beat_task_reviews_every_enabled_tenant(
    tenant: Any, other_tenant: Any, silver: Any, gold: Any
) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["distribution-grades-review"]
    assert entry["task"] == tasks.grades_review.name
    top = f.distributor(tenant, grade_obj=silver)
    for _ in range(3):
        f.distributor(tenant, parent=top, grade_obj=silver)
    f.enable(other_tenant, enabled=False)  # switched off: not reviewed
    off_gold = f.grade(other_tenant, name="gold", level=2, upgrade_team_size=1)
    off_top = f.distributor(other_tenant)
    f.distributor(other_tenant, parent=off_top)

    assert tasks.grades_review.delay().get() == 1
    assert tasks.grades_review.delay().get() == 0

    assert grade_of(top) == "gold"
    assert Distributor.objects.get(pk=off_top.pk).grade_id != off_gold.pk
