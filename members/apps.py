from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from members.cards import admin as _card_admin  # noqa: F401  (console pages)
        from members.cards.payables import CardPayableHandler
        from members.models import MemberCard
        from members.services.cards import CARD_PURPOSE, merge_member_cards
        from members.services.merge import register_merge_handler
        from payments.purposes import register_purpose

        register_purpose(CARD_PURPOSE, CardPayableHandler())
        register_merge_handler(MemberCard, merge_member_cards)
