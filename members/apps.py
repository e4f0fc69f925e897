from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mall.api.authentication import register_member_loader
        from members.cards import admin as _card_admin  # noqa: F401  (console pages)
        from members.models import MemberCard
        from members.services.cards import merge_member_cards
        from members.services.merge import register_merge_handler
        from members.sql import member_by_id
        from members.tiers import admin as _tier_admin  # noqa: F401  (console pages)
        from members.tiers import selectors as _tier_selectors  # noqa: F401  (cache receivers)
        from members.tiers import tasks as _tier_tasks  # noqa: F401  (Celery task registration)
        from members.tiers.models import MemberTier
        from members.tiers.services import merge_member_tiers

        register_member_loader(member_by_id)  # hot path: a raw read (members.sql)
        register_merge_handler(MemberCard, merge_member_cards)
        register_merge_handler(MemberTier, merge_member_tiers)
