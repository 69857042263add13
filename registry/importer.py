"""Import historical patients, treatment, studies and findings from a registry CSV.

1. `parse.py`: every row into unsaved model objects, collecting every problem with its
   row number and column (nothing stops at the first problem).
2. `resolve.py`: the rows against each other and against the database (references,
   duplicates, study rules), skipping what already exists: patients by site + MRN,
   studies by accession (else date + modality), treatment by its dates.
3. `write.py`: only when there is no problem, everything in one transaction (rolled back
   again for a dry run), table by table, parents first: `bulk_create` where the ids are
   needed, COPY for the rest (see write.py). A re-run of the same file finds everything
   present and writes nothing.

The result, problems included, is what the original importer (model instances,
`full_clean` per row, `bulk_create`) gave: the golden files of
tests/registry/test_import_equivalence.py hold it to that. The command shows a progress
bar (tqdm); uploads report progress through `on_progress` (registry/uploads.py).
"""

import gc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from tqdm import tqdm

from audit.models import Action
from audit.services import audit_event, audit_record, audit_record_many
from patients.models import Site

from .layout import (
    KEY_COLUMNS,
    RECORDS,
)
from .parse import Parser, Row
from .resolve import Resolver
from .write import Writer

__all__ = ["KEY_COLUMNS", "ImportReport", "Problem", "decode_upload", "import_registry"]




@dataclass(frozen=True)
class Problem:
    row: int  # 1 is the header; data rows start at 2, as in a spreadsheet
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def table(self) -> list[tuple[str, int, int]]:
        """(record, created or to create, already present) for each record type in the file."""
        return [(r, self.created[r], self.present[r]) for r in RECORDS
                if self.created[r] or self.present[r]]

    def lines(self) -> list[str]:
        out = [f"{self.rows} data rows read."]
        if self.problems:
            out.append(f"{len(self.problems)} problem(s); nothing was written:")
            out += [f"  {p}" for p in self.problems]
            return out
        verb = "would be created" if self.dry_run else "created"
        for record, created, present in self.table:
            out.append(f"  {record}: {created} {verb}, {present} already present")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        elif not sum(self.created.values()):
            out.append("Everything in the file was already present: nothing changed.")
        return out


ProgressCallback = Callable[[str, int, "int | None"], None]


class _Progress:
    """One stage's progress: a tqdm bar for the command (`progress`), and the job's
    `on_progress(stage, done, total)` every `EVERY` rows for the upload page."""

    EVERY = 500

    def __init__(self, job: "RegistryImport", items: Iterable | None, desc: str, total: int | None):
        self.bar = tqdm(items, desc=desc, total=total, disable=not job.progress, unit="row", leave=False)
        self.callback = job.on_progress
        self.items, self.desc, self.total = items, desc, total
        self.done = self.reported = 0

    def __iter__(self):
        self._report()
        for item in self.bar if self.items is not None else ():
            yield item
            self.done += 1
            if self.done - self.reported >= self.EVERY:
                self._report()
        self._report()

    def update(self, n: int) -> None:
        self.bar.update(n)
        self.done += n
        self._report()

    def _report(self) -> None:
        if self.callback is not None:
            self.callback(self.desc, self.done, self.total)
            self.reported = self.done

    def __enter__(self) -> "_Progress":
        self.bar.__enter__()
        self._report()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)


class RegistryImport(Parser, Resolver, Writer):
    """One import: the rows, the problems found, and what is new."""

    def __init__(self, *, default_site: Site | None = None, user: AbstractBaseUser | None = None,
                 progress: bool = False, allowed_sites: set[str] | None = None,
                 on_progress: ProgressCallback | None = None):
        self.default_site = default_site
        self.allowed_sites = allowed_sites
        self.user = user
        self.progress = progress
        self.on_progress = on_progress
        self.report = ImportReport()
        self.rows: list[Row] = []
        self.default_code = default_site.code if default_site else ""
        self.radiologists: dict[str, set[tuple[int, int | None]]] | None = None  # read once
    def problem(self, row: int, column: str, message: str) -> None:
        self.report.problems.append(Problem(row, column, message))

    def _bar(self, items: Iterable | None, desc: str, total: int | None = None) -> "_Progress":
        return _Progress(self, items, desc, total)


