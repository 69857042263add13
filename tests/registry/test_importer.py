from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from outbox.models import Event
from patients.models import NacCourse, Pathology, Patient, Surgery, TumourProfile
from registry.importer import import_registry
from registry.layout import all_columns
from tests.patients.factories import PatientFactory, SiteFactory, UserFactory, example_signers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (
        Patient, TumourProfile, NacCourse, Surgery, Pathology, ImagingStudy,
        CalcificationFinding, EnhancementFinding)}


def csv_text(*rows: dict) -> str:
    cols = all_columns()
    lines = [",".join(cols)]
    for row in rows:
        lines.append(",".join(str(row.get(c, "")) for c in cols))
    return "\n".join(lines) + "\n"


@pytest.fixture
def sites(db):
    made = SiteFactory(code="north", name="North Clinic"), SiteFactory(code="south", name="South")
    example_signers()
    return made


def test_example_file_imports_full_histories(sites):
    report = import_registry(EXAMPLE.read_text())
    assert report.ok, report.lines()
    assert counts() == {"Patient": 3, "TumourProfile": 3, "NacCourse": 4, "Surgery": 3,
                        "Pathology": 3, "ImagingStudy": 13, "CalcificationFinding": 8,
                        "EnhancementFinding": 2}
    case = Patient.objects.get(mrn="REG-1001")
    assert case.tumour.subtype == "HR+/HER2+"
    assert case.surgeries.get().pathology.pcr is True
    assert case.studies.filter(status="final").count() == 8
    draft = ImagingStudy.objects.get(accession="S-80311")
    assert draft.status == "draft" and draft.signed_by is None
    signed = ImagingStudy.objects.get(accession="ACC-1001-05")
    assert signed.signed_by.username == "radiologist"  # the radiologist who attests it
    # One alert evaluation per patient with new final studies, for its latest study; one
    # plan rebuild per patient with treatment rows.
    assert Event.objects.filter(kind=Event.Kind.STUDY_FINALIZED).count() == 3
    assert Event.objects.filter(kind=Event.Kind.ANCHORS_CHANGED, patient_id=case.id).count() == 1
    evaluation = Event.objects.get(patient_id=case.id, kind=Event.Kind.STUDY_FINALIZED)
    assert ImagingStudy.objects.get(id=evaluation.object_id).accession == "ACC-1001-07"


def test_second_run_changes_nothing(sites):
    first = import_registry(EXAMPLE.read_text())
    before = counts()
    second = import_registry(EXAMPLE.read_text())
    assert second.ok
    assert counts() == before
    assert sum(second.created.values()) == 0
    assert second.present["patient"] == 3 and second.present["study"] == 13
    assert first.table != second.table
    assert "nothing changed" in "\n".join(second.lines())


def test_dry_run_writes_nothing_but_reports_what_it_would_create(sites):
    report = import_registry(EXAMPLE.read_text(), dry_run=True)
    assert report.ok and report.created["study"] == 13
    assert counts()["Patient"] == 0 and Event.objects.count() == 0
    assert "Dry run: nothing was written." in report.lines()


def test_every_problem_is_reported_with_row_and_column_and_nothing_is_written(sites):
    text = csv_text(
        {"record": "patient", "site": "north", "mrn": "A1", "given_name": "A", "family_name": "B",
         "date_of_birth": "1970-01-01"},
        {"record": "study", "site": "north", "mrn": "A1", "accession": "X1",
         "study_date": "2016-01-10", "modality": "MG", "birads": "7"},
        {"record": "calcification", "site": "north", "mrn": "A1", "accession": "X1", "group": "L1",
         "laterality": "left", "morphology": "sparkly", "distribution": "grouped",
         "extent_mm": "-3"},
        {"record": "nac", "site": "north", "mrn": "A1", "regimen": "AC", "start_date": "2015-05-01",
         "end_date": "2015-01-01"},
        {"record": "study", "site": "north", "mrn": "NOPE", "study_date": "2999-01-10",
         "modality": "MR"},
        {"record": "patient", "site": "east", "mrn": "Z9", "given_name": "A", "family_name": "B",
         "date_of_birth": "31/12/1970"},
        {"record": "surgery", "site": "north", "mrn": "A1"},
    )
    report = import_registry(text)
    found = {(p.row, p.column) for p in report.problems}
    assert (3, "birads") in found
    assert (4, "morphology") in found and (4, "extent_mm") in found
    assert (5, "end_date") in found
    assert (6, "mrn") in found and (6, "study_date") in found  # unknown patient: still checked
    assert (7, "date_of_birth") in found and (7, "site") in found
    assert {(8, "date"), (8, "laterality"), (8, "procedure")} <= found
    birads = next(p for p in report.problems if p.column == "birads")
    assert "7" in birads.message and "4A" in birads.message
    assert counts()["Patient"] == 0 and counts()["ImagingStudy"] == 0


