from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Distribution is the top layer: it fills the hooks of the apps below it.
        from distribution.console import order_distribution_lines
        from distribution.selectors import approved_distributor_member_ids
        from distribution.services import binding_from_scene
        from distribution.services.commissions import (
            attribution_snapshot,
            commissions_follow_up_paid,
            commissions_follow_up_refunded,
        )
        from distribution.services.merge import register_handlers
        from members.hooks import register_login_scene_handler
        from members.segments.hooks import register_distributor_members
        from orders import hooks as order_hooks

        register_handlers()
        register_login_scene_handler(binding_from_scene)
        register_distributor_members(approved_distributor_member_ids)
        order_hooks.register_attribution(attribution_snapshot)
        order_hooks.register_order_paid(commissions_follow_up_paid)
        order_hooks.register_order_refunded(commissions_follow_up_refunded)
        order_hooks.register_distribution_lines(order_distribution_lines)
