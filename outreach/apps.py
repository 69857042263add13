from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """Letters to patients and their GPs: per-site letterheads, the four letters, PDFs."""

    name = "outreach"
    verbose_name = "Letters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the catalogue check)
