"""Coupon use cases. Claiming is safe under concurrency: the template's ``issued_count`` moves by
a guarded UPDATE (which also serialises claims of one template on PostgreSQL), and the unique
(template, member, seq) constraint backs the per-member limit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, NotFoundError
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply, transition_update
from members.models import Member, Segment
from members.segments.selectors import segment_member_ids
from promotions.errors import PromotionErrorCode
from promotions.models import COUPON_TRANSITIONS, Coupon, CouponTemplate

Channel = CouponTemplate.Channel
logger = logging.getLogger(__name__)


def _not_claimable(message: str | Promise) -> ApplicationError:
    return ApplicationError(PromotionErrorCode.COUPON_NOT_CLAIMABLE, message)


def _window(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    if template.validity_type == CouponTemplate.Validity.RELATIVE:
        return now, now + timedelta(days=template.valid_days or 1)
    assert template.valid_from is not None and template.valid_until is not None
    return template.valid_from, template.valid_until


def _check_claimable(template: CouponTemplate, *, channel: str, now: datetime) -> None:
    if not template.is_active:
        raise _not_claimable(_("This coupon is no longer offered."))
    # Automation (console, marketing) may issue any template; shoppers only public ones,
    # distributor shares only distributor templates.
    if channel != Channel.AUTOMATION and template.claim_channel != channel:
        raise _not_claimable(_("This coupon cannot be claimed here."))
    if template.claim_starts_at and now < template.claim_starts_at:
        raise _not_claimable(_("Claiming has not started yet."))
    if template.claim_ends_at and now >= template.claim_ends_at:
        raise _not_claimable(_("Claiming has ended."))
    if template.validity_type == CouponTemplate.Validity.FIXED and (
        template.valid_until is None or now >= template.valid_until
    ):
        raise _not_claimable(_("This coupon has expired."))


def coupon_claim(
    *,
    tenant: Tenant,
    member: Member,
    template_id: int,
    channel: str = Channel.PUBLIC,
    now: datetime | None = None,
) -> Coupon:
    """Issue one coupon of the template to the member, within total and per-member limits."""
    now = now or timezone.now()
    if member.tenant_id != tenant.pk:
        raise NotFoundError(_("Unknown member."), code=PromotionErrorCode.COUPON_NOT_CLAIMABLE)
    template = CouponTemplate.objects.for_tenant(tenant).filter(pk=template_id).first()
    if template is None:
        raise NotFoundError(
            _("Coupon not found."), code=PromotionErrorCode.COUPON_TEMPLATE_NOT_FOUND
        )
    _check_claimable(template, channel=channel, now=now)
    with transaction.atomic():
        # The guarded UPDATE takes the template's row lock until commit: concurrent claims of
        # this template queue here, and the count below sees every committed claim.
        updated = (
            CouponTemplate.objects.for_tenant(tenant)
            .filter(pk=template.pk, issued_count__lt=F("total_quantity"))
            .update(issued_count=F("issued_count") + 1)
        )
        if not updated:
            raise ConflictError(PromotionErrorCode.COUPON_SOLD_OUT, _("All coupons are claimed."))
        held = Coupon.objects.for_tenant(tenant).filter(template=template, member=member).count()
        if held >= template.per_member_limit:
            raise _limit_reached(template)
        valid_from, valid_until = _window(template, now)
        try:
            with transaction.atomic():
                return Coupon.objects.create(
                    tenant=tenant,
                    template=template,
                    member=member,
                    seq=held + 1,
                    valid_from=valid_from,
                    valid_until=valid_until,
                    channel=channel,
                )
        except IntegrityError:
            # A concurrent claim by the same member took this number: the limit is reached.
            raise _limit_reached(template) from None


def _limit_reached(template: CouponTemplate) -> ApplicationError:
    return ConflictError(
        PromotionErrorCode.COUPON_LIMIT_REACHED,
        _("You can hold at most %(max)d of this coupon.") % {"max": template.per_member_limit},
        details={"per_member_limit": template.per_member_limit},
    )


@dataclass
class CouponIssueResult:
    issued: list[int] = field(default_factory=list)  # member ids
    skipped: dict[int, str] = field(default_factory=dict)  # member id -> error code


def coupon_grant_for_checkin(*, tenant: Tenant, member_id: int, template_id: int, ref: str) -> bool:
    """The check-in reward hook (``members.checkin.rewards.register_coupon_handler``): one
    coupon of the template, inside the check-in's transaction; a refusal (limit reached, sold
    out, template gone) gives no coupon and does not undo the check-in. True when issued."""
    member = Member.objects.for_tenant(tenant).filter(pk=member_id).first()
    if member is None:
        return False
    try:
        with transaction.atomic():
            coupon_claim(
                tenant=tenant, member=member, template_id=template_id, channel=Channel.AUTOMATION
            )
    except ApplicationError as exc:
        logger.info(
            "check-in coupon %s for %s not issued: %s (%s)", template_id, member_id, exc.code, ref
        )
        return False
    return True


def coupon_issue_to_members(
    *, tenant: Tenant, template: CouponTemplate, member_ids: Iterable[int]
) -> CouponIssueResult:
    """Issue one coupon to each member of a segment (console); each member in its own
    transaction, so one refusal (limit, sold out) does not undo the others."""
    result = CouponIssueResult()
    wanted = sorted({int(m) for m in member_ids})
    members = {
        m.pk: m
        for m in Member.objects.for_tenant(tenant).filter(
            pk__in=wanted, is_active=True, merged_into__isnull=True
        )
    }
    for member_id in wanted:
        member = members.get(member_id)
        if member is None:
            result.skipped[member_id] = "member_not_found"
            continue
        try:
            coupon_claim(
                tenant=tenant, member=member, template_id=template.pk, channel=Channel.AUTOMATION
            )
        except ApplicationError as exc:
            result.skipped[member_id] = exc.code
        else:
            result.issued.append(member_id)
    return result


def coupon_issue_to_segment(
    *, tenant: Tenant, template: CouponTemplate, segment: Segment
) -> CouponIssueResult:
    """Issue one coupon to each member of a members segment as it is now (the segment's
    members are read by one query; then as ``coupon_issue_to_members``)."""
    if template.tenant_id != tenant.pk:
        raise NotFoundError(
            _("Coupon not found."), code=PromotionErrorCode.COUPON_TEMPLATE_NOT_FOUND
        )
    member_ids = segment_member_ids(tenant=tenant, segment=segment)
    return coupon_issue_to_members(tenant=tenant, template=template, member_ids=member_ids)


def coupon_transition(coupon: Coupon, to: str) -> bool:
    """The status change of one coupon, checked against ``COUPON_TRANSITIONS`` (409 when not
    allowed; ``False`` when already there). The caller saves."""
    return transition_apply(coupon, COUPON_TRANSITIONS, to, entity="coupon")


def coupon_transition_update(queryset: Any, to: str, **fields: Any) -> int:
    """The set-based move of coupons (what checkout, payment and the beat use): a guarded
    ``UPDATE`` of the rows ``COUPON_TRANSITIONS`` lets go to ``to``. Returns the count."""
    return transition_update(queryset, COUPON_TRANSITIONS, to, **fields)


def coupon_expire_due(*, now: datetime | None = None) -> int:
    """Mark unused coupons past their end as expired (every tenant; the beat task)."""
    now = now or timezone.now()
    return coupon_transition_update(
        Coupon.objects.all_tenants().filter(valid_until__lte=now), Coupon.Status.EXPIRED
    )


def coupon_lock(
    *,
    tenant: Tenant,
    member: Member,
    coupon_ids: Iterable[int],
    order_reference: str,
    now: datetime | None = None,
) -> list[int]:
    """Checkout: lock the member's unused, valid coupons for an order (all or none; call it
    inside the order transaction)."""
    now = now or timezone.now()
    ids = sorted(set(coupon_ids))
    if not ids:
        return []
    with transaction.atomic():
        updated = coupon_transition_update(
            Coupon.objects.for_tenant(tenant).filter(
                pk__in=ids, member=member, valid_from__lte=now, valid_until__gt=now
            ),
            Coupon.Status.LOCKED,
            order_reference=order_reference,
        )
        if updated != len(ids):
            raise ConflictError(
                PromotionErrorCode.COUPON_UNAVAILABLE,
                _("A chosen coupon is no longer available."),
                details={"coupon_ids": ids},
            )
    return ids


def coupon_use(*, tenant: Tenant, order_reference: str, now: datetime | None = None) -> int:
    """Payment: the order's locked coupons become used (idempotent)."""
    return coupon_transition_update(
        Coupon.objects.for_tenant(tenant).filter(order_reference=order_reference),
        Coupon.Status.USED,
        used_at=now or timezone.now(),
    )


def coupon_release(*, tenant: Tenant, order_reference: str) -> int:
    """Cancellation: the order's locked coupons go back to the member (idempotent)."""
    return coupon_transition_update(
        Coupon.objects.for_tenant(tenant).filter(order_reference=order_reference),
        Coupon.Status.UNUSED,
        order_reference="",
    )
