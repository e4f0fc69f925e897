from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from members.automation.hooks import register_trigger_source
        from members.segments.hooks import register_paid_orders
        from members.services.merge import register_merge_handler
        from orders import hooks as order_hooks
        from orders.members_growth import cart_left_candidates, member_on_order_paid
        from orders.merge import merge_carts
        from orders.models import Cart
        from orders.payables import OrderPayableHandler
        from orders.selectors import paid_orders_for_rfm
        from payments.purposes import register_purpose

        register_purpose("order", OrderPayableHandler())
        register_merge_handler(Cart, merge_carts)
        # Members (below orders) read paid orders and carts through their hooks.
        register_paid_orders(paid_orders_for_rfm)
        register_trigger_source("cart_abandoned", cart_left_candidates)
        order_hooks.register_order_paid(member_on_order_paid)
