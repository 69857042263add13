"""Voiding a clinical record with a reason: the one mechanism every voidable model shares.

A record typed by mistake (a surgery a year too early, a visit on the wrong patient, a
draft study nobody will sign) is never deleted: it is *voided* — who, when and why are
kept on the row, the patient's history shows it struck through with its reason, and
everything else (plan anchors, rules, cohort, exports, FHIR) no longer sees it.

- `Voidable` (abstract model): the fields `voided_at`, `voided_by`, `void_reason`.
- `objects` (the default manager, so related managers, prefetches and the JSON row
  readers use it too): the active rows only. `all_objects`: every row, for the history
  and the audit, with `.active()` and `.voided()`.
- `void_record(record, by=, reason=)`: validates the reason and stamps the row. The
  domain services (`patients.services.record_void`, `imaging.services.study_void`) call
  it inside their transaction and write their outbox event and audit record.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

REASON_MAX = 500


class VoidableQuerySet(models.QuerySet):
    def active(self) -> "VoidableQuerySet":
        return self.filter(voided_at__isnull=True)

    def voided(self) -> "VoidableQuerySet":
        return self.filter(voided_at__isnull=False)


class ActiveManager(models.Manager.from_queryset(VoidableQuerySet)):  # type: ignore[misc]
    """The default manager: voided rows are invisible unless asked for (`all_objects`)."""

    def get_queryset(self) -> VoidableQuerySet:
        return super().get_queryset().filter(voided_at__isnull=True)


class Voidable(models.Model):
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                  on_delete=models.PROTECT, related_name="+")
    void_reason = models.CharField(max_length=REASON_MAX, blank=True, editable=False)

    objects = ActiveManager()
    all_objects = VoidableQuerySet.as_manager()

    class Meta:
        abstract = True
        # Forward relations (`pathology.surgery`, `alert.study`) use Django's plain base
        # manager, so they still reach a voided row.

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


def clean_void_reason(reason: str | None) -> str:
    """The reason, stripped; a `ValidationError` on `reason` when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this record is being voided."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    return reason


def void_record(record: Voidable, *, by, reason: str | None) -> bool:
    """Stamp `record` voided by `by` for `reason`. Returns False when it already was (a
    second void changes nothing: the first reason stands). Run it in the caller's
    transaction, after locking the row."""
    reason = clean_void_reason(reason)
    if record.voided_at is not None:
        return False
    record.voided_at, record.voided_by, record.void_reason = timezone.now(), by, reason
    record.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return True
