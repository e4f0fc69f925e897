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

        _commands_run_platform_wide()

        # Row-level security on tenant-owned tables that later migrations add (PostgreSQL).
        post_migrate.connect(
            enable_row_level_security_after_migrate,
            sender=self,
            dispatch_uid="mall.tenancy.rls.after_migrate",
        )


def _commands_run_platform_wide() -> None:
    """Management commands are operator tools (create_tenant, seed_demo, followups, migrate's
    data steps ...): every command runs in ``all_tenants()``, from ``manage.py`` and from
    ``call_command`` alike. Servers started by a command still serve each request in its
    own tenant's scope (the middleware sets it)."""
    from django.core.management.base import BaseCommand

    from mall.tenancy.scope import all_tenants

    if getattr(BaseCommand.execute, "platform_wide", False):
        return
    execute = BaseCommand.execute

    def platform_wide_execute(self: BaseCommand, *args: object, **options: object) -> object:
        with all_tenants():
            return execute(self, *args, **options)

    platform_wide_execute.platform_wide = True  # type: ignore[attr-defined]
    # Every management command runs platform-wide (mall/tenancy/scope.py).
    BaseCommand.execute = platform_wide_execute  # type: ignore[method-assign, assignment]
