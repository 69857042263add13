"""`migrate`, run as the database's owner role when MIGRATE_DATABASE_URL is set.

The application connects as a role that owns nothing (DATABASE_URL); the tables must be
created and altered by their owner. With MIGRATE_DATABASE_URL set (PostgreSQL), this
command connects with it instead, migrates, and grants the application role
(DATABASE_URL's user) what it needs: everything on the clinical tables, only SELECT and
INSERT on the audit trail (audit/dbroles.py). Without it, migrate is Django's own.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections

from audit.dbroles import grant_application_role

CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


class Command(migrate.Command):
    help = migrate.Command.help + " As the owner role of MIGRATE_DATABASE_URL when it is set."

    def execute(self, *args, **options):
        owner = settings.MIGRATE_DATABASE
        database = options.get("database") or DEFAULT_DB_ALIAS
        if not owner or database != DEFAULT_DB_ALIAS:
            return super().execute(*args, **options)
        connection = connections[DEFAULT_DB_ALIAS]
        app_settings = {key: connection.settings_dict.get(key) for key in CONNECTION_KEYS}
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in CONNECTION_KEYS if key in owner})
        try:
            result = super().execute(*args, **options)
            app_user = app_settings["USER"]
            if connection.vendor == "postgresql" and app_user and app_user != owner.get("USER"):
                grant_application_role(connection, app_user)
                if options.get("verbosity", 1) >= 1:
                    self.stdout.write(f"Granted the application role {app_settings['USER']!r} "
                                      "its privileges (the audit trail: read and append only).")
            return result
        finally:
            connection.close()
            connection.settings_dict.update(app_settings)
