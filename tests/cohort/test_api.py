import pytest
from rest_framework.test import APIClient

from api.tokens import token_create
from patients import vocabulary as pv

CONCORDANCE = "/api/analytics/concordance/"
SURVIVAL = "/api/analytics/survival/"


@pytest.fixture
def api():
    return APIClient()


def test_unauthenticated_is_refused_by_drf_not_redirected(api, cohort):
    for url in (CONCORDANCE + "?modality=MR", SURVIVAL):
        response = api.get(url)
        assert response.status_code in (401, 403)
        assert "detail" in response.json()


def test_coordinator_is_forbidden(api, coordinator):
    api.force_authenticate(coordinator)
    assert api.get(CONCORDANCE, {"modality": "MR"}).status_code == 403
    assert api.get(SURVIVAL).status_code == 403


def test_token_authentication(api, radiologist, cohort):
    _, token = token_create(user=radiologist, client="tests")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get(CONCORDANCE, {"modality": "MR"})
    assert response.status_code == 200
    assert response.json()["n"] == 7


def test_concordance_json_shape_and_numbers(api, radiologist, cohort):
    api.force_authenticate(radiologist)
    body = api.get(CONCORDANCE, {"modality": "MG"}).json()
    assert {k: body[k] for k in ("modality", "n", "tp", "fp", "fn", "tn")} == \
        {"modality": "MG", "n": 7, "tp": 1, "fp": 2, "fn": 2, "tn": 2}
    assert body["sensitivity"]["value"] == pytest.approx(1 / 3)
    assert set(body["ppv"]) == {"value", "ci_low", "ci_high"}
    assert body["kappa"]["value"] == pytest.approx(-1 / 6)  # po 3/7, pe 25/49
    assert body["excluded"] == {"total": 2, "no_pathology": 1, "missing": 1, "draft_only": 0,
                                "unread": 0}
    assert [s["subtype"] for s in body["by_subtype"]] == ["HR+/HER2+", "triple_negative"]
    assert body["filters"]["pcr_definition"] == "ypT0is_ypN0"
    assert body["filters"]["sites"] == ["north"]


def test_api_matches_the_page(api, client, radiologist, cohort):
    client.force_login(radiologist)
    api.force_authenticate(radiologist)
    params = {"pcr_definition": pv.PcrDefinition.YPT0_YPN0, "subtype": pv.Subtype.HR_POS_HER2_POS}
    page = client.get("/cohort/", params).context["report"]
    for modality in ("MR", "MG"):
        body = api.get(CONCORDANCE, {**params, "modality": modality}).json()
        c = page.overall.modalities[modality].concordance
        assert (body["tp"], body["fp"], body["fn"], body["tn"]) == (c.table.tp, c.table.fp,
                                                                    c.table.fn, c.table.tn)
        for name in ("sensitivity", "specificity", "ppv", "npv", "accuracy", "kappa"):
            assert body[name] == c.metric(name).as_dict()


def test_undefined_metrics_are_null_when_nobody_is_eligible(api, radiologist, site):
    api.force_authenticate(radiologist)
    body = api.get(CONCORDANCE, {"modality": "MR"}).json()
    assert body["n"] == 0
    assert body["sensitivity"] == {"value": None, "ci_low": None, "ci_high": None}
    assert body["kappa"]["value"] is None and body["by_subtype"] == []
    survival = api.get(SURVIVAL).json()
    assert survival["n"] == 0 and survival["log_rank"]["p_value"] is None


def test_outsider_gets_nothing_of_the_site(api, outsider, cohort):
    api.force_authenticate(outsider)
    assert api.get(CONCORDANCE, {"modality": "MR"}).json()["n"] == 0
    response = api.get(CONCORDANCE, {"modality": "MR", "site": "north"})
    assert response.status_code == 400
    assert "site" in response.json()["errors"]


@pytest.mark.parametrize("params, field", [
    ({}, "modality"),
    ({"modality": "US"}, "modality"),
    ({"modality": "MR", "pcr_definition": "ypT1"}, "pcr_definition"),
    ({"modality": "MR", "surgery_from": "yesterday"}, "surgery_from"),
])
def test_bad_parameters_are_400_with_the_field(api, radiologist, params, field):
    api.force_authenticate(radiologist)
    response = api.get(CONCORDANCE, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_survival_curves(api, radiologist, cohort):
    api.force_authenticate(radiologist)
    body = api.get(SURVIVAL).json()
    assert body["time_unit"] == "months"
    assert [g["group"] for g in body["groups"]] == ["pcr_calc", "pcr_no_calc", "residual_calc",
                                                   "residual_no_calc"]
    # Mammography-eligible reference patients: #3 #4 pCR+calc, #5 #7 pCR no calc,
    # #1 residual+calc, #2 #6 residual no calc.
    assert [g["n"] for g in body["groups"]] == [2, 2, 1, 2]
    assert body["groups"][0]["at_risk"][0] == {"time": 0.0, "n": 2}
    assert body["groups"][0]["times"][0] == 0.0 and body["groups"][0]["survival"][0] == 1.0


def test_openapi_schema_documents_both_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    concordance = schema["paths"][CONCORDANCE]["get"]
    names = {p["name"] for p in concordance["parameters"]}
    assert {"modality", "pcr_definition", "subtype", "site", "procedure"} <= names
    modality = next(p for p in concordance["parameters"] if p["name"] == "modality")
    assert modality["required"] is True and sorted(modality["schema"]["enum"]) == ["MG", "MR"]
    assert SURVIVAL in schema["paths"]
    assert "AnalyticsConcordance" in schema["components"]["schemas"]
