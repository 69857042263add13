"""Registry import, step 3: write the new rows, parents first.

Rows that others refer to are given their ids as they are written: surgeries by
`bulk_create`, patients and studies by COPY and a read-back of their ids by uuid
(`create_patients`, `create_studies`; a surgery has no uuid). Every other row (tumour,
NAC, radiotherapy, pathology, findings, outbox events) is written with COPY
(`core.bulk.copy_objects`; `bulk_create` elsewhere than PostgreSQL): nothing refers to it.
`bulk_create`'s per-value preparation and psycopg's text arrays were most of the import's
writing time; see `create_studies` and docs/performance.md for the figures. No signals,
as with any bulk insert: the import writes its own outbox rows here and its audit events
after. Runs inside the import's one transaction (`importer.import_registry`).
"""


from django.db import models
from django.utils import timezone

from core.bulk import copy_objects
from imaging.models import ImagingStudy
from imaging.vocabulary import StudyStatus
from outbox.models import Event
from patients.models import Patient, Surgery
from patients.vocabulary import derive_subtype, is_pcr

from .layout import (
    RECORDS,
)


def create(model: type[models.Model], objs) -> None:
    """Insert the unsaved `objs`; each gets its primary key."""
    model._default_manager.bulk_create(objs, batch_size=1000)


def create_patients(patients: list[Patient]) -> None:
    """Insert the new patients with COPY and give each its id, read back by its uuid.

    As `create_studies`: for 300 patients `bulk_create` took ~12 ms of CPU, COPY and the
    read-back ~6 ms (bench database).
    """
    copy_objects(patients)
    _read_back_ids(patients, Patient, "uuid", [p.uuid for p in patients])


def create_studies(studies: list[ImagingStudy]) -> None:
    """Insert the new studies with COPY and give each its id, read back by its uuid.

    COPY returns no ids (their findings need them), hence the read-back. For 3,000
    studies `bulk_create` took ~205 ms of CPU (Django's per-value preparation, psycopg's
    text arrays), COPY and the read-back ~75 ms (bench database, busy machine).
    """
    copy_objects(studies)
    _read_back_ids(studies, ImagingStudy, "patient_id", sorted({s.patient_id for s in studies}))


def _read_back_ids(objs: list, model: type[models.Model], field: str, keys: list) -> None:
    """Give each of the just copied `objs` its id, read by uuid from the rows of `model`
    whose `field` is one of `keys` (1,000 keys a query). Elsewhere than PostgreSQL
    `copy_objects` is `bulk_create`, which set the ids already."""
    if not objs or objs[0].pk is not None:
        return
    ids: dict = {}
    for i in range(0, len(keys), 1000):
        ids.update(model._default_manager.filter(**{f"{field}__in": keys[i:i + 1000]})
                   .values_list("uuid", "pk"))
    for obj in objs:
        obj.pk = ids[obj.uuid]


class Writer:
    """Step 3 of `importer.RegistryImport`."""

    def write(self) -> None:
        """Parents first: each is given its id, which its children then take."""
        now = timezone.now()
        created_by_id = self.user.pk if self.user is not None else None
        children = self.new_children
        with self._bar(None, "Writing", total=self._object_count()) as bar:
            create_patients(self.new_patients)
            bar.update(len(self.new_patients))
            for record in ("tumour", "nac", "radiotherapy", "surgery", "study"):
                for row in children[record]:
                    # A new patient has its id now (COPY reads patient_id, not the relation).
                    row.obj.patient_id = self.patients[row.patient_key].pk
            for row in children["tumour"]:
                t = row.obj
                t.subtype = derive_subtype(t.er_percent, t.pr_percent, t.her2_ihc, t.her2_ish)
            for record in ("tumour", "nac", "radiotherapy"):
                self._copy(bar, [r.obj for r in children[record]])
            create(Surgery, [r.obj for r in children["surgery"]])
            bar.update(len(children["surgery"]))
            pathologies = []
            for row in children["surgery"]:
                if row.pathology is not None:
                    p = row.pathology
                    p.surgery_id = row.obj.pk
                    p.pcr = bool(is_pcr(p.ypt, p.ypn, p.pcr_definition))
                    pathologies.append(p)
            copy_objects(pathologies)
            studies = []
            for row in children["study"]:
                s = row.obj
                s.created_by_id = created_by_id
                if s.status == StudyStatus.FINAL:
                    s.signed_by_id, s.signed_at = row.signer_id, now
                studies.append(s)
            create_studies(studies)
            bar.update(len(studies))
            for attr in ("calcs", "enhs"):
                objs = []
                for row in children["study"]:
                    for finding_row in getattr(row, attr):
                        finding_row.obj.study_id = row.obj.pk
                        objs.append(finding_row.obj)
                self._copy(bar, objs)
            anchored = {r.obj.patient_id for key in ("tumour", "surgery", "radiotherapy")
                        for r in children[key]}
            self._outbox(studies, anchored)

    @staticmethod
    def _copy(bar, objs: list[models.Model]) -> None:
        copy_objects(objs)
        bar.update(len(objs))

    def _object_count(self) -> int:
        return len(self.new_patients) + sum(self.report.created[k] for k in RECORDS
                                            if k != "patient")

    @staticmethod
    def _outbox(studies: list[ImagingStudy], anchored: set[int]) -> None:
        """One evaluation per patient, for its latest newly imported final study; one plan
        rebuild per patient given a tumour, surgery or radiotherapy row. The outbox sweep
        processes them (they are not queued one by one)."""
        latest: dict[int, ImagingStudy] = {}
        for s in studies:
            if s.status == StudyStatus.FINAL:
                best = latest.get(s.patient_id)
                if best is None or s.study_date >= best.study_date:
                    latest[s.patient_id] = s
        events = [Event(patient_id=pid, object_id=s.pk, kind=Event.Kind.STUDY_FINALIZED)
                  for pid, s in latest.items()]
        events += [Event(patient_id=pid, object_id=None, kind=Event.Kind.ANCHORS_CHANGED)
                   for pid in sorted(anchored)]
        copy_objects(events)
