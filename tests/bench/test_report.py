"""The table, the targets and the JSON: pure functions, no database."""

import json

import pytest

from bench import report
from bench.report import MISS, NOT_AVAILABLE, PASS, Row


def test_p95_is_the_nearest_rank():
    assert report.p95([5.0]) == 5.0
    assert report.p95([float(i) for i in range(1, 21)]) == 19.0
    assert report.p95([float(i) for i in range(1, 11)]) == 10.0
    assert report.median([3.0, 1.0, 2.0]) == 2.0


@pytest.mark.parametrize(("queries", "p95", "status"), [
    (15, 0.040, PASS), (16, 0.010, MISS), (4, 0.0401, MISS), (4, 0.039, PASS),
])
def test_page_targets(queries, p95, status):
    # The floor's ratio is shown for information: it no longer decides the result.
    row = Row(item="1", name="page", median=0.01, p95=p95, queries=queries, ratio=9.0,
              checks=report.page_checks(queries, p95))
    assert row.status == status


def test_rate_and_seconds_targets():
    assert Row("4", "re-eval", rate=20_000, checks=report.rate_check(
        20_000, report.MIN_REEVAL_STUDIES_PER_S, "studies/s")).status == PASS
    assert Row("7", "import", rate=4_999, checks=report.rate_check(
        4_999, report.MIN_IMPORT_STUDIES_PER_S, "studies/s")).status == MISS
    assert Row("5", "sweep", median=5.1, checks=report.seconds_check(5.1, 5)).status == MISS
    assert Row("8", "trivial", median=0.002).status == ""


def test_unavailable_rows_say_why_and_count_as_neither_pass_nor_miss():
    row = report.unavailable("5", "Daily sweep", "the surveillance app is not installed")
    assert row.status == NOT_AVAILABLE
    lines = report.table_lines([row], patients=10, studies=100, repeat=3)
    assert any("not available: the surveillance app is not installed" in line for line in lines)
    assert lines[-1] == "0 PASS, 0 MISS, 1 not available."


def test_table_shows_cohort_size_targets_and_results():
    rows = [
        Row("1", "Timeline page", median=0.0123, p95=0.02, queries=9, floor=0.005, ratio=2.46,
            checks=report.page_checks(9, 0.02)),
        Row("4", "Re-evaluation", median=3.0, rate=40_000.0, unit="studies/s",
            checks=report.rate_check(40_000, 20_000, "studies/s")),
        Row("6", "Concordance", median=2.5, checks=report.seconds_check(2.5, 2)),
    ]
    text = "\n".join(report.table_lines(rows, patients=10_000, studies=120_000, repeat=5))
    assert "10,000 patients, 120,000 studies" in text
    assert "12.3 ms" in text and "2.46" in text and "≤15 queries; p95 ≤40 ms" in text
    assert "40,000 studies/s" in text and "≥20,000 studies/s" in text
    assert "2.50 s" in text and "≤2 s" in text
    assert "2 PASS, 1 MISS, 0 not available." in text


def test_json_round_trip_and_side_by_side(tmp_path):
    small = [Row("1", "Timeline page", median=0.010, queries=9), Row("4", "Re-eval", rate=30_000.0,
                                                                      unit="studies/s")]
    large = [Row("1", "Timeline page", median=0.011, queries=9),
             report.unavailable("4", "Re-eval", "not installed")]
    a = report.write_json(tmp_path / "a.json", small, {"patients": 10_000})
    b = report.write_json(tmp_path / "b.json", large, {"patients": 100_000})
    runs = [json.loads(a.read_text()), json.loads(b.read_text())]
    assert runs[0]["rows"][0]["status"] == "" and runs[1]["rows"][1]["status"] == NOT_AVAILABLE
    lines = report.compare_lines(runs)
    assert "10,000 patients" in lines[0] and "100,000 patients" in lines[0]
    timeline = next(line for line in lines if "Timeline page" in line)
    assert "10.0 ms (9 q)" in timeline and "11.0 ms (9 q)" in timeline
    assert "n/a" in next(line for line in lines if "Re-eval" in line)


def test_side_by_side_prints_whole_cohort_jobs_per_patient(tmp_path):
    runs = [json.loads(report.write_json(tmp_path / f"{n}.json", [
        Row("1", "Timeline page", median=0.010, queries=9),
        Row("6", "Cohort concordance statistics", median=seconds, queries=2)], {"patients": n}).read_text())
        for n, seconds in ((10_000, 0.15), (1_000_000, 15.0))]
    lines = report.compare_lines(runs)
    per_patient = lines[lines.index("Whole-cohort jobs per patient (flat = linear in the cohort):"):]
    assert len(per_patient) == 2  # the concordance only: a page is not a cohort job
    assert per_patient[1].count("15.0 µs/patient") == 2
