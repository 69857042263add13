from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracker"

    def ready(self) -> None:
        # Connect the idle-timeout clock before the first login, not at first request.
        from . import middleware  # noqa: F401
