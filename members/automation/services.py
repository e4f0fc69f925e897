"""Lifecycle automation: rules of trigger -> segment -> actions.

Flow (docs/members.md, "Automation"): a trigger adds *pending* executions, one per member and
period (``AutomationExecution``'s unique (rule, member, period_key): a rule fires at most once
per member per period, also when two sweeps race). Swept triggers are found by the beat sweep
(``automation_sweep``: platform-wide, each tenant's work in its scope); event triggers (first
paid order, tier up or down) are added by the code where the event happens, through
``automation_trigger``, which also records a follow-up that runs them after commit. The
executor (``automation_run_pending``) takes pending executions in batches of 500 (rows locked,
skipping rows another runner holds), marks those whose member is not in the rule's segment
now *skipped* (one segment query per batch), and does the actions for the rest set-based:
the tag by one ``INSERT ... SELECT``, notifications as ``OutboxEvent`` rows
(``member.notification``) in the same transaction, points through
``members.automation.actions.points_granters``, the coupon through the issuer promotions
registers. The execution rows are the log per member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from mall.events.models import OutboxEvent
from mall.followups.services import follow_up
from mall.tenancy.models import Tenant
from mall.tenancy.scope import all_tenants, tenant_context
from mall.transitions import transition_check, transition_update
from members import lock_objects
from members.automation import actions
from members.automation.hooks import coupon_issuer, trigger_source
from members.automation.models import (
    AUTOMATION_EXECUTION_TRANSITIONS,
    AutomationExecution,
    AutomationRule,
)
from members.models import Member
from members.segments.models import MemberTag
from members.segments.selectors import segment_members
from members.segments.services import tag_apply_to_queryset

BATCH_SIZE = 500
NOTIFICATION_EVENT = "member.notification"
RUN_TASK = "members.tasks.automation_run"
T = AutomationRule.Trigger
S = AutomationExecution.Status


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


# --- Adding pending executions -------------------------------------------------------------


def _insert_pending(*, tenant_id: int, rule: AutomationRule, pairs: list[tuple[int, str]]) -> int:
    """Insert pending executions in batches; pairs already executed (or pending) are ignored by
    the unique key. Answers how many pairs were offered."""
    for start in range(0, len(pairs), 1000):
        AutomationExecution.objects.bulk_create(
            [
                AutomationExecution(
                    tenant_id=tenant_id, rule=rule, member_id=member_id, period_key=key[:64]
                )
                for member_id, key in pairs[start : start + 1000]
            ],
            ignore_conflicts=True,
        )
    return len(pairs)


def _candidates(rule: AutomationRule, now: datetime) -> list[tuple[int, str]]:
    source = trigger_source(rule.trigger)
    if source is None:
        return []
    return list(source(tenant_id=rule.tenant_id, days=rule.days, hours=rule.hours, now=now))


def automation_enqueue(*, rule: AutomationRule, now: datetime | None = None) -> int:
    """A swept rule: add pending executions for the members its trigger finds now."""
    if not rule.is_active or rule.trigger not in AutomationRule.SWEPT:
        return 0
    now = now or timezone.now()
    return _insert_pending(tenant_id=rule.tenant_id, rule=rule, pairs=_candidates(rule, now))


def automation_trigger(member: Member, kind: str, *, key: str = "") -> int:
    """An event happened to ``member`` (``first_paid_order``, ``tier_up``, ``tier_down``, or
    any trigger kind): every active rule of that trigger gets a pending execution for the
    period ``key`` (e.g. the new tier's id and the day; ``first_paid_order`` has one period),
    run after commit by a follow-up. Call it inside the transaction of the event. Answers the
    number of rules that matched."""
    rules = list(
        AutomationRule.objects.for_tenant(member.tenant_id).filter(is_active=True, trigger=kind)
    )
    if not rules:
        return 0
    period = key or ("first" if kind == T.FIRST_PAID_ORDER else timezone.now().date().isoformat())
    with transaction.atomic():
        for rule in rules:
            _insert_pending(tenant_id=member.tenant_id, rule=rule, pairs=[(member.pk, period)])
        follow_up(
            tenant=member.tenant_id,
            task=RUN_TASK,
            key=f"automation:{member.tenant_id}",
            kwargs={"tenant_id": member.tenant_id},
        )
    return len(rules)


# --- Running pending executions ------------------------------------------------------------


@dataclass
class BatchResult:
    done: int = 0
    skipped: int = 0


def _run_batch(rule: AutomationRule, now: datetime) -> BatchResult:
    result = BatchResult()
    tenant_id = rule.tenant_id
    with transaction.atomic():
        rows = list(
            lock_objects.automation_pending_for_update(
                tenant=tenant_id, rule_id=rule.pk, limit=BATCH_SIZE
            )
        )
        if not rows:
            return result
        member_ids = sorted({row.member_id for row in rows})
        members = Member.objects.for_tenant(tenant_id).filter(
            pk__in=member_ids, is_active=True, merged_into__isnull=True
        )
        if rule.segment_id is not None:
            assert rule.segment is not None
            members = segment_members(tenant=tenant_id, segment=rule.segment, now=now).filter(
                pk__in=member_ids
            )
        eligible = set(members.values_list("pk", flat=True))
        todo = [row for row in rows if row.member_id in eligible]
        skipped = [row.pk for row in rows if row.member_id not in eligible]
        if skipped:
            transition_update(
                AutomationExecution.objects.for_tenant(tenant_id).filter(pk__in=skipped),
                AUTOMATION_EXECUTION_TRANSITIONS,
                S.SKIPPED,
                executed_at=now,
            )
        result.skipped = len(skipped)
        if not todo:
            return result
        ids = [row.member_id for row in todo]
        _do_actions(rule, todo, ids, now)
        result.done = len(todo)
    return result


def _do_actions(
    rule: AutomationRule, todo: list[AutomationExecution], ids: list[int], now: datetime
) -> None:
    tenant_id = rule.tenant_id
    if rule.tag_id is not None:
        assert rule.tag is not None
        tag_apply_to_queryset(
            tenant=tenant_id,
            tag=rule.tag,
            members=Member.objects.for_tenant(tenant_id).filter(pk__in=ids),
            source=MemberTag.Source.AUTOMATION,
        )
    if rule.notify:
        OutboxEvent.objects.bulk_create(
            [
                OutboxEvent(
                    tenant_id=tenant_id,
                    name=NOTIFICATION_EVENT,
                    subject=f"member:{row.member_id}",
                    payload={
                        "member_id": row.member_id,
                        "rule_id": rule.pk,
                        "execution_id": row.pk,
                        "title": rule.notify_title,
                        "text": rule.notify_text,
                    },
                )
                for row in todo
            ]
        )
    granted = 0
    if rule.points and actions.points_granters:
        references = {row.member_id: f"automation:{row.pk}" for row in todo}
        for granter in actions.points_granters:
            granter(
                tenant_id=tenant_id,
                member_ids=ids,
                points=rule.points,
                reason=f"automation rule {rule.pk}",
                references=references,
            )
        granted = rule.points
    coupons: dict[int, tuple[int | None, str]] = {}
    if rule.coupon_template_id:
        issuer = coupon_issuer()
        if issuer is None:
            coupons = dict.fromkeys(ids, (None, "coupons_unavailable"))
        else:
            coupons = issuer(
                tenant_id=tenant_id, template_id=rule.coupon_template_id, member_ids=ids
            )
    for row in todo:  # rows of a locked pending batch; bulk_update writes them below
        transition_check(
            AUTOMATION_EXECUTION_TRANSITIONS,
            entity="automation execution",
            current=row.status,
            to=S.DONE,
        )
        row.status = S.DONE
        row.executed_at = now
        row.points = granted
        row.tagged = rule.tag_id is not None
        row.notified = rule.notify
        coupon_id, error = coupons.get(row.member_id, (None, ""))
        row.coupon_id = coupon_id
        row.coupon_error = error[:64]
    AutomationExecution.objects.for_tenant(tenant_id).bulk_update(
        todo,
        ["status", "executed_at", "points", "tagged", "notified", "coupon_id", "coupon_error"],
    )


def automation_run_pending(
    *, rule: AutomationRule, now: datetime | None = None, max_batches: int = 200
) -> BatchResult:
    """Run the rule's pending executions, batch after batch."""
    now = now or timezone.now()
    total = BatchResult()
    for _batch in range(max_batches):
        result = _run_batch(rule, now)
        total.done += result.done
        total.skipped += result.skipped
        if result.done + result.skipped == 0:
            break
    return total


def _rules(tenant_id: int) -> list[AutomationRule]:
    return list(
        AutomationRule.objects.for_tenant(tenant_id)
        .filter(is_active=True)
        .select_related("segment", "tag")
        .order_by("pk")
    )


def automation_run_tenant(*, tenant: Tenant | int, now: datetime | None = None) -> dict[str, int]:
    """One tenant: enqueue the swept rules, then run every rule's pending executions."""
    now = now or timezone.now()
    tenant_id = _tenant_id(tenant)
    counts = {"found": 0, "done": 0, "skipped": 0}
    for rule in _rules(tenant_id):
        counts["found"] += automation_enqueue(rule=rule, now=now)
        result = automation_run_pending(rule=rule, now=now)
        counts["done"] += result.done
        counts["skipped"] += result.skipped
    return counts


def automation_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: every tenant with an active rule, each in its own scope."""
    now = now or timezone.now()
    with all_tenants():
        tenant_ids = sorted(
            set(
                AutomationRule.objects.all_tenants()
                .filter(is_active=True)
                .values_list("tenant_id", flat=True)
            )
        )
    totals = {"tenants": len(tenant_ids), "found": 0, "done": 0, "skipped": 0}
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            counts = automation_run_tenant(tenant=tenant_id, now=now)
        for name, value in counts.items():
            totals[name] += value
    return totals


# --- Console -------------------------------------------------------------------------------


@dataclass
class DryRun:
    found: int  # members the trigger finds now (swept) / members it could fire for (events)
    already: int  # of those, already executed for that period
    eligible: int  # would fire now: not executed yet and in the segment


def automation_dry_run(*, rule: AutomationRule, now: datetime | None = None) -> DryRun:
    """What a sweep would do now, without doing it. Event triggers: the segment's members who
    have not had the rule yet (the event itself cannot be foreseen)."""
    now = now or timezone.now()
    tenant_id = rule.tenant_id
    if rule.segment_id is not None:
        assert rule.segment is not None
        in_segment = segment_members(tenant=tenant_id, segment=rule.segment, now=now)
    else:
        in_segment = Member.objects.for_tenant(tenant_id).filter(
            is_active=True, merged_into__isnull=True
        )
    if rule.trigger not in AutomationRule.SWEPT:
        found = in_segment.count()
        already = in_segment.filter(
            Exists(
                AutomationExecution.objects.filter(
                    tenant_id=tenant_id, rule=rule, member_id=OuterRef("pk"), status=S.DONE
                )
            )
        ).count()
        return DryRun(found=found, already=already, eligible=max(found - already, 0))
    pairs = _candidates(rule, now)
    member_ids = sorted({member_id for member_id, _key in pairs})
    done: set[tuple[int, str]] = set()
    for start in range(0, len(member_ids), 1000):
        chunk = member_ids[start : start + 1000]
        done.update(
            AutomationExecution.objects.for_tenant(tenant_id)
            .filter(rule=rule, member_id__in=chunk)
            .exclude(status=S.PENDING)
            .values_list("member_id", "period_key")
        )
    fresh = {member_id for member_id, key in pairs if (member_id, key[:64]) not in done}
    eligible: set[int] = set()
    fresh_ids = sorted(fresh)
    for start in range(0, len(fresh_ids), 1000):
        eligible.update(
            in_segment.filter(pk__in=fresh_ids[start : start + 1000]).values_list("pk", flat=True)
        )
    return DryRun(found=len(pairs), already=len(pairs) - len(fresh), eligible=len(eligible))


def execution_log(*, tenant: Tenant | int, member_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """A member's latest executions, newest first (console)."""
    return list(
        AutomationExecution.objects.for_tenant(tenant)
        .filter(member_id=member_id)
        .select_related("rule")
        .order_by("-pk")
        .values(
            "pk",
            "rule__name",
            "period_key",
            "status",
            "coupon_id",
            "coupon_error",
            "points",
            "tagged",
            "notified",
            "executed_at",
        )[:limit]
    )


def merge_automation_executions(*, survivor: Member, loser: Member) -> int:
    """Phone merge: the absorbed member's executions move to the survivor unless the survivor
    already has that rule's period (then the survivor's stands and the other goes)."""
    rows = AutomationExecution.objects.for_tenant(survivor.tenant_id)
    mine = set(rows.filter(member=survivor).values_list("rule_id", "period_key"))
    moved = 0
    for row in list(rows.filter(member=loser)):
        if (row.rule_id, row.period_key) in mine:
            row.delete()
            continue
        rows.filter(pk=row.pk).update(member=survivor)
        moved += 1
    return moved
