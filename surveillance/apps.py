from django.apps import AppConfig


class SurveillanceConfig(AppConfig):
    name = "surveillance"
    verbose_name = "Surveillance schedule"

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (registers the outbox handlers)
