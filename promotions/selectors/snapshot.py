"""The tenant's pricing snapshot: live and soon-live campaigns (scopes, displays,
flash-sale rows), promotion settings and freight templates, cached under a version that every
change bumps (receivers at the end), with a copy per process; coupon template scopes likewise.
See docs/pricing.md, "Caching"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import F, Prefetch, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog.freight import FreightTerms, freight_terms_from_template
from catalog.models import FreightRule, FreightTemplate
from mall.cache import LocalCache
from mall.tenancy.models import Tenant
from mall.versions import cache_version, version_bump_now_and_after_commit
from promotions.models import (
    Campaign,
    CampaignDisplay,
    CouponTemplate,
    FlashSaleSku,
    PromotionSettings,
    ScopeType,
)
from promotions.pricing import (
    CampaignKind,
    PricingSettings,
    Scope,
    campaign_is_live,
)
from promotions.rules import referenced_sku_ids

LIVE = [Campaign.Status.SCHEDULED, Campaign.Status.ACTIVE]
SNAPSHOT_SECONDS = 30  # how long a snapshot serves; also how far ahead it loads campaigns
COUPON_SCOPE_SECONDS = 300
PLATFORM_FIELDS = {"wechat": "on_wechat", "alipay": "on_alipay", "h5": "on_h5"}


# --- the tenant's pricing snapshot -------------------------------------------------------


@dataclass(frozen=True)
class FlashSkuRecord:
    row_id: int
    sku_id: int
    product_id: int
    price: Decimal
    quota: int
    per_member_limit: int


@dataclass(frozen=True)
class CampaignRecord:
    """What the engine and the product pages need of a campaign, except its counters."""

    id: int
    kind: str
    name: str
    title: str
    banner: str
    displays: tuple[tuple[str, str, str], ...]  # (platform, title, banner)
    starts_at: datetime
    ends_at: datetime
    status: str
    priority: int
    rules: Mapping[str, Any]
    scope: Scope
    platforms: frozenset[str]
    stacks_with: frozenset[str] | None
    budget: Decimal | None
    flash_skus: tuple[FlashSkuRecord, ...] = ()
    gift_sku_ids: tuple[int, ...] = ()  # the SKUs a gift campaign gives, sorted

    def display_for(self, platform: str) -> tuple[str, str]:
        """(title, banner) on ``platform``: its display's, else the campaign's own."""
        for shown_on, title, banner in self.displays:
            if shown_on == platform:
                return title or self.title or self.name, banner or self.banner
        return self.title or self.name, self.banner


@dataclass(frozen=True)
class PricingSnapshot:
    loaded_at: datetime
    valid_until: datetime
    campaigns: tuple[CampaignRecord, ...]  # by priority (high first), then id
    settings: PricingSettings
    freight: Mapping[int, FreightTerms] = field(default_factory=dict)
    # Engine inputs of the campaigns, built once per snapshot in each process and per fresh
    # value they depend on (``campaign_inputs_of``).
    engine_inputs: dict[tuple, Any] = field(default_factory=dict, compare=False, repr=False)

    def serves(self, now: datetime) -> bool:
        return self.loaded_at <= now < self.valid_until

    def live(self, *, now: datetime, platform: str | None) -> list[CampaignRecord]:
        """Campaigns live at ``now`` (status and window), shown on ``platform`` if given."""
        return [c for c in self.campaigns if campaign_is_live(c, now=now, platform=platform)]


# Versions (random, bumped on change) key the shared cache entries and this process's copies:
# a request reads every version it needs in one MGET and uses its local copy when current.
snapshots_local: LocalCache[int, PricingSnapshot] = LocalCache("pricing-snapshots")
# Part of the shared cache key: bumped whenever the pickled snapshot's classes change, so a
# deploy never unpickles entries written by the previous code.
SNAPSHOT_FORMAT = 3
# (tenant id, coupon template id) -> the template's scope links, under the coupon-scope version.
scopes_local: LocalCache[tuple[int, int], dict[str, frozenset[int]]] = LocalCache("coupon-scopes")


def pricing_version_key(tenant_id: int) -> str:
    return f"promotions:pricing-version:{tenant_id}"


def coupon_version_key(tenant_id: int) -> str:
    return f"promotions:coupon-scope-version:{tenant_id}"


def pricing_cache_changed(*, tenant_id: int) -> None:
    """Campaigns (or their scope, displays, flash-sale SKUs), settings or freight templates
    changed: every process drops its snapshot of the tenant at its next read."""
    version_bump_now_and_after_commit(pricing_version_key(tenant_id))


def coupon_scopes_changed(*, tenant_id: int) -> None:
    """A coupon template or its scope changed."""
    version_bump_now_and_after_commit(coupon_version_key(tenant_id))


def pricing_snapshot(
    *, tenant: Tenant, now: datetime, version: int | None = None
) -> PricingSnapshot:
    """The tenant's snapshot serving ``now``: this process's copy when its version is current,
    else the shared cache's, else loaded (about ten queries)."""
    if version is None:
        version = cache_version(pricing_version_key(tenant.pk))
    local = snapshots_local.get(tenant.pk, version=version)
    if local is not None and local.serves(now):
        return local
    key = f"promotions:pricing:{SNAPSHOT_FORMAT}:{tenant.pk}:{version}"
    snapshot = cache.get(key)
    if snapshot is None or not snapshot.serves(now):
        snapshot = _snapshot_load(tenant=tenant, now=now)
        cache.set(key, snapshot, SNAPSHOT_SECONDS)
    return snapshots_local.set(tenant.pk, snapshot, version=version)


