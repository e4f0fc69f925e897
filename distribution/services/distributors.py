"""Becoming a distributor (apply, approve, reject, freeze) and binding customers to one."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from distribution.errors import DistributionErrorCode
from distribution.models import (
    DISTRIBUTOR_TRANSITIONS,
    Binding,
    DistributionSettings,
    Distributor,
    DistributorGrade,
)
from distribution.services.common import (
    distributor_lock,
    invalid_transition,
    settings_get,
    settings_require_enabled,
)
from mall.errors import ApplicationError, ConflictError, NotFoundError
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply
from members.lock_objects import members_for_update
from members.models import Member
from orders.models import Order

D = Distributor.Status
R = DistributionSettings.Recruitment
SHARE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

TRANSITIONS = DISTRIBUTOR_TRANSITIONS


def distributor_transition(distributor: Distributor, to: str) -> bool:
    """The one status change of a (locked) distributor, checked against
    ``DISTRIBUTOR_TRANSITIONS`` (409 when not allowed; ``False`` when already there). Sets the
    status on ``distributor``; ``_transition`` writes it with the fields the move changes."""
    return transition_apply(
        distributor,
        DISTRIBUTOR_TRANSITIONS,
        to,
        entity="distributor",
        code=DistributionErrorCode.INVALID_TRANSITION,
    )


def share_code_new() -> str:
    return "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(8))


def distributor_by_code(*, tenant: Tenant, code: str) -> Distributor:
    """An approved distributor of this tenant by its share code, else 404."""
    found = (
        Distributor.objects.for_tenant(tenant)
        .filter(share_code=code.strip().upper(), status=D.APPROVED)
        .first()
    )
    if found is None:
        raise NotFoundError(
            _("No distributor has this share code."), code=DistributionErrorCode.UNKNOWN_CODE
        )
    return found


def member_spent(*, tenant: Tenant, member: Member) -> Decimal:
    """What the member paid and kept (paid − refunded) over its paid orders."""
    totals = (
        Order.objects.for_tenant(tenant)
        .filter(member=member, paid_at__isnull=False)
        .aggregate(paid=Sum("paid_amount"), refunded=Sum("refunded_amount"))
    )
    return (totals["paid"] or Decimal(0)) - (totals["refunded"] or Decimal(0))


def _current_owner(tenant: Tenant, member: Member) -> Distributor | None:
    binding = (
        Binding.objects.for_tenant(tenant)
        .filter(customer=member, is_current=True)
        .select_related("distributor")
        .first()
    )
    return binding.distributor if binding is not None else None


def _default_grade(tenant: Tenant) -> DistributorGrade | None:
    grades = DistributorGrade.objects.for_tenant(tenant)
    return grades.filter(is_default=True).first() or grades.order_by("level", "id").first()


def _chain_fields(parent: Distributor | None) -> dict[str, object]:
    return {
        "parent": parent,
        "ancestor2_id": parent.parent_id if parent else None,
        "ancestor3_id": parent.ancestor2_id if parent else None,
    }


def distributor_apply(
    *, tenant: Tenant, member: Member, invite_code: str = "", now: datetime | None = None
) -> Distributor:
    """A member asks to become a distributor under the tenant's recruitment rules."""
    now = now or timezone.now()
    config = settings_require_enabled(tenant=tenant)
    inviter: Distributor | None = None
    if invite_code:
        inviter = distributor_by_code(tenant=tenant, code=invite_code)
        if inviter.member_id == member.pk:
            raise ApplicationError(
                DistributionErrorCode.SELF_BINDING, _("You cannot invite yourself.")
            )
    elif config.recruitment == R.INVITATION:
        raise ApplicationError(
            DistributionErrorCode.INVITATION_REQUIRED,
            _(
                "This shop recruits distributors by invitation only: "
                "a distributor's code is needed."
            ),
        )
    if config.recruitment == R.SPENDING:
        spent = member_spent(tenant=tenant, member=member)
        if spent < config.recruitment_min_spent:
            raise ApplicationError(
                DistributionErrorCode.NOT_ELIGIBLE,
                _("Distributors must have spent at least %(recruitment_min_spent)s.")
                % {"recruitment_min_spent": config.recruitment_min_spent},
                details={"spent": str(spent), "required": str(config.recruitment_min_spent)},
            )
    parent = inviter or _current_owner(tenant, member)
    status = D.PENDING if config.recruitment == R.APPROVAL else D.APPROVED
    with transaction.atomic():
        members_for_update(tenant=tenant, ids=[member.pk]).first()
        existing = Distributor.objects.for_tenant(tenant).filter(member=member).first()
        if existing is not None and existing.status != D.REJECTED:
            raise ConflictError(
                DistributionErrorCode.ALREADY_DISTRIBUTOR,
                _("You already are (or asked to be) a distributor."),
                details={"status": existing.status},
            )
        if existing is None:
            for _attempt in range(5):
                try:
                    with transaction.atomic():
                        distributor = Distributor.objects.create(
                            tenant=tenant,
                            member=member,
                            status=D.PENDING,
                            share_code=share_code_new(),
                            grade=_default_grade(tenant),
                            **_chain_fields(parent),
                        )
                    break
                except IntegrityError:  # share code collision: draw again
                    continue
            else:  # pragma: no cover - 32^8 codes
                raise RuntimeError("could not draw a free share code")
        else:
            distributor = existing
            Distributor.objects.filter(pk=existing.pk).update(
                status=D.PENDING, note="", reviewed_at=None, **_chain_fields(parent)
            )
            distributor.refresh_from_db()
        if inviter is not None:
            _bind_locked(
                tenant=tenant,
                config=config,
                member=member,
                distributor=inviter,
                source=Binding.Source.APPLICATION,
                now=now,
                force=True,
            )
        if status == D.APPROVED:
            _approve_locked(tenant=tenant, distributor=distributor, now=now, actor="auto")
    distributor.refresh_from_db()
    return distributor


