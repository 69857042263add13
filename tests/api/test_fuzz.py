"""Schema-driven fuzzing: every operation of our own OpenAPI schema, fed generated
requests in-process through the WSGI app with a token, never answers 5xx.

Bounded (a few examples per operation, no deadline) so it runs in well under a minute.
Path UUIDs point at real rows half of the time, so updates, signing and amendments
meet real objects instead of only 404s.
"""

import json

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from api.tokens import token_create
from core import roles
from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
from tests.patients.factories import PatientFactory, TumourProfileFactory, UserFactory


def _raw_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


# The fuzzing phase only: the coverage phase enumerates every boundary case of every
# operation (minutes on a 2-core machine), which max_examples does not bound.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False},
                                                  "examples": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(_raw_schema(), config=CONFIG)
app = get_wsgi_application()


@pytest.fixture
def keep_db_connection():
    """Requests go through the real WSGI handler, whose request signals close the
    database connection: that would drop the test's transaction (PostgreSQL). Django's
    test client disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(site, keep_db_connection):
    """A user with every write role at `site`, a patient, a draft and a final study."""
    user = UserFactory(username="fuzzer")
    user.groups.add(*Group.objects.filter(name__in=[roles.CLINIC_STAFF, roles.RADIOLOGIST,
                                                    roles.ADMIN]))
    site.members.add(user)
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient)
    draft = ImagingStudyFactory(patient=patient, accession="F-1")
    final = ImagingStudyFactory(patient=patient, final=True, accession="F-2")
    CalcificationFindingFactory(study=final)
    _, token = token_create(user=user, client="fuzzer")
    return {"token": token, "patient": str(patient.uuid),
            "studies": [str(draft.uuid), str(final.uuid)]}


@pytest.mark.django_db(transaction=False)
@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, fuzz_world):
    uuid = (case.path_parameters or {}).get("uuid")
    if uuid is not None and sum(map(ord, uuid)) % 2 == 0:
        if case.path.startswith("/api/patients/"):
            case.path_parameters["uuid"] = fuzz_world["patient"]
        elif case.path.startswith("/api/studies/"):
            case.path_parameters["uuid"] = fuzz_world["studies"][sum(map(ord, uuid)) % 4 // 2]
    response = case.call(app=app, headers={"Authorization": f"Token {fuzz_world['token']}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
