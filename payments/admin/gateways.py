"""Console: gateway configurations (secrets masked; keys are set with
``configure_payments``)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin
from mall.console.site import console_site
from payments.admin.common import ReadOnlyMixin, Role
from payments.models import Gateway, GatewayConfig

# One Alipay app, one key pair: edited on its channel (Channels), used by login and payments.
_ON_THE_CHANNEL = _("on the Alipay channel {app_id} (edit it under Channels)")


@admin.register(GatewayConfig, site=console_site)
class GatewayConfigConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = frozenset({Role.OWNER, Role.FINANCE})
    edit_roles = frozenset({Role.OWNER, Role.FINANCE})
    list_display = ("gateway", "is_active", "is_sandbox", "app_id", "mch_id", "updated_at")
    fields = (
        "gateway",
        "is_active",
        "is_sandbox",
        "app_id",
        "mch_id",
        "serial_no",
        "private_key_masked",
        "api_v3_key_masked",
        "public_key_id",
        "public_key_shown",
        "fee_rate",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("private key"))
    def private_key_masked(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return gettext("set (hidden)") if obj.private_key else "-"

    @admin.display(description=_("public key"))
    def public_key_shown(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return obj.public_key or "-"

    @admin.display(description=_("APIv3 key"))
    def api_v3_key_masked(self, obj: GatewayConfig) -> str:
        return obj.masked("api_v3_key") or "-"
