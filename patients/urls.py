from django.urls import path

from . import views
from .views import RECORDS

urlpatterns = [
    path("new/", views.patient_create, name="patient-create"),
    path("<uuid:uuid>/edit/", views.patient_edit, name="patient-edit"),
    path("<uuid:uuid>/tumour/", views.tumour_edit, name="patient-tumour"),
    path("<uuid:uuid>/surgery/add/", views.surgery_form, name="patient-surgery-add"),
    path("<uuid:uuid>/surgery/<int:pk>/", views.surgery_form, name="patient-surgery-edit"),
]
# NAC courses, radiotherapy, clinic visits and outcome events: one add and one edit page each.
for kind in RECORDS:
    urlpatterns += [
        path(f"<uuid:uuid>/{kind}/add/", views.record_form, {"kind": kind}, name=f"patient-{kind}-add"),
        path(f"<uuid:uuid>/{kind}/<int:pk>/", views.record_form, {"kind": kind},
             name=f"patient-{kind}-edit"),
    ]
urlpatterns += [path("<uuid:uuid>/contact/", views.contact_edit, name="patient-contact")]
# Void (with a reason) of each voidable record: a confirm page, then POST.
for kind in views.VOIDABLE:
    urlpatterns.append(path(f"<uuid:uuid>/{kind}/<int:pk>/void/", views.record_void_view, {"kind": kind},
                            name=f"patient-{kind}-void"))