def test_finding_rules_are_checked_across_rows(sites):
    patient = {"record": "patient", "site": "north", "mrn": "A1", "given_name": "A",
               "family_name": "B", "date_of_birth": "1970-01-01"}
    text = csv_text(
        patient,
        {"record": "study", "site": "north", "mrn": "A1", "study_date": "2016-01-10",
         "modality": "MR", "no_enhancement": "yes"},
        {"record": "calcification", "site": "north", "mrn": "A1", "study_date": "2016-01-10",
         "modality": "MR", "group": "L1", "laterality": "left", "morphology": "amorphous",
         "distribution": "grouped", "extent_mm": "4", "count_bin": "1-5"},
        {"record": "enhancement", "site": "north", "mrn": "A1", "study_date": "2016-01-10",
         "modality": "MR", "lesion": "E1", "laterality": "left", "lesion_type": "focus"},
        {"record": "study", "site": "north", "mrn": "A1", "study_date": "1960-01-10",
         "modality": "MG"},
        {"record": "enhancement", "site": "north", "mrn": "A1", "study_date": "2017-01-10",
         "modality": "MR", "lesion": "E1", "laterality": "left", "lesion_type": "focus"},
    )
    report = import_registry(text)
    messages = {(p.row, p.column): p.message for p in report.problems}
    assert "mammograms" in messages[(4, "record")]
    assert "no_enhancement" in messages[(5, "record")]
    assert "date of birth" in messages[(6, "study_date")]
    assert "No study row" in messages[(7, "study_date")]
    assert counts()["Patient"] == 0


def test_unknown_columns_and_missing_record_column(sites):
    assert import_registry("mrn,site\nA,north\n").problems[0].column == "record"
    report = import_registry("record,site,mrn,colour\n")
    assert [(p.row, p.column) for p in report.problems] == [(1, "colour")]


def test_rows_for_an_existing_patient_are_added_once(sites):
    existing = PatientFactory(site=sites[0], mrn="OLD-1")
    text = csv_text({"record": "study", "site": "north", "mrn": "OLD-1", "accession": "N1",
                     "study_date": "2016-01-10", "modality": "MG", "birads": "2"})
    assert import_registry(text).created["study"] == 1
    assert import_registry(text).present["study"] == 1
    assert existing.studies.count() == 1


def test_command_reports_and_fails_on_problems(sites, tmp_path, capsys):
    call_command("import_registry", str(EXAMPLE), "--dry-run", "--no-progress")
    assert "would be created" in capsys.readouterr().out
    assert Patient.objects.count() == 0
    call_command("import_registry", str(EXAMPLE), "--no-progress")
    call_command("import_registry", str(EXAMPLE), "--no-progress")
    assert "nothing changed" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("record,site,mrn\npatient,north,X\n")
    with pytest.raises(CommandError, match="problem"):
        call_command("import_registry", str(bad), "--no-progress")
    assert "row 2, column given_name" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No site"):
        call_command("import_registry", str(EXAMPLE), "--site", "nowhere")


def test_site_option_fills_blank_site_column(sites):
    text = csv_text({"record": "patient", "mrn": "A1", "given_name": "A", "family_name": "B",
                     "date_of_birth": "1970-01-01"})
    assert import_registry(text).problems[0].column == "site"
    assert import_registry(text, default_site=sites[1]).ok
    assert Patient.objects.get(mrn="A1").site == sites[1]


