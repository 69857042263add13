"""403, 404 and 500 are the app's pages, with its navigation (issue 17, item 5)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.urls import reverse

from core.errors import server_error

pytestmark = pytest.mark.django_db


def test_404_has_the_navigation(client, coordinator):
    client.force_login(coordinator)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404 and "Not found" in html
    assert 'class="mainnav"' in html and 'href="/worklist/"' in html and "tracker.css" in html


def test_404_for_a_visitor_offers_the_login(client):
    html = client.get("/no-such-page/").content.decode()
    assert "Not found" in html and reverse("login") in html and 'class="mainnav"' not in html


def test_403_says_why_with_the_navigation(client, radiologist):
    client.force_login(radiologist)
    response = client.get(reverse("patient-create"))
    html = response.content.decode()
    assert response.status_code == 403 and "Not allowed" in html
    assert "Your role cannot change these records." in html and 'class="mainnav"' in html


def test_500_has_the_navigation_and_falls_back_when_the_layout_fails(coordinator, settings):
    request = RequestFactory().get("/worklist/")
    request.user = coordinator
    request.session = {}
    request._messages = FallbackStorage(request)
    response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in html and 'class="mainnav"' in html
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "OPTIONS": {
        **settings.TEMPLATES[0]["OPTIONS"], "context_processors": ["no.such.processor"]}}]
    bare = RequestFactory().get("/")
    bare.user = AnonymousUser()
    assert server_error(bare).status_code == 500
