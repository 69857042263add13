import pytest


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run after-commit hooks (the plan and matching signals) inside the test transaction."""
    def run():
        return django_capture_on_commit_callbacks(execute=True)
    return run
