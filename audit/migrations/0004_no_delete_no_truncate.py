"""The audit trail refuses DELETE on SQLite too, and TRUNCATE on PostgreSQL.

PostgreSQL: a statement trigger refuses TRUNCATE (row triggers do not fire on it), beside
the row trigger of 0002 that refuses UPDATE and DELETE. The application's own database
role is also denied those privileges and does not own the table, so it cannot disable or
drop the triggers (audit/dbroles.py, docs/deployment.md).
"""

from django.db import migrations

PG_CREATE = """
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
PG_DROP = "DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;"
SQLITE_CREATE = """
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS audit_no_delete"


def create(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(PG_CREATE if pg else SQLITE_CREATE)


def drop(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(PG_DROP if pg else SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_admin_and_list_actions")]
    operations = [migrations.RunPython(create, drop)]
