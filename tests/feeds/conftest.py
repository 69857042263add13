import pytest

from feeds.models import FeedSource
from tests.feeds import builders


@pytest.fixture
def feed_source(site):
    return FeedSource.objects.create(sending_facility=builders.FACILITY, site=site)
