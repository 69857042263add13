"""python manage.py extraction_scores [--corpus PATH ...] [--misses]

Runs the report extractor (imaging.extraction) over labelled corpora and prints precision,
recall and F1 per field, with the targets; exits non-zero when a target is missed.

Targets: precision >= 0.95 and recall >= 0.85 for BI-RADS, study laterality, and the
calcification groups' morphology, distribution and extent, on every corpus scored. The
other rows are measured and shown without a target.

How it counts (imaging/extraction/scoring.py, docs/report-extraction.md):

- Study fields, once per report: a proposed value equal to the label is a true positive;
  a different proposed value a false positive (and a false negative if the label has one);
  a label left without a proposal a false negative.
- Calcification groups are paired with labelled ones by breast + morphology, lesions by
  breast + lesion type (in report order when alike). A paired group's morphology is a true
  positive, an unpaired proposal a false positive, an unpaired label a false negative. The
  other group fields (distribution, extent, change; lesion size, kinetics, change) compare
  slot by slot on paired groups and count against the unpaired ones, so a group placed in
  the wrong breast costs each of its fields.

Without --corpus it scores the committed corpora in tests/imaging/extraction/corpus/: the
360 generated reports (generated.jsonl, from generate.py), the 48 hand-written ones
(handwritten.jsonl) and 20 more hand-written after tuning (handwritten_holdout.jsonl).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imaging.extraction import extract
from imaging.extraction.scoring import load_corpus, score, table

CORPUS_DIR = Path(settings.BASE_DIR) / "tests" / "imaging" / "extraction" / "corpus"
DEFAULT_CORPORA = tuple(CORPUS_DIR / name for name in
                        ("generated.jsonl", "handwritten.jsonl", "handwritten_holdout.jsonl"))


class Command(BaseCommand):
    help = ("Precision/recall/F1 per field of the report extractor on labelled corpora (JSON lines); "
            "exits non-zero if a target (P >= 0.95, R >= 0.85 for BI-RADS, laterality, morphology, "
            "distribution, extent) is missed.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", type=Path, action="append",
                            help="A corpus file (repeatable). "
                                 "Default: the generated and the two hand-written corpora.")
        parser.add_argument("--misses", action="store_true",
                            help="Also list every slot the extractor got wrong, per report.")

    def handle(self, *args, corpus: list[Path] | None, misses: bool, **options) -> None:
        failures: list[str] = []
        for path in corpus or DEFAULT_CORPORA:
            if not path.is_file():
                raise CommandError(f"No corpus at {path}.")
            scores = score(load_corpus(path), extract)
            self.stdout.write(table(scores, path.name) + "\n")
            if misses:
                for miss in scores.misses:
                    self.stdout.write(f"  {miss.case}  {miss.field}: labelled {miss.expected!r}, "
                                      f"proposed {miss.proposed!r}")
                self.stdout.write("")
            failures += [f"{path.name}: {failure}" for failure in scores.failures()]
        if failures:
            raise CommandError("Targets missed:\n" + "\n".join(failures))
        self.stdout.write(self.style.SUCCESS("Every target met."))