def _approve_locked(*, tenant: Tenant, distributor: Distributor, now: datetime, actor: str) -> None:
    parent = distributor.parent
    if parent is not None and f"/{distributor.pk}/" in parent.path:
        raise ApplicationError(
            DistributionErrorCode.BINDING_CYCLE, _("A distributor can never be its own ancestor.")
        )
    path = f"{parent.path if parent else '/'}{distributor.pk}/"
    Distributor.objects.for_tenant(distributor.tenant_id).filter(pk=distributor.pk).update(
        status=D.APPROVED,
        path=path,
        depth=(parent.depth + 1) if parent else 0,
        reviewed_at=now,
        note=f"approved by {actor}"[:200],
        **_chain_fields(parent),
    )


def _transition(
    *, tenant: Tenant, distributor_id: int, to: str, actor: str, note: str = ""
) -> Distributor:
    now = timezone.now()
    with transaction.atomic():
        locked = distributor_lock(tenant=tenant, distributor_id=distributor_id)
        previous = locked.status
        if not distributor_transition(locked, to):
            return locked
        if to == D.APPROVED and previous == D.PENDING:
            _approve_locked(tenant=tenant, distributor=locked, now=now, actor=actor)
        else:
            Distributor.objects.filter(pk=locked.pk).update(
                status=to, reviewed_at=now, note=(note or f"{to} by {actor}")[:200]
            )
    locked.refresh_from_db()
    return locked


def distributor_approve(*, tenant: Tenant, distributor_id: int, actor: str) -> Distributor:
    """Console approval of a pending application (its chain is fixed now)."""
    return _transition(tenant=tenant, distributor_id=distributor_id, to=D.APPROVED, actor=actor)


def distributor_reject(
    *, tenant: Tenant, distributor_id: int, actor: str, reason: str = ""
) -> Distributor:
    return _transition(
        tenant=tenant, distributor_id=distributor_id, to=D.REJECTED, actor=actor, note=reason
    )


def distributor_freeze(
    *, tenant: Tenant, distributor_id: int, actor: str, reason: str = ""
) -> Distributor:
    """A frozen distributor earns no new commissions and cannot withdraw."""
    return _transition(
        tenant=tenant, distributor_id=distributor_id, to=D.FROZEN, actor=actor, note=reason
    )


