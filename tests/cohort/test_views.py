import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients import vocabulary as pv
from patients.models import ClinicalEvent
from tests.cohort import builders as b
from tests.patients.factories import ClinicVisitFactory

URL = "/cohort/"


def test_url_name():
    assert reverse("cohort") == URL
    assert reverse("cohort-export") == "/cohort/export.csv"


def test_login_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("url", [URL, "/cohort/export.csv"])
def test_coordinators_are_refused(client, coordinator, url):
    client.force_login(coordinator)
    assert client.get(url).status_code == 403


@pytest.mark.django_db  # declared: the personas are looked up by name below
@pytest.mark.parametrize("persona", ["radiologist", "clinic_staff", "site_admin"])
def test_radiologists_staff_and_admins_see_it(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 200


def test_page_shows_the_reference_tables_and_metrics(client, radiologist, cohort):
    client.force_login(radiologist)
    response = client.get(URL)
    html = response.content.decode()
    report = response.context["report"]
    mr = report.overall.modalities["MR"].concordance
    assert (mr.table.tp, mr.table.fp, mr.table.fn, mr.table.tn) == (2, 1, 1, 3)
    assert 'data-modality="MR"' in html
    assert 'data-cell="tp">2<' in html
    assert "66.7% (20.8–93.9%)" in html  # MRI sensitivity 2/3 with its Wilson interval
    assert "0.42 (-0.26 to 1.00)" in html  # MRI kappa
    assert "No surgical pathology" in html and 'data-excluded="draft_only">1<' in html
    assert "HR+/HER2+" in html and "Triple negative" in html
    assert 'id="cohort-metrics"' in html and 'id="cohort-km"' in html
    assert "vendor/plotly-basic.min.js" in html and "js/charts.js" in html
    assert "<script>" not in html.replace('<script type="application/json"', "")


def test_pcr_definition_switch_on_the_page(client, radiologist, cohort):
    client.force_login(radiologist)
    response = client.get(URL, {"pcr_definition": pv.PcrDefinition.YPT0_YPN0})
    mr = response.context["report"].overall.modalities["MR"].concordance.table
    assert (mr.tp, mr.fp, mr.fn, mr.tn) == (2, 1, 2, 2)
    assert "ypT0 ypN0 (no invasive or in-situ disease)" in response.content.decode()


def selected_pcr_definitions(html: str) -> list[str]:
    import re

    select = re.search(r'<select name="pcr_definition".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"[^>]* selected', select)


@pytest.mark.parametrize(("query", "expected"), [
    ({}, pv.PcrDefinition.YPT0IS_YPN0),                                   # the default
    ({"pcr_definition": ""}, pv.PcrDefinition.YPT0IS_YPN0),
    ({"pcr_definition": pv.PcrDefinition.YPT0_YPN0}, pv.PcrDefinition.YPT0_YPN0),
    ({"pcr_definition": pv.PcrDefinition.YPT0IS_BREAST, "subtype": ""}, pv.PcrDefinition.YPT0IS_BREAST),
])
def test_dropdown_shows_the_definition_the_page_is_computed_with(client, radiologist, cohort,
                                                                 query, expected):
    client.force_login(radiologist)
    response = client.get(URL, query)
    assert response.context["report"].filters.pcr_definition == expected
    assert selected_pcr_definitions(response.content.decode()) == [expected]
    # So Apply without a change keeps the numbers: the form submits what it shows.
    again = client.get(URL, {"pcr_definition": expected})
    assert again.context["report"].overall == response.context["report"].overall


def test_no_eligible_patients_page_does_not_error(client, radiologist, site):
    b.patient(site, pathology=False, mr="pos")
    client.force_login(radiologist)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No eligible patients in this selection" in html
    assert 'data-metric="sensitivity">—<' in html
    assert "Log-rank test across the groups: not computed" in html
    assert response.context["report"].overall.modalities["MR"].excluded["no_pathology"] == 1


def test_outsider_sees_none_of_the_sites_patients(client, outsider, cohort):
    client.force_login(outsider)
    response = client.get(URL)
    report = response.context["report"]
    assert all(m.n == 0 and m.excluded_total == 0 for m in report.overall.modalities.values())
    assert report.survival.n == 0
    # And cannot ask for the other site by its code.
    response = client.get(URL, {"site": "north"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_site_filter_within_the_users_sites(client, radiologist, cohort, site, other_site):
    other_site.members.add(radiologist)
    b.patient(other_site, ypt="ypT2", mr="pos", mg="pos")
    client.force_login(radiologist)
    both = client.get(URL).context["report"].overall.modalities["MR"].n
    south = client.get(URL, {"site": "south"}).context["report"].overall.modalities["MR"].n
    assert (both, south) == (8, 1)


def test_bad_date_range_is_a_clear_error(client, radiologist):
    client.force_login(radiologist)
    response = client.get(URL, {"surgery_from": "2022-01-01", "surgery_to": "2021-01-01"})
    assert response.status_code == 400
    assert "before its start" in response.content.decode()


def _grow(site, n):
    for i in range(n):
        p = b.patient(site, ypt=["ypT0", "ypT2"][i % 2], mr=["pos", "neg"][i % 3 % 2],
                      mg=["pos", "neg", "benign"][i % 3], histology="benign")
        ClinicVisitFactory(patient=p, date=b.SURGERY + timedelta(days=200 + i))
        if i % 4 == 0:
            ClinicalEvent.objects.create(patient=p, date=b.SURGERY + timedelta(days=100 + i),
                                         kind=pv.EventKind.LOCAL_RECURRENCE)


def test_query_count_does_not_grow_with_the_cohort(client, radiologist, site, django_assert_max_num_queries):
    client.force_login(radiologist)
    _grow(site, 3)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    _grow(site, 24)
    # 10 for the page, and the audit trail's record of the read.
    with django_assert_max_num_queries(11), CaptureQueriesContext(connection) as large:
        response = client.get(URL)
    assert response.context["report"].overall.modalities["MG"].n == 27
    assert len(small.captured_queries) == len(large.captured_queries)


# --- CSV ---------------------------------------------------------------------------------


def _csv(response) -> dict[tuple[str, str, str, str], tuple[str, str, str]]:
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "modality", "subtype", "statistic", "value", "ci_low", "ci_high"]
    return {tuple(r[:4]): tuple(r[4:]) for r in rows[1:]}


def test_csv_has_the_page_numbers_with_the_same_filters(client, radiologist, cohort):
    client.force_login(radiologist)
    response = client.get("/cohort/export.csv", {"pcr_definition": pv.PcrDefinition.YPT0IS_BREAST})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[("filter", "", "", "pcr_definition")][0] == "ypT0is_breast"
    assert rows[("filter", "", "", "sites")][0] == "north"
    # ypT0/is breast-only: MRI TP 2, FP 1, FN 0, TN 4.
    assert [rows[("concordance", "MR", "all", k)][0] for k in ("n", "tp", "fp", "fn", "tn")] == \
        ["7", "2", "1", "0", "4"]
    assert rows[("concordance", "MR", "all", "sensitivity")] == ("1.0000", "0.3424", "1.0000")
    assert rows[("concordance", "MG", "triple_negative", "n")][0] == "3"
    assert rows[("excluded", "MG", "all", "missing")][0] == "1"
    assert rows[("calcification_histology", "MG", "all", "benign_count")][0] == "1"
    assert rows[("calcification_histology", "MG", "all", "benign_share")][0] == "0.3333"
    assert ("survival", "MG", "all", "pcr_calc_n") in rows


def test_csv_undefined_metrics_are_empty(client, radiologist, site):
    client.force_login(radiologist)
    rows = _csv(client.get("/cohort/export.csv"))
    assert rows[("concordance", "MR", "all", "ppv")] == ("", "", "")
    assert rows[("concordance", "MR", "all", "n")][0] == "0"


def test_csv_invalid_filters(client, radiologist):
    client.force_login(radiologist)
    response = client.get("/cohort/export.csv", {"pcr_definition": "ypT9"})
    assert response.status_code == 400
    assert "pcr_definition" in response.content.decode()
