from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:uuid>/letters/", views.patient_letters, name="patient-letters"),
    path("letters/batch/", views.letters_batch, name="letters-batch"),
    path("letters/batches/<uuid:uuid>/", views.letter_batch, name="letter-batch"),
    path("letters/batches/<uuid:uuid>/letters.pdf", views.letter_batch_pdf, name="letter-batch-pdf"),
    path("letters/<uuid:uuid>/letter.pdf", views.letter_pdf, name="letter-pdf"),
    path("letters/templates/", views.letter_templates, name="letter-templates"),
    path("letters/templates/<int:pk>/", views.letter_template_edit, name="letter-template-edit"),
    path(
        "letters/templates/<int:pk>/preview.pdf",
        views.letter_template_preview,
        name="letter-template-preview",
    ),
]
