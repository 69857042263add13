from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Shared helpers every layer may use: formatting, widgets, middleware, roles, db helpers.

    Imports no domain app (the import-linter contract in `.importlinter` says so).
    """

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Connect the idle-timeout clock before the first login, not at first request.
        from . import middleware  # noqa: F401
        from .roles import sync_role_permissions

        # No sender: permissions of apps migrated after this one must exist first, so
        # the sync runs after every app's migrations (it is idempotent and cheap).
        post_migrate.connect(sync_role_permissions, dispatch_uid="sync-role-permissions")
