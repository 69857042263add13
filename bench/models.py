from django.db import models


class CohortStamp(models.Model):
    """What the benchmark seeded into this database, so `--reuse` can tell whether the
    cohort already there is exactly the one asked for (size and seed)."""

    patients = models.PositiveIntegerField()
    seed = models.IntegerField()
    as_of = models.DateField()
    cohort_patients = models.PositiveIntegerField(
        help_text="Patients in the cohort sites after the bench's own additions.")
    history_patient_id = models.BigIntegerField(null=True, blank=True)
    seeded_statuses = models.JSONField(
        null=True, blank=True,
        help_text="Follow-up status → ids of the cohort patients not 'active' as seeded: the sweep "
                  "changes statuses, and the bench puts them back before each first sweep.")
    written_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.patients} patients, seed {self.seed}, as of {self.as_of}"
