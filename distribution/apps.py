from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from distribution.services.merge import register_handlers

        register_handlers()
