from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from patients.roles import sync_role_permissions

        # patients' own hook runs before this app's permissions exist on a fresh
        # database; running it again after alerts migrates gives admins the
        # thresholds, outbox and notification permissions too.
        post_migrate.connect(sync_role_permissions, sender=self,
                             dispatch_uid="alerts-sync-role-permissions")
