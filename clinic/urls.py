from django.urls import path

from . import dashboard, views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/<uuid:uuid>/", views.patient_timeline, name="patient-timeline"),
    path("patients/<uuid:uuid>/records/", views.patient_records, name="patient-records"),
    path("patients/<uuid:uuid>/summary/", views.patient_summary, name="patient-summary"),
    path("patients/<uuid:uuid>/summary.pdf", views.patient_summary_pdf, name="patient-summary-pdf"),
]
