from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from members.services.merge import register_merge_handler
        from orders.merge import merge_carts
        from orders.models import Cart
        from orders.payables import OrderPayableHandler
        from payments.purposes import register_purpose

        register_purpose("order", OrderPayableHandler())
        register_merge_handler(Cart, merge_carts)
