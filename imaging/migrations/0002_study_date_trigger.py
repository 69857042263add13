"""Refuse studies dated before the patient's birth or in the future, in the database.

A check constraint can read neither another table nor the clock, so this is a trigger,
written for each supported database. One day of tolerance covers clinics east of UTC.
"""

from django.db import migrations

PG_CREATE = """
CREATE OR REPLACE FUNCTION imaging_study_date_check() RETURNS trigger AS $$
DECLARE dob date;
BEGIN
    SELECT date_of_birth INTO dob FROM patients_patient WHERE id = NEW.patient_id;
    IF NEW.study_date < dob THEN
        RAISE EXCEPTION 'study_date is before the patient''s date of birth'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.study_date > CURRENT_DATE + 1 THEN
        RAISE EXCEPTION 'study_date is in the future' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER imaging_study_date_check
    BEFORE INSERT OR UPDATE OF study_date, patient_id ON imaging_imagingstudy
    FOR EACH ROW EXECUTE FUNCTION imaging_study_date_check();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS imaging_study_date_check ON imaging_imagingstudy;
DROP FUNCTION IF EXISTS imaging_study_date_check();
"""

SQLITE_WHEN = """
    WHEN NEW.study_date < (SELECT date_of_birth FROM patients_patient WHERE id = NEW.patient_id)
      OR NEW.study_date > date('now', '+1 day')
    BEGIN SELECT RAISE(ABORT, 'study_date is before birth or in the future'); END;
"""
SQLITE_CREATE = [
    "CREATE TRIGGER imaging_study_date_check_insert BEFORE INSERT ON imaging_imagingstudy"
    + SQLITE_WHEN,
    "CREATE TRIGGER imaging_study_date_check_update"
    " BEFORE UPDATE OF study_date, patient_id ON imaging_imagingstudy" + SQLITE_WHEN,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS imaging_study_date_check_insert",
    "DROP TRIGGER IF EXISTS imaging_study_date_check_update",
]


def _run(schema_editor, statements) -> None:
    for sql in statements:
        schema_editor.execute(sql)


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [PG_CREATE])
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_CREATE)
    else:
        raise RuntimeError(f"no study-date trigger written for {vendor}")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, [PG_DROP] if vendor == "postgresql" else SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("imaging", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