def _one_study(**cells) -> str:
    columns = ["record", "site", "mrn", "study_status", "signed_by", "given_name", "family_name",
               "date_of_birth", "accession", "study_date", "modality"]
    patient = {"record": "patient", "site": "north", "mrn": "ATT-1", "given_name": "Ada",
               "family_name": "Attest", "date_of_birth": "1960-01-01"}
    study = {"record": "study", "site": "north", "mrn": "ATT-1", "accession": "ATT-S1",
             "study_date": "2020-01-01", "modality": "MG", **cells}
    return "\n".join([",".join(columns), *(",".join(row.get(c, "") for c in columns)
                                          for row in (patient, study))]) + "\n"


def test_imported_studies_are_drafts_unless_a_radiologist_attests(sites):
    report = import_registry(_one_study())
    assert report.ok, report.lines()
    study = ImagingStudy.objects.get(accession="ATT-S1")
    assert study.status == "draft" and study.signed_by is None and study.signed_at is None
    assert not Event.objects.filter(kind=Event.Kind.STUDY_FINALIZED).exists()


def test_an_attested_study_is_signed_by_its_radiologist(sites):
    report = import_registry(_one_study(signed_by="radiologist"))
    assert report.ok, report.lines()
    study = ImagingStudy.objects.get(accession="ATT-S1")
    assert study.status == "final" and study.signed_by.username == "radiologist"
    assert Event.objects.filter(kind=Event.Kind.STUDY_FINALIZED, object_id=study.id).exists()


@pytest.mark.parametrize(("cells", "message"), [
    ({"study_status": "final"}, "needs the username of the radiologist who attests it"),
    ({"signed_by": "nobody"}, "'nobody' is not an active radiologist"),
    ({"signed_by": "radiologist2"}, "'radiologist2' is not a radiologist of this patient's site"),
    ({"signed_by": "clerk"}, "'clerk' is not an active radiologist"),
])
def test_a_final_study_without_a_valid_attester_is_refused(sites, cells, message):
    UserFactory(username="clerk")
    report = import_registry(_one_study(**cells))
    assert not report.ok and not ImagingStudy.objects.exists()
    (problem,) = report.problems
    assert (problem.row, problem.column) == (3, "signed_by") and message in problem.message


def _with_surgery_and_study(**study_cells) -> str:
    patient = {"record": "patient", "site": "north", "mrn": "PH-1", "given_name": "Pia",
               "family_name": "Phase", "date_of_birth": "1960-01-01"}
    surgery = {"record": "surgery", "site": "north", "mrn": "PH-1", "date": "2015-03-01",
               "laterality": "left", "procedure": "BCS"}
    study = {"record": "study", "site": "north", "mrn": "PH-1", "accession": "PH-S1",
             "modality": "MG", **study_cells}
    return csv_text(patient, surgery, study)


@pytest.mark.parametrize(("cells", "error"), [
    ({"study_date": "2016-09-01", "phase": "post_nac"}, "is a surveillance study"),
    ({"study_date": "2015-03-01", "phase": "surveillance"}, "is pre-surgical"),
    ({"study_date": "2015-02-01", "phase": "surveillance"}, "is pre-surgical"),
    ({"study_date": "2015-03-02", "phase": "surveillance"}, None),
    ({"study_date": "2015-03-01", "phase": "post_nac"}, None),
])
def test_a_phase_that_contradicts_the_surgery_date_is_a_row_error(sites, cells, error):
    report = import_registry(_with_surgery_and_study(**cells))
    if error is None:
        assert report.ok, report.lines()
        return
    assert not report.ok and not ImagingStudy.objects.exists()
    (problem,) = report.problems
    assert (problem.row, problem.column) == (4, "phase") and error in problem.message


def test_a_signed_mri_needs_a_lesion_or_no_enhancement(sites):
    cells = {"study_date": "2016-09-01", "phase": "surveillance", "modality": "MR",
             "signed_by": "radiologist"}
    report = import_registry(_with_surgery_and_study(**cells))
    (problem,) = report.problems
    assert (problem.row, problem.column) == (4, "no_enhancement")
    assert "at least one enhancing lesion" in problem.message
    assert import_registry(_with_surgery_and_study(**cells, no_enhancement="yes")).ok
    # A draft MRI may still be incomplete.
    assert import_registry(_with_surgery_and_study(**cells | {"signed_by": "", "accession": "PH-S2"})).ok
