"""Serve plotly.js from the installed plotly package (no CDN: clinics are often offline).

Exposes only `vendor/plotly.min.js`, so the package's sample datasets are not collected.
"""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
FILES = {"vendor/plotly.min.js": "plotly.min.js"}


class PlotlyFinder(BaseFinder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(PLOTLY_DIR))
        self.storage.prefix = "vendor"  # type: ignore[attr-defined]  # read by collectstatic

    def check(self, **kwargs) -> list:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs):
        if path in FILES:
            match = str(PLOTLY_DIR / FILES[path])
            return [match] if find_all else match
        return [] if find_all else None

    def list(self, ignore_patterns):
        for name in FILES.values():
            yield name, self.storage
