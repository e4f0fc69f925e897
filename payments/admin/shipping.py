"""Console: WeChat shipping uploads (pending / failed, retry)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin
from mall.console.site import console_site
from mall.errors import ApplicationError, render_message
from payments.admin.common import FINANCE_ROLES, ReadOnlyMixin, Role
from payments.models import ShippingUpload


@admin.register(ShippingUpload, site=console_site)
class ShippingUploadConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    """WeChat shipping information: what is still pending (retried by beat) or failed."""

    # Operators ship the orders: they see what WeChat has not accepted yet and can retry.
    view_roles = FINANCE_ROLES | {Role.OPERATOR}
    edit_roles = FINANCE_ROLES | {Role.OPERATOR}
    list_display = (
        "reference",
        "purpose",
        "logistics_type",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "accepted_at",
        "updated_at",
    )
    list_filter = ("status", "logistics_type")
    search_fields = ("reference",)
    readonly_fields = (
        "purpose",
        "reference",
        "payment",
        "logistics_type",
        "packages",
        "is_all_delivered",
        "status",
        "version",
        "accepted_version",
        "attempts",
        "last_error",
        "next_attempt_at",
        "accepted_at",
        "created_at",
    )
    actions = ("retry_now",)
    edit_actions = ("retry_now",)

    @admin.action(description=_("Upload the selected pending or failed ones again now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ShippingUpload]) -> None:
        from payments.shipping.services import shipping_upload_retry

        done = 0
        for upload in queryset.exclude(status=ShippingUpload.Status.ACCEPTED):
            try:
                result = shipping_upload_retry(tenant=request.tenant, upload_id=upload.pk)  # type: ignore[attr-defined]
            except ApplicationError as exc:
                self.message_user(
                    request, f"{upload.reference}: {render_message(exc.message)}", messages.ERROR
                )
                continue
            done += 1
            ok = result.status == ShippingUpload.Status.ACCEPTED
            self.message_user(
                request,
                f"{result.reference}: {result.get_status_display()} {result.last_error}".strip(),
                messages.INFO if ok else messages.ERROR,
            )
        if not done:
            self.message_user(
                request, gettext("No pending or failed upload was selected."), messages.WARNING
            )
