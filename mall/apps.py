from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallConfig(AppConfig):
    name = "mall"
    label = "mall"
    verbose_name = _("Mall platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from mall.api import authentication, schema  # noqa: F401  (OpenAPI extensions)
        from mall.tenancy import signals  # noqa: F401  (cache invalidation)
        from mall.tenancy.rls import enable_row_level_security_after_migrate

        # Row-level security on tenant-owned tables that later migrations add (PostgreSQL).
        post_migrate.connect(
            enable_row_level_security_after_migrate,
            sender=self,
            dispatch_uid="mall.tenancy.rls.after_migrate",
        )
