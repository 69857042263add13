"""The product's URLs plus the bench-only trivial view.

Used only by the benchmark, through `override_settings(ROOT_URLCONF="bench.urls")`; the
product's own URLconf (tracker/urls.py) does not mount the trivial view.
"""

from django.urls import path

from tracker.urls import urlpatterns as product_urlpatterns

from .views import trivial

urlpatterns = [
    path("__bench__/trivial/", trivial, name="bench-trivial"),
    *product_urlpatterns,
]
