"""The adherence snapshot of the programme quality measures (`cohort/quality_selectors.py`).

Adherence counts every scheduled exam whose window has closed: three million rows at
100,000 patients, too many to count on each request within the two seconds the measures
are allowed. A window, once closed, changes rarely (a late "done elsewhere"), so the
counts are taken once a day (`cohort.tasks.rebuild_adherence`, after the surveillance
sweep) per site, subtype, due date and year of follow-up, and the page sums them.
"""

from django.db import models

from patients.models import Site


class AdherenceSnapshot(models.Model):
    """One build of the adherence counts: the page says how fresh they are."""

    as_of = models.DateField(help_text="Windows closed before this day are counted.")
    built_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-built_at", "-id"]

    def __str__(self) -> str:
        return f"Adherence as of {self.as_of}"


class AdherenceCount(models.Model):
    """Scheduled exams due on `due_date` in `follow_up_year` whose window had closed
    (`closed`), and how many of them were done within it (`done`)."""

    snapshot = models.ForeignKey(AdherenceSnapshot, on_delete=models.CASCADE, related_name="counts")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    subtype = models.CharField(max_length=16, blank=True)
    due_date = models.DateField()
    follow_up_year = models.PositiveSmallIntegerField()
    closed = models.PositiveIntegerField()
    done = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["snapshot", "site", "due_date"])]

    def __str__(self) -> str:
        return f"{self.done}/{self.closed} due {self.due_date} (year {self.follow_up_year})"
