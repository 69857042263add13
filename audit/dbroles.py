"""The application's database role on PostgreSQL: it reads and writes the clinical
tables, but may only read and append to the audit trail.

The tables belong to an owner role that runs the migrations (`MIGRATE_DATABASE_URL`);
the web, the workers and beat connect as the application role (`DATABASE_URL`). Not
owning the audit table, the application role cannot disable or drop its triggers;
without UPDATE, DELETE and TRUNCATE privileges it cannot erase rows even if the triggers
were gone. `manage.py migrate` calls `grant_application_role` after migrating, so every
new table is granted too.
"""

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from .models import AuditEvent

APPEND_ONLY = (AuditEvent._meta.db_table,)


def grant_application_role(connection: BaseDatabaseWrapper, role: str) -> None:
    """Give `role` what the application needs on every table and sequence of the schema,
    then take back everything but SELECT and INSERT on the append-only tables."""
    name = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}").format(name),
    ]
    statements += [sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(table), name)
                   for table in APPEND_ONLY]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
