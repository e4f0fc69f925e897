from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallConfig(AppConfig):
    name = "mall"
    label = "mall"
    verbose_name = _("Mall platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mall.api import authentication, schema  # noqa: F401  (OpenAPI extensions)
        from mall.tenancy import signals  # noqa: F401  (cache invalidation)
