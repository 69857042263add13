from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SurveillanceConfig(AppConfig):
    name = "surveillance"
    verbose_name = "Surveillance schedule"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the receivers)
        from .roles import grant_admin_permissions

        post_migrate.connect(grant_admin_permissions, sender=self)
