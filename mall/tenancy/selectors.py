"""Read paths of the tenancy core."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from mall.cache import LocalCache
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant
from mall.versions import version_bump_now_and_after_commit, versions_get

# Process-local cache of app id -> channel (with its tenant): the shopper API resolves the
# channel on every request, so this removes the only SQL query from cached read paths. Entries
# are kept under the channels' cache version, which saves and deletes of channels and tenants
# bump (mall/tenancy/signals.py, ``channels_changed``): every process sees a change within
# MALL_CACHE_VERSION_RECHECK_MS; MALL_CHANNEL_CACHE_SECONDS bounds an entry's life (0: no cache).
CHANNEL_VERSION_KEY = "tenancy:channel-version"
_channels: LocalCache[str, Channel | None] = LocalCache("channels")


def channels_changed() -> None:
    """A channel or tenant changed: every process drops its copies at its next lookup."""
    version_bump_now_and_after_commit(CHANNEL_VERSION_KEY)


def channel_cache_clear() -> None:
    """Forget this process's copies (tests)."""
    _channels.clear()


def _channel_load(app_id: str) -> Channel | None:
    # Platform-wide by nature: this finds the tenant of the request.
    return (
        Channel.objects.all_tenants()
        .select_related("tenant")
        .filter(app_id=app_id, is_active=True)
        .first()
    )


def channel_get_by_app_id(*, app_id: str) -> Channel | None:
    """The active channel with this app id, with its tenant (one query, then cached briefly)."""
    if len(app_id) > 64:
        return None
    ttl = settings.MALL_CHANNEL_CACHE_SECONDS
    if ttl <= 0:
        return _channel_load(app_id)
    [version] = versions_get([CHANNEL_VERSION_KEY])
    return _channels.get_or_load(app_id, lambda: _channel_load(app_id), version=version, ttl=ttl)


def api_key_get_by_raw(*, raw_key: str) -> ApiKey | None:
    """The active API key matching this raw key (compared by hash), with its tenant."""
    if len(raw_key) > 200:
        return None
    key = (
        ApiKey.objects.all_tenants()  # finds the tenant of the request
        .select_related("tenant")
        .filter(key_hash=ApiKey.hash_key(raw_key), is_active=True)
        .first()
    )
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.for_tenant(key.tenant_id).filter(pk=key.pk).update(last_used_at=now)
    return key


def staff_for_user(*, user: Any, preferred_tenant_id: int | None = None) -> Staff | None:
    """The console membership to use: the session's choice if valid, else the first one."""
    # A user's memberships span tenants: this finds the tenant of a console request.
    memberships = (
        Staff.objects.all_tenants().select_related("tenant").filter(user=user, is_active=True)
    )
    if preferred_tenant_id:
        chosen = memberships.filter(tenant_id=preferred_tenant_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("id").first()


def staff_memberships(*, user: Any) -> list[Staff]:
    return list(
        Staff.objects.all_tenants().select_related("tenant").filter(user=user, is_active=True)
    )


def channel_app_ids(*, tenant: Any, platform: str) -> list[str]:
    """The app ids of the tenant's active channels on ``platform``, oldest first."""
    return list(
        Channel.objects.for_tenant(tenant)
        .filter(platform=platform, is_active=True)
        .order_by("id")
        .values_list("app_id", flat=True)
    )


def tenant_id_by_slug(*, slug: str) -> int | None:
    """The id of the tenant with this slug (gateway callbacks name their tenant in the path)."""
    if len(slug) > 100:
        return None
    return Tenant.objects.filter(slug=slug).values_list("id", flat=True).first()