def _snapshot_load(*, tenant: Tenant, now: datetime) -> PricingSnapshot:
    horizon = now + timedelta(seconds=SNAPSHOT_SECONDS)
    flash_rows = FlashSaleSku.objects.annotate(sku_product_id=F("sku__product_id")).order_by("id")
    campaigns = list(
        Campaign.objects.for_tenant(tenant)
        .filter(status__in=LIVE, starts_at__lt=horizon, ends_at__gt=now)
        .order_by("-priority", "id")
        .prefetch_related("displays", Prefetch("flash_skus", queryset=flash_rows))
    )
    links = links_of(Campaign, [c.pk for c in campaigns], CAMPAIGN_LINKS) if campaigns else {}
    records = tuple(
        CampaignRecord(
            id=c.pk,
            kind=c.kind,
            name=c.name,
            title=c.title,
            banner=c.banner,
            displays=tuple(
                (d.platform, d.title, d.banner)
                for d in sorted(c.displays.all(), key=lambda d: d.pk)
            ),
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            status=c.status,
            priority=c.priority,
            rules=c.rules or {},
            scope=campaign_scope(c, links),
            platforms=c.platforms,
            stacks_with=None if c.stacks_with is None else frozenset(c.stacks_with),
            budget=c.budget,
            gift_sku_ids=tuple(sorted(referenced_sku_ids(c.kind, c.rules or {})))
            if c.kind == CampaignKind.GIFT
            else (),
            flash_skus=tuple(
                FlashSkuRecord(
                    row_id=f.pk,
                    sku_id=f.sku_id,
                    product_id=f.sku_product_id,
                    price=f.price,
                    quota=f.quota,
                    per_member_limit=f.per_member_limit,
                )
                for f in c.flash_skus.all()
            )
            if c.kind == CampaignKind.FLASH_SALE
            else (),
        )
        for c in campaigns
    )
    templates = FreightTemplate.objects.for_tenant(tenant).prefetch_related("rules")
    return PricingSnapshot(
        loaded_at=now,
        valid_until=horizon,
        campaigns=records,
        settings=pricing_settings_for(tenant=tenant),
        freight={t.pk: freight_terms_from_template(t) for t in templates},
    )


def pricing_settings_for(*, tenant: Tenant) -> PricingSettings:
    row = PromotionSettings.objects.for_tenant(tenant).first()
    if row is None:
        return PricingSettings()
    return PricingSettings(
        points_per_yuan=row.points_per_yuan,
        points_max_share=row.points_max_share,
        max_goods_coupons=row.max_goods_coupons,
        coupons_with_campaigns=row.coupons_with_campaigns,
        coupons_on_flash_sale=row.coupons_on_flash_sale,
    )


