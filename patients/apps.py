from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients and treatment"

    def ready(self) -> None:
        from .roles import sync_role_permissions

        # No sender: permissions of apps migrated after this one must exist first, so
        # the sync runs after every app's migrations (it is idempotent and cheap).
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync-role-permissions")
