from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from members.services.cards import CARD_PURPOSE
        from payments.cards import CardPayableHandler
        from payments.purposes import register_purpose

        register_purpose(CARD_PURPOSE, CardPayableHandler())
