import pytest

from feeds.models import FeedSource
from feeds.services.common import clear_configuration
from tests.feeds import builders


@pytest.fixture(autouse=True)
def fresh_configuration():
    """Each test's database has its own feed sources and feed user."""
    clear_configuration()
    yield
    clear_configuration()


@pytest.fixture
def feed_source(site):
    return FeedSource.objects.create(sending_facility=builders.FACILITY, site=site)
