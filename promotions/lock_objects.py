"""Row-locking querysets of promotions (select_for_update; call inside a transaction)."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from promotions.models import Campaign


def campaign_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Campaign]:
    return Campaign.objects.for_tenant(tenant).select_for_update().filter(pk=pk)
