from contextlib import contextmanager

import pytest

from outbox.services import events_sweep


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Process the outbox events written inside the block, as a worker does after commit.

    The after-commit hooks (which would queue Celery tasks) are captured, not run; the
    events are processed here, in the test's transaction.
    """
    @contextmanager
    def run():
        with django_capture_on_commit_callbacks(execute=False):
            yield
        events_sweep()
    return run
