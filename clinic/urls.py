from django.urls import path

from . import alert_page, dashboard, views

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/<uuid:uuid>/", views.patient_timeline, name="patient-timeline"),
    path("patients/<uuid:uuid>/records/", views.patient_records, name="patient-records"),
    path("patients/<uuid:uuid>/summary/", views.patient_summary, name="patient-summary"),
    path("alerts/<int:pk>/", alert_page.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/acknowledge/", alert_page.alert_acknowledge_view, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", alert_page.alert_resolve_view, name="alert-resolve"),
    path("patients/<uuid:uuid>/summary.pdf", views.patient_summary_pdf, name="patient-summary-pdf"),
]
