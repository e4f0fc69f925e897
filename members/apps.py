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

        from members.automation import triggers
        from members.automation.hooks import register_trigger_source
        from members.automation.models import AutomationExecution
        from members.automation.services import merge_automation_executions
        from members.segments import admin as _segment_admin  # noqa: F401  (console pages)
        from members.segments.models import MemberRfm, MemberTag
        from members.segments.services import merge_member_rfm, merge_member_tags

        register_trigger_source("birthday", triggers.birthday_candidates)
        register_trigger_source("dormant", triggers.dormant_candidates)
        register_trigger_source("card_expiring", triggers.card_expiring_candidates)
        register_merge_handler(MemberTag, merge_member_tags)
        register_merge_handler(MemberRfm, merge_member_rfm)
        register_merge_handler(AutomationExecution, merge_automation_executions)
        register_merge_handler(MemberTier, merge_member_tiers)

        # The parts of members reach each other through hooks (members/wiring.py).
        from members import wiring
        from members.automation import actions as automation_actions
        from members.checkin.rewards import register_growth_handler
        from members.points.rules import register_earn_multiplier
        from members.tiers.selectors import card_points_multiplier, tier_points_multiplier

        register_earn_multiplier(tier_points_multiplier)
        register_earn_multiplier(card_points_multiplier)
        register_growth_handler(wiring.checkin_growth)
        if wiring.automation_points not in automation_actions.points_granters:
            automation_actions.points_granters.append(wiring.automation_points)
        register_trigger_source("points_expiring", wiring.points_expiring_candidates)