def import_registry(text: str, *, dry_run: bool = False, default_site: Site | None = None,
                    user: AbstractBaseUser | None = None, progress: bool = False,
                    allowed_sites: set[str] | None = None,
                    source: str = "command",
                    on_progress: ProgressCallback | None = None) -> ImportReport:
    """Validate the whole file; write it (all or nothing) unless there is a problem or a dry run.

    `allowed_sites` (site codes) limits an upload to the uploader's sites; the command,
    run by the operator, has no limit. A written import leaves one audit event with its
    counts (`source`: "command" or "upload"), never patient details.
    """
    with _collector_paused():
        # The job (every row's objects) is freed when _run returns, before the collector
        # is back on: it has nothing of the import left to walk.
        return _run(RegistryImport(default_site=default_site, user=user, progress=progress,
                                   allowed_sites=allowed_sites, on_progress=on_progress),
                    text, dry_run=dry_run, source=source)


def _run(job: "RegistryImport", text: str, *, dry_run: bool, source: str) -> ImportReport:
    job.report.dry_run = dry_run
    job.parse(text)
    job.resolve()
    job.report.problems.sort(key=lambda p: (p.row, p.column))
    if job.report.problems:
        return job.report
    with transaction.atomic():
        job.write()
        if dry_run:
            transaction.set_rollback(True)
        else:
            job.report.written = True
            _audit(job, user=job.user, source=source, default_site=job.default_site)
    return job.report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the import, on again after (for the whole
    process: the import runs in the command or in a Celery worker, alone).

    An import keeps every row's objects until it has written them (~9 tracked objects a
    row), and each full collection walks them all again: 300 patients × 10 studies
    (10,500 rows) paid ~1.7 full collections, ~0.15 s of its ~0.85 s of CPU (bench
    database, busy machine). The import leaves little cyclic garbage (~2,000 objects),
    collected once the collector is back on. Reference counting frees everything else
    as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _audit(job: "RegistryImport", *, user: AbstractBaseUser | None, source: str,
           default_site: Site | None) -> None:
    """One event with the import's counts, and one per patient it wrote to, naming the
    patient (by id and UUID) and what was added to her record."""
    report = job.report
    actor_username = "" if user is not None else "import_registry (command)"
    audit_record(action=Action.IMPORT, actor=user, actor_username=actor_username,
                 changes={"source": source, "rows": report.rows,
                          "default_site": default_site.code if default_site else None,
                          "created": {r: report.created[r] for r in RECORDS},
                          "present": {r: report.present[r] for r in RECORDS}})
    added: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for patient in job.new_patients:
        added[(patient.site.code, patient.mrn)]["patient"] += 1
    for record, rows in job.new_children.items():
        for row in rows:
            counts = added[row.patient_key]
            counts[record] += 1
            if record == "study":
                for finding_record, findings in (("calcification", row.calcs),
                                                 ("enhancement", row.enhs)):
                    if findings:
                        counts[finding_record] += len(findings)
    audit_record_many([
        audit_event(action=Action.IMPORT, obj=job.patients[key], actor=user,
                    actor_username=actor_username,
                    changes={"source": source, "created": dict(sorted(counts.items()))})
        for key, counts in sorted(added.items())])


def decode_upload(raw: bytes) -> str:
    """CSV bytes as text (UTF-8, with or without BOM); ValueError otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from exc
    if "\x00" in text:  # no text column can store it (PostgreSQL refuses it)
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValueError(f"Line {line} holds a NUL character: this is not a CSV text file.")
    return text