def campaigns_live_queryset(*, tenant: Tenant, now: datetime) -> QuerySet[Campaign]:
    """Campaigns live at ``now`` whatever the beat did (status and window at read time)."""
    return (
        Campaign.objects.for_tenant(tenant)
        .filter(status__in=LIVE, starts_at__lte=now, ends_at__gt=now)
        .order_by("-priority", "id")
    )


Links = dict[str, dict[int, frozenset[int]]]


def links_of(model: Any, owner_ids: Sequence[int], fields: Sequence[str]) -> Links:
    """Owner id -> linked ids for each many-to-many field, one light query per field (the
    through tables' id pairs, no model rows)."""
    result: Links = {}
    owner = f"{model._meta.model_name}_id"
    for name in fields:
        field_ = model._meta.get_field(name)
        through = field_.remote_field.through
        target = f"{field_.m2m_reverse_field_name()}_id"
        pairs: dict[int, set[int]] = defaultdict(set)
        rows = through.objects.filter(**{f"{owner}__in": list(owner_ids)}).values_list(
            owner, target
        )
        for owner_id, target_id in rows:
            pairs[owner_id].add(target_id)
        result[name] = {k: frozenset(v) for k, v in pairs.items()}
    return result


CAMPAIGN_LINKS = ("products", "categories", "skus", "excluded_products")
TEMPLATE_LINKS = ("products", "categories", "excluded_products")
EMPTY: frozenset[int] = frozenset()


def campaign_scope(campaign: Campaign, links: Links) -> Scope:
    pk = campaign.pk
    return Scope(
        all_items=campaign.all_items,
        product_ids=links["products"].get(pk, EMPTY),
        category_ids=links["categories"].get(pk, EMPTY),
        sku_ids=links["skus"].get(pk, EMPTY),
        excluded_product_ids=links["excluded_products"].get(pk, EMPTY),
    )


def template_scope(scope_type: str, links: Mapping[str, frozenset[int]]) -> Scope:
    """The engine scope of a coupon template of ``scope_type`` with its scope ``links``."""
    return Scope(
        all_items=scope_type == ScopeType.ALL,
        product_ids=links["products"] if scope_type == ScopeType.PRODUCTS else EMPTY,
        category_ids=links["categories"] if scope_type == ScopeType.CATEGORIES else EMPTY,
        excluded_product_ids=links["excluded_products"],
    )


# --- cache invalidation (receivers only; no business flow) --------------------------------
# Registered when this module is imported (the shopper URLconf imports it in every web
# process). Counters changed by guarded UPDATEs (sold, discount_given) are never cached, and
# the beat's status UPDATEs only end campaigns whose window the read-time check already closes.


def _snapshot_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    pricing_cache_changed(tenant_id=instance.tenant_id)


def _links_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    # The links have no reverse accessor (related_name="+"), so ``instance`` is the campaign.
    if action.startswith("post_"):
        pricing_cache_changed(tenant_id=instance.tenant_id)


def _template_changed(sender: Any, instance: CouponTemplate, **kwargs: Any) -> None:
    action = kwargs.get("action")
    if action is None or action.startswith("post_"):
        coupon_scopes_changed(tenant_id=instance.tenant_id)


for _model in (
    Campaign,
    CampaignDisplay,
    FlashSaleSku,
    PromotionSettings,
    FreightTemplate,
    FreightRule,
):
    post_save.connect(
        _snapshot_changed, sender=_model, dispatch_uid=f"pricing_snapshot_{_model.__name__}"
    )
    post_delete.connect(
        _snapshot_changed, sender=_model, dispatch_uid=f"pricing_snapshot_del_{_model.__name__}"
    )
for _name in CAMPAIGN_LINKS:
    m2m_changed.connect(
        _links_changed,
        sender=getattr(Campaign, _name).through,
        dispatch_uid=f"pricing_snapshot_links_{_name}",
    )
post_save.connect(_template_changed, sender=CouponTemplate, dispatch_uid="pricing_coupon_scope")
post_delete.connect(
    _template_changed, sender=CouponTemplate, dispatch_uid="pricing_coupon_scope_del"
)
for _name in TEMPLATE_LINKS:
    m2m_changed.connect(
        _template_changed,
        sender=getattr(CouponTemplate, _name).through,
        dispatch_uid=f"pricing_coupon_scope_links_{_name}",
    )
