from django.apps import AppConfig


class MallConfig(AppConfig):
    name = "mall"
    label = "mall"
    verbose_name = "Mall platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mall.api import authentication, schema  # noqa: F401  (OpenAPI extensions)
        from mall.tenancy import signals  # noqa: F401  (cache invalidation)
