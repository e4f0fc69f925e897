"""Cache invalidation only: a changed channel or tenant bumps the channels' cache version."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from mall.tenancy.models import Channel, Tenant
from mall.tenancy.selectors import channels_changed


@receiver([post_save, post_delete], sender=Channel, dispatch_uid="tenancy_channel_cache_channel")
@receiver([post_save, post_delete], sender=Tenant, dispatch_uid="tenancy_channel_cache_tenant")
def _tenancy_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    channels_changed()
