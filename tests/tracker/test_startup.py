"""A web process's start (tracker/startup.py): what it loads for life is left out of
garbage collection."""

import gc

from tracker.startup import freeze_startup_heap


def test_the_objects_alive_at_startup_are_frozen():
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 10_000  # Django, the app's modules, its URL patterns
        assert gc.get_threshold() == (10_000, 20, 20)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
