"""Console page of follow-ups: what is still to happen after a change, what failed and why,
with a retry for failed ones (owners and administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mall.console.admin import MANAGER_ROLES, TenantScopedModelAdmin
from mall.console.site import console_site
from mall.followups.models import FollowUp
from mall.followups.services import followup_retry

FIELDS = (
    "task",
    "key",
    "kwargs",
    "status",
    "attempts",
    "last_error",
    "due_at",
    "published_at",
    "done_at",
    "created_at",
)


@admin.register(FollowUp, site=console_site)
class FollowUpConsoleAdmin(TenantScopedModelAdmin):
    view_roles = MANAGER_ROLES
    edit_roles = MANAGER_ROLES
    list_display = ("task", "key", "status", "attempts", "due_at", "done_at", "created_at")
    list_filter = ("status", "task")
    search_fields = ("key",)
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ("retry_failed",)
    edit_actions = ("retry_failed",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Retry the selected failed follow-ups"))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        retried = sum(
            followup_retry(tenant=request.tenant, followup_id=pk)  # type: ignore[attr-defined]
            for pk in queryset.filter(status=FollowUp.Status.FAILED).values_list("pk", flat=True)
        )
        if retried:
            message = ngettext(
                "%(count)d follow-up will be tried again.",
                "%(count)d follow-ups will be tried again.",
                retried,
            ) % {"count": retried}
            self.message_user(request, message, messages.INFO)
        else:
            self.message_user(request, _("No failed follow-up was selected."), messages.WARNING)
