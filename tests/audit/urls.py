"""A minimal page that fetches a patient the way every real page must."""

from django.http import HttpResponse
from django.urls import include, path

from patients.access import get_patient_for_user


def patient_page(request, uuid):
    patient = get_patient_for_user(request.user, uuid)
    return HttpResponse(f"patient {patient.uuid}")


urlpatterns = [
    path("test-patient/<uuid:uuid>/", patient_page),
    path("", include("tracker.urls")),
]
