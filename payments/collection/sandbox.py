"""Completing sandbox payments (demo endpoint and ``sandbox_pay`` command)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError, NotFoundError
from mall.tenancy.models import Tenant
from members.models import Member
from payments.collection.notifications import NotificationAnswer, notification_handle_wechat
from payments.collection.services import payment_start
from payments.common import handler_for
from payments.errors import PaymentErrorCode
from payments.gateways.config import sandbox_config_ensure
from payments.gateways.sandbox import sandbox_notification
from payments.models import Gateway, Payment


def sandbox_payment_complete(*, tenant: Tenant, payment: Payment) -> NotificationAnswer:
    """The sandbox "pays": it delivers a signed notification through the same verification
    and transition code as WeChat Pay's."""
    config = sandbox_config_ensure(tenant=tenant)
    if payment.tenant_id != tenant.pk or payment.gateway != Gateway.SANDBOX:
        raise NotFoundError(_("No such sandbox payment."), code=PaymentErrorCode.PAYMENT_NOT_FOUND)
    if payment.status == Payment.Status.CLOSED:
        # As at WeChat Pay: a closed trade can no longer be paid.
        raise ConflictError("payment_closed", _("This trade was closed and cannot be paid."))
    headers, body = sandbox_notification(config, payment)
    return notification_handle_wechat(
        tenant_slug=tenant.slug, headers=headers, body=body, gateway=Gateway.SANDBOX
    )


def sandbox_pay(*, tenant: Tenant, purpose: str, reference: str) -> Payment:
    """Pay a payable through the sandbox: reuse its pending sandbox payment or start one for
    the payable's member, then complete it."""
    payment = (
        Payment.objects.for_tenant(tenant)
        .filter(
            purpose=purpose,
            reference=reference,
            gateway=Gateway.SANDBOX,
            status=Payment.Status.PENDING,
        )
        .order_by("-id")
        .first()
    )
    if payment is None:
        payable = handler_for(purpose).payable_get(tenant=tenant, reference=reference)
        if payable is None:
            raise NotFoundError(
                _("Nothing payable for %(purpose)s %(reference)s.")
                % {"purpose": purpose, "reference": reference}
            )
        member = Member.objects.for_tenant(tenant).get(pk=payable.member_id)
        payment = payment_start(
            tenant=tenant,
            member=member,
            purpose=purpose,
            reference=reference,
            gateway=Gateway.SANDBOX,
        ).payment
    answer = sandbox_payment_complete(tenant=tenant, payment=payment)
    if not answer.ok:
        raise ConflictError("sandbox_failed", answer.message)
    payment.refresh_from_db()
    return payment
