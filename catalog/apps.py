from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Products")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import signals  # noqa: F401  (cache invalidation only)