def distributor_unfreeze(*, tenant: Tenant, distributor_id: int, actor: str) -> Distributor:
    current = Distributor.objects.for_tenant(tenant).get(pk=distributor_id)
    if current.status != D.FROZEN:
        raise invalid_transition("distributor", current.status, "unfrozen")
    return _transition(tenant=tenant, distributor_id=distributor_id, to=D.APPROVED, actor=actor)


# --- Binding --------------------------------------------------------------------------------


def _bind_locked(
    *,
    tenant: Tenant,
    config: DistributionSettings,
    member: Member,
    distributor: Distributor,
    source: str,
    now: datetime,
    force: bool = False,
) -> tuple[Binding, bool]:
    """(binding, changed). The member row is locked by the caller."""
    if distributor.member_id == member.pk:
        raise ApplicationError(
            DistributionErrorCode.SELF_BINDING, _("You cannot bind to yourself.")
        )
    own = Distributor.objects.for_tenant(tenant).filter(member=member).first()
    if own is not None and (f"/{own.pk}/" in distributor.path):
        raise ApplicationError(
            DistributionErrorCode.BINDING_CYCLE,
            _("You cannot bind to a distributor of your own team."),
        )
    current = Binding.objects.for_tenant(tenant).filter(customer=member, is_current=True).first()
    if current is not None:
        if current.distributor_id == distributor.pk:
            return current, False
        locked = config.binding_mode == DistributionSettings.Binding.FIRST_TOUCH and (
            current.locked_until is None or current.locked_until > now
        )
        if locked and not force:
            return current, False
        Binding.objects.for_tenant(current.tenant_id).filter(pk=current.pk).update(
            is_current=False, ended_at=now
        )
    locked_until = (
        now + timedelta(days=config.lock_days)
        if config.binding_mode == DistributionSettings.Binding.FIRST_TOUCH
        else None
    )
    binding = Binding.objects.create(
        tenant=tenant,
        customer=member,
        distributor=distributor,
        source=source,
        locked_until=locked_until,
    )
    return binding, True


def binding_bind(
    *,
    tenant: Tenant,
    member: Member,
    code: str,
    source: str = Binding.Source.SHARE_LINK,
    now: datetime | None = None,
) -> tuple[Binding, bool]:
    """The customer came through a distributor's link or poster: who owns it now?

    First touch: the first distributor keeps the customer for ``lock_days`` (a locked_until of
    None never expires); last touch: the latest distributor takes it. Returns
    ``(current binding, changed)``."""
    now = now or timezone.now()
    config = settings_require_enabled(tenant=tenant)
    distributor = distributor_by_code(tenant=tenant, code=code)
    with transaction.atomic():
        members_for_update(tenant=tenant, ids=[member.pk]).first()
        return _bind_locked(
            tenant=tenant,
            config=config,
            member=member,
            distributor=distributor,
            source=source,
            now=now,
        )


def scene_code(scene: str) -> str:
    """The share code inside a mini program scene (``d=CODE`` or ``d=CODE&p=42``)."""
    for part in scene.split("&"):
        key, _, value = part.partition("=")
        if key == "d" and value:
            return value
    return ""


def binding_from_scene(*, tenant: Tenant, member: Member, scene: str) -> Binding | None:
    """Login with a scene parameter: bind when it names a distributor; never fails a login."""
    code = scene_code(scene)
    config = settings_get(tenant=tenant)
    if not code or not config.enabled:
        return None
    try:
        binding, _changed = binding_bind(
            tenant=tenant, member=member, code=code, source=Binding.Source.LOGIN_SCENE
        )
    except ApplicationError:
        return None
    return binding


def team_queryset(*, tenant: Tenant, distributor: Distributor):
    """The distributor's team: its downline over the three tiers (indexed columns)."""
    return Distributor.objects.for_tenant(tenant).filter(
        Q(parent=distributor) | Q(ancestor2=distributor) | Q(ancestor3=distributor)
    )
