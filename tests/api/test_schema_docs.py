import yaml
from django.core.management import call_command

from tests.patients.factories import PASSWORD


def test_schema_needs_authentication_and_lists_the_endpoints(api_client, coordinator):
    assert api_client().get("/api/schema/").status_code == 401
    response = api_client(coordinator).get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/patients/", "/api/patients/{uuid}/fhir/", "/api/patients/{uuid}/timeline/",
                 "/api/studies/", "/api/studies/{uuid}/sign/", "/api/studies/{uuid}/amend/",
                 "/api/alerts/", "/api/auth/token/", "/api/patients/export.csv/"):
        assert path in schema["paths"], path
    birads = schema["components"]["schemas"]["BiradsEnum"]["enum"]
    assert "4A" in birads and "7" not in birads


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_swagger_ui_is_behind_login_and_served_locally(client, coordinator):
    assert client.get("/api/docs/").status_code == 302
    client.login(username=coordinator.username, password=PASSWORD)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "//cdn" not in html and "unpkg" not in html
    # The split view loads its setup from a URL, not an inline script (CSP without unsafe-inline).
    assert "<script>" not in html.replace(" ", "")


def test_navigation_shows_the_api_entry(client, coordinator):
    from django.test import RequestFactory

    from clinic.navigation import navigation

    request = RequestFactory().get("/")
    request.user = coordinator
    assert any(item["url"] == "/api/docs/" for item in navigation(request)["nav_items"])
