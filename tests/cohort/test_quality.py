"""Programme quality measures on a fixed cohort, against figures computed by hand.

The report date is 30 June 2026. The cohort (`fixed_cohort`), with each hand computation
next to the assertion that checks it:

North Clinic (radiologist R1 signs its exams)
- P1, HR+/HER2−, surgery 15 Jan 2020, active.
  A1 calc_extent_increase on S1 (BI-RADS 3): raised 1 Jan 2026, acknowledged 3 Jan (2 d),
     resolved 20 Jan (19 d) as biopsy ordered; biopsy 28 Jan: invasive.
  A2 surveillance_overdue (no exam): raised 1 Mar, acknowledged 2 Mar (1 d), resolved
     15 May (75 d) as short-interval follow-up.
  Scheduled: I1 due 15 Jul 2020 (year 1) done in its window; I2 due 15 Jul 2021 (year 2)
     done after its window closed; I3 due 15 Jul 2022 (year 3) never done (stamped
     overdue by the sweep); I4 due 15 Jul 2023 cancelled; I5 due 1 May 2026 pending,
     window still open and not overdue before 30 Jun (not stamped).
- P2, triple negative, surgery 1 Mar 2021, active.
  S2 BI-RADS 4B on 1 Apr 2026 → A3 birads_suspicious raised 2 Apr, acknowledged 12 Apr,
     resolved 15 Apr (13 d) as biopsy ordered; biopsy 25 Apr: benign.
  A4 calc_new_group on S6 (BI-RADS 2): raised 10 Jun, open (20 days old).
  Scheduled: I6 due 28 Feb 2022 (364 days after surgery: year 1) done on the day; I7 due
     2 Mar 2022 (366 days: year 2) done in its window.
- P4, no surveillance plan: counts nowhere.
South Clinic (radiologist R2)
- P3, HR+/HER2−, surgery 1 Jun 2019, lost to follow-up.
  S3 MRI BI-RADS 4 on 30 Nov 2025 → A5 mri_new_enhancement raised 1 Dec 2025, open.
  S4 mammogram BI-RADS 0 on 1 Feb 2026; S5 on 20 Feb 2026 BI-RADS 2 (19 days later).
  Scheduled: I8 due 15 May 2020 (year 1), never done, lost.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from alerts.models import Alert
from cohort.models import AdherenceCount, AdherenceSnapshot
from cohort.quality import Start, timeliness
from cohort.quality_selectors import QualityFilters, quality_report
from cohort.services import adherence_rebuild
from cohort.tasks import rebuild_adherence
from patients import vocabulary as pv
from surveillance.models import BiopsyFollowUp, PatientPlan, Protocol, ScheduledItem
from surveillance.services.biopsies import biopsy_follow_ups_open
from tests.api.helpers import scheduled
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory, TumourProfileFactory, UserFactory

AS_OF = date(2026, 6, 30)
NOON = datetime.min.time().replace(hour=12)


def at(day: date) -> datetime:
    return datetime.combine(day, NOON, tzinfo=UTC)


def make_alert(patient, rule, raised, *, study=None, acknowledged=None, resolved=None, resolution="",
               by=None) -> Alert:
    alert = Alert.objects.create(
        patient=patient, rule=rule, severity="high", study=study, dedup_key=f"{patient.pk}:{rule}:{raised}",
        reason="test", state="resolved" if resolved else ("acknowledged" if acknowledged else "open"),
        acknowledged_at=at(acknowledged) if acknowledged else None,
        acknowledged_by=by if acknowledged else None,
        resolved_at=at(resolved) if resolved else None, resolved_by=by if resolved else None,
        resolution=resolution)
    Alert.objects.filter(pk=alert.pk).update(created_at=at(raised))
    return alert


def plan(patient, surgery: date) -> None:
    PatientPlan.objects.create(patient=patient, protocol=Protocol.objects.get(is_default=True),
                               protocol_version=1, surgery_date=surgery,
                               ends_on=surgery.replace(year=surgery.year + 10))


@pytest.fixture
def fixed_cohort(site, other_site, radiologist):
    return build_fixed_cohort(site, other_site, radiologist)


def build_fixed_cohort(site, other_site, radiologist) -> dict:
    r1 = radiologist
    r1.first_name, r1.last_name = "Ruth", "Alvarez"
    r1.save()
    r2 = UserFactory(first_name="Rafael", last_name="Moreau")
    r1.sites.add(other_site)  # the clinic lead sees both sites
    p1 = PatientFactory(site=site)
    TumourProfileFactory(patient=p1, er_percent=80, pr_percent=10, her2_ihc="1+")
    p2 = PatientFactory(site=site)
    TumourProfileFactory(patient=p2, er_percent=0, pr_percent=0, her2_ihc="0")
    p3 = PatientFactory(site=other_site, follow_up_status=pv.FollowUpStatus.LOST_TO_FOLLOW_UP)
    TumourProfileFactory(patient=p3, er_percent=60, pr_percent=0, her2_ihc="0")
    PatientFactory(site=site)  # P4: no plan, no alert

    def exam(patient, day, birads, signer, modality="MG"):
        return ImagingStudyFactory(patient=patient, final=True, study_date=day, birads=birads,
                                   signed_by=signer, modality=modality, no_enhancement=modality == "MR")

    s1 = exam(p1, date(2025, 12, 20), "3", r1)
    s2 = exam(p2, date(2026, 4, 1), "4B", r1)
    s6 = exam(p2, date(2026, 6, 9), "2", r1)
    s3 = exam(p3, date(2025, 11, 30), "4", r2, modality="MR")
    exam(p3, date(2026, 2, 1), "0", r2)
    exam(p3, date(2026, 2, 20), "2", r2)
    a1 = make_alert(p1, "calc_extent_increase", date(2026, 1, 1), study=s1, acknowledged=date(2026, 1, 3),
                    resolved=date(2026, 1, 20), resolution="biopsy_ordered", by=r1)
    make_alert(p1, "surveillance_overdue", date(2026, 3, 1), acknowledged=date(2026, 3, 2),
               resolved=date(2026, 5, 15), resolution="short_interval_follow_up", by=r1)
    a3 = make_alert(p2, "birads_suspicious", date(2026, 4, 2), study=s2, acknowledged=date(2026, 4, 12),
                    resolved=date(2026, 4, 15), resolution="biopsy_ordered", by=r1)
    make_alert(p2, "calc_new_group", date(2026, 6, 10), study=s6)
    make_alert(p3, "mri_new_enhancement", date(2025, 12, 1), study=s3)
    biopsy_follow_ups_open()
    BiopsyFollowUp.objects.filter(alert=a1).update(biopsy_date=date(2026, 1, 28), histology="invasive")
    BiopsyFollowUp.objects.filter(alert=a3).update(biopsy_date=date(2026, 4, 25), histology="benign")

    plan(p1, date(2020, 1, 15))
    scheduled(p1, date(2020, 7, 15), status="done", done_on=date(2020, 8, 1), done_source="elsewhere")
    scheduled(p1, date(2021, 7, 15), status="done", done_on=date(2022, 3, 1), done_source="elsewhere")
    scheduled(p1, date(2022, 7, 15), became_overdue_on=date(2022, 9, 14))  # as the sweep stamps it
    scheduled(p1, date(2023, 7, 15), status="cancelled", cancel_reason="declined")
    scheduled(p1, date(2026, 5, 1))
    plan(p2, date(2021, 3, 1))
    scheduled(p2, date(2022, 2, 28), status="done", done_on=date(2022, 2, 28), done_source="elsewhere")
    scheduled(p2, date(2022, 3, 2), status="done", done_on=date(2022, 4, 1), done_source="elsewhere")
    plan(p3, date(2019, 6, 1))
    scheduled(p3, date(2020, 5, 15), became_overdue_on=date(2020, 7, 15), lost_to_follow_up=True,
              lost_on=date(2021, 7, 15))
    adherence_rebuild(as_of=AS_OF)  # as the morning task does
    return {"r1": r1, "r2": r2, "sites": {site.id: site.name, other_site.id: other_site.name},
            "site": site, "other_site": other_site}


def report(cohort, **filters):
    f = QualityFilters(site_ids=tuple(cohort["sites"]), **filters)
    return quality_report(f, as_of=AS_OF, site_names=cohort["sites"])


def test_alert_timeliness_by_hand(fixed_cohort):
    t = report(fixed_cohort).overall.alerts
    assert (t.n, t.acknowledged, t.resolved) == (5, 3, 3)
    assert t.median_days_to_acknowledge == 2  # median of 2, 1, 10
    assert t.median_days_to_resolve == 19  # median of 19, 75, 13
    # 30 and 60 days: A1, A2, A3, A5 are old enough; A1 (19 d) and A3 (13 d) resolved in time.
    assert t.within[30] == (2, 4) and t.within[60] == (2, 4)
    # 90 days: A3 is 89 days old, not counted; A1 (19 d) and A2 (75 d) of A1, A2, A5.
    assert t.within[90] == (2, 3)
    assert t.share_within(90).value == pytest.approx(2 / 3)


def test_abnormal_result_timeliness_by_hand(fixed_cohort):
    t = report(fixed_cohort).overall.abnormal
    # S2 (4B), S3 (4), S4 (0); S2 acknowledged after 11 days (12 Apr); S2 resolved by its
    # biopsy after 24 days, S4 by S5 after 19; S3's alert is still open.
    assert (t.n, t.acknowledged, t.resolved) == (3, 1, 2)
    assert t.median_days_to_acknowledge == 11
    assert t.median_days_to_resolve == 21.5
    # S2 is exactly 90 days old: counted in every window.
    assert t.within == {30: (2, 3), 60: (2, 3), 90: (2, 3)}


def test_adherence_by_year_of_follow_up_by_hand(fixed_cohort):
    a = report(fixed_cohort).overall.adherence
    # Year 1: I1 ✓, I6 ✓ (364 days), I8 ✗; year 2: I2 ✗ (after its window), I7 ✓ (366 days);
    # year 3: I3 ✗. I4 is cancelled and I5's window is open: neither counts.
    assert a.by_year[1] == (2, 3) and a.by_year[2] == (1, 2) and a.by_year[3] == (0, 1)
    assert all(a.by_year[y] == (0, 0) for y in range(4, 11))
    assert (a.done, a.total) == (3, 6)


def test_overdue_and_lost_by_hand(fixed_cohort):
    s = report(fixed_cohort).overall.status
    # P1 (I3 overdue), P2 (nothing overdue; I5 of P1 is overdue only after today), P3 lost.
    assert (s.patients, s.overdue, s.lost) == (3, 1, 1)


def test_per_site(fixed_cohort):
    groups = {g.label: g for g in report(fixed_cohort).groups}
    north, other = groups["North Clinic"], groups["South Clinic"]
    assert north.alerts.within == {30: (2, 3), 60: (2, 3), 90: (2, 2)}
    assert other.alerts.within == {30: (0, 1), 60: (0, 1), 90: (0, 1)}
    assert (north.adherence.done, north.adherence.total) == (3, 5)
    assert (other.adherence.done, other.adherence.total) == (0, 1)
    assert (north.status.patients, north.status.overdue, north.status.lost) == (2, 1, 0)
    assert (other.status.patients, other.status.overdue, other.status.lost) == (1, 0, 1)
    assert (north.abnormal.n, other.abnormal.n) == (1, 2)


def test_per_radiologist_subtype_and_year(fixed_cohort):
    by_radiologist = {g.label: g for g in report(fixed_cohort, group_by="radiologist").groups}
    assert by_radiologist["Ruth Alvarez"].alerts.n == 3  # A1, A3, A4
    assert by_radiologist["Rafael Moreau"].alerts.n == 1  # A5
    assert by_radiologist["No radiologist (surveillance alert)"].alerts.n == 1  # A2
    assert by_radiologist["Rafael Moreau"].abnormal.n == 2  # S3, S4
    assert all(g.adherence is None and g.status is None for g in by_radiologist.values())
    by_subtype = {g.label: g for g in report(fixed_cohort, group_by="subtype").groups}
    assert by_subtype["HR+/HER2−"].alerts.n == 3 and by_subtype["Triple negative"].alerts.n == 2
    assert by_subtype["HR+/HER2−"].status.patients == 2
    by_year = {g.label: g for g in report(fixed_cohort, group_by="year").groups}
    assert by_year["2025"].alerts.n == 1 and by_year["2026"].alerts.n == 4
    assert by_year["2020"].adherence.by_year[1] == (1, 2)  # I1 ✓ and I8 ✗ were due in 2020


def test_filters(fixed_cohort):
    r1 = report(fixed_cohort, radiologist_id=fixed_cohort["r1"].pk)
    assert r1.overall.alerts.n == 3 and r1.overall.abnormal.n == 1
    this_year = report(fixed_cohort, date_from=date(2026, 1, 1))
    assert this_year.overall.alerts.n == 4  # not A5 (December 2025)
    assert this_year.overall.abnormal.n == 2  # S2 and S4, not S3 (November 2025)
    assert this_year.overall.adherence.total == 0  # only I5 is due in 2026, its window open
    tn = report(fixed_cohort, subtype=pv.Subtype.TRIPLE_NEGATIVE)
    assert tn.overall.alerts.n == 2 and tn.overall.status.patients == 1


def test_rule_outcomes_and_ppv_by_hand(fixed_cohort):
    rules = {r.rule: r for r in report(fixed_cohort).rules}
    assert rules["calc_extent_increase"].resolutions == {"biopsy_ordered": 1}
    assert (rules["calc_extent_increase"].biopsied, rules["calc_extent_increase"].malignant) == (1, 1)
    assert rules["calc_extent_increase"].ppv.value == 1.0
    assert (rules["birads_suspicious"].biopsied, rules["birads_suspicious"].malignant) == (1, 0)
    assert rules["birads_suspicious"].ppv.value == 0.0
    assert rules["surveillance_overdue"].resolutions == {"short_interval_follow_up": 1}
    assert rules["calc_new_group"].states == {"open": 1} and rules["calc_new_group"].ppv.value is None
    assert list(rules)[:3] == ["calc_new_group", "calc_extent_increase", "birads_suspicious"]  # rule order


def cell(html: str, table: str, group: str, marker: str) -> str:
    """The text of the first cell carrying `marker` in the row `group` of table `table`."""
    import re

    body = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr[^>]*data-group="{group}".*?</tr>', body, re.S).group(0)
    text = re.search(rf'<td[^>]*{marker}[^>]*>(.*?)</td>', row, re.S).group(1)
    return re.sub(r"<[^>]+>", " ", text).split()


def test_page_csv_and_api_agree_with_the_hand_figures(client, fixed_cohort, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    api_client = APIClient()
    api_client.force_authenticate(fixed_cohort["r1"])
    client.force_login(fixed_cohort["r1"])
    with time_machine.travel(at(AS_OF), tick=False):
        # Session, user, roles, sites, radiologists, and the report's 7.
        with django_assert_max_num_queries(13):
            page = client.get("/quality/")
        csv_response = client.get("/quality/export.csv")
        api = api_client.get("/api/analytics/quality/").json()
    html = page.content.decode()
    assert page.status_code == 200
    # Page: alerts resolved within 90 days, all sites: 2 of 3 = 66.7%.
    assert cell(html, "alerts-table", "all", 'data-window="90"')[:4] == ["66.7%", "2", "of", "3"]
    assert cell(html, "abnormal-table", "all", 'data-window="30"')[:4] == ["66.7%", "2", "of", "3"]
    assert cell(html, "adherence-table", "all", 'class="num"')[:4] == ["66.7%", "2", "of", "3"]  # year 1
    assert 'data-card="adherence">50.0%' in html  # 3 of 6
    # CSV: the same numbers.
    rows = list(csv.reader(io.StringIO(csv_response.content.decode())))
    by = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert by[("alerts", "All", "resolved_within_90_days_count")] == "2"
    assert by[("alerts", "All", "resolved_within_90_days_of")] == "3"
    assert float(by[("alerts", "All", "resolved_within_90_days")]) == pytest.approx(0.6667, abs=1e-4)
    assert by[("abnormal_results", "All", "median_days_to_resolve")] == "21.5"
    assert by[("adherence", "All", "year_2_done")] == "1" and by[("adherence", "All", "year_2_of")] == "2"
    assert by[("follow_up", "North Clinic", "overdue")] == "1"
    assert by[("rule_outcomes", "calc_extent_increase", "malignant")] == "1"
    # API: the same numbers.
    overall = api["overall"]
    assert overall["alerts"]["resolved_within"]["90"]["resolved"] == 2
    assert overall["alerts"]["resolved_within"]["90"]["of"] == 3
    assert overall["alerts"]["median_days_to_resolve"] == 19
    assert overall["abnormal_results"]["median_days_to_acknowledge"] == 11
    assert overall["adherence"]["by_year"][0] == {**overall["adherence"]["by_year"][0], "done": 2, "of": 3}
    assert overall["follow_up"]["lost"] == 1 and overall["follow_up"]["patients"] == 3
    assert overall["biopsies"]["median_days_to_resolve"] == 9 and overall["biopsies"]["overdue"] == 0
    assert by[("biopsies", "All", "median_days_to_resolve")] == "9.0"
    assert cell(html, "biopsies-table", "all", "data-overdue") == ["0"]
    ppv = next(r for r in api["rules"] if r["rule"] == "calc_extent_increase")["ppv"]
    assert ppv["value"] == 1.0


def test_sites_are_the_users_own(client, fixed_cohort, outsider):
    # The outsider belongs to the South Clinic only: A5 and P3, nothing of the North Clinic.
    client.force_login(outsider)
    with time_machine.travel(at(AS_OF), tick=False):
        api = client.get("/api/analytics/quality/").json()
    assert api["overall"]["alerts"]["n"] == 1 and api["overall"]["follow_up"]["patients"] == 1
    assert client.get("/quality/?site=north").status_code == 400  # not one of hers


def test_invalid_filters(client, fixed_cohort):
    client.force_login(fixed_cohort["r1"])
    response = client.get("/quality/", {"date_from": "2026-05-01", "date_to": "2026-01-01"})
    assert response.status_code == 400 and "before its start" in response.content.decode()
    api = client.get("/api/analytics/quality/", {"group_by": "colour"})
    assert api.status_code == 400 and "group_by" in api.json()["errors"]


def test_query_count_is_constant(client, fixed_cohort, site, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext

    def count(group_by: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            report(fixed_cohort, group_by=group_by)
        return len([q for q in ctx.captured_queries if not q["sql"].startswith(("SET ", "RESET "))])

    before = {g: count(g) for g in ("site", "radiologist", "subtype", "year")}
    for _ in range(10):  # ten more patients with alerts, exams and a plan
        p = PatientFactory(site=site)
        TumourProfileFactory(patient=p)
        s = ImagingStudyFactory(patient=p, final=True, birads="4", study_date=date(2026, 1, 10))
        make_alert(p, "birads_suspicious", date(2026, 1, 11), study=s, acknowledged=date(2026, 1, 12))
        plan(p, date(2020, 1, 1))
        scheduled(p, date(2021, 1, 1), status="done", done_on=date(2021, 1, 5), done_source="elsewhere")
    after = {g: count(g) for g in before}
    assert after == before
    # Rows (alerts, abnormal exams, biopsies), the adherence snapshot and its sums, the
    # plan status (patients, overdue exams); the whole selection and the radiologists' names
    # take their own queries where the groups do not add up to it.
    assert after == {"site": 7, "subtype": 7, "year": 9, "radiologist": 11}


@pytest.mark.parametrize(("resolved_after", "within_30"), [(30, (1, 1)), (31, (0, 1))])
def test_resolved_within_is_inclusive(resolved_after, within_30):
    start = date(2026, 1, 1)
    t = timeliness([Start(start, resolved=start + timedelta(days=resolved_after))], date(2026, 6, 30))
    assert t.within[30] == within_30


@pytest.mark.parametrize(("age", "counted"), [(29, False), (30, True)])
def test_a_start_is_counted_once_its_window_has_passed(age, counted):
    t = timeliness([Start(date(2026, 6, 30) - timedelta(days=age))], date(2026, 6, 30))
    assert t.within[30] == (0, 1 if counted else 0)


def test_unknown_alert_states_and_resolutions_are_kept():
    from cohort.quality import AlertOutcome, rule_outcomes

    rows = [AlertOutcome("calc_new_group", "superseded", ""),
            AlertOutcome("calc_new_group", "resolved", "contacted"),
            AlertOutcome("some_future_rule", "open", "")]
    out = {r.rule: r for r in rule_outcomes(rows, ["calc_new_group"])}
    assert out["calc_new_group"].states == {"superseded": 1, "resolved": 1}
    assert out["calc_new_group"].resolutions == {"contacted": 1}
    assert "some_future_rule" in out


def test_biopsy_follow_through_feeds_the_measures(fixed_cohort):
    # A1 ordered 20 Jan, biopsied 28 Jan (8 d); A3 ordered 15 Apr, biopsied 25 Apr (10 d).
    b = report(fixed_cohort).overall.biopsies
    assert (b.timeliness.n, b.timeliness.resolved, b.timeliness.median_days_to_resolve) == (2, 2, 9)
    assert b.timeliness.within[30] == (2, 2) and b.overdue == 0
    # Without its result A3's follow-up (due 15 May) is overdue on 30 June.
    BiopsyFollowUp.objects.filter(alert__rule="birads_suspicious").update(histology="", biopsy_date=None)
    b = report(fixed_cohort).overall.biopsies
    assert (b.timeliness.resolved, b.overdue) == (1, 1)
    assert b.timeliness.within[30] == (1, 2)
    rules = {r.rule: r for r in report(fixed_cohort).rules}
    assert rules["birads_suspicious"].biopsied == 0  # no result: not in the PPV


def test_adherence_snapshot_is_rebuilt_each_morning(fixed_cohort, site):
    first = AdherenceSnapshot.objects.get()
    assert AdherenceCount.objects.filter(snapshot=first).count() > 0
    assert report(fixed_cohort).adherence_as_of == AS_OF
    # A late "done elsewhere" within I3's window counts after the next rebuild.
    ScheduledItem.objects.filter(due_date=date(2022, 7, 15)).update(status="done", done_on=date(2022, 8, 1))
    assert report(fixed_cohort).overall.adherence.by_year[3] == (0, 1)  # today's snapshot
    with time_machine.travel(at(AS_OF + timedelta(days=1)), tick=False):
        assert rebuild_adherence()["as_of"] == "2026-07-01"
    after = report(fixed_cohort)
    assert after.overall.adherence.by_year[3] == (1, 1)
    assert after.adherence_as_of == date(2026, 7, 1)
    assert AdherenceSnapshot.objects.count() == 1  # replaced, not piled up


def test_first_use_builds_the_snapshot(db, site):
    assert not AdherenceSnapshot.objects.exists()
    r = quality_report(QualityFilters(site_ids=(site.id,)), as_of=AS_OF, site_names={site.id: site.name})
    assert r.adherence_as_of == AS_OF and AdherenceSnapshot.objects.count() == 1
