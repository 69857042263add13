"""gunicorn's settings, read from the project folder (the Procfile's and systemd's
working directory): an access log without query strings, referrers or calendar tokens
(tracker/redaction.py), and Django's log lines through the same redaction."""

logger_class = "tracker.redaction.RedactingLogger"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker) -> None:
    """Each worker, once it has loaded the app: the objects it keeps for life are left out
    of garbage collection (tracker/startup.py)."""
    from tracker.startup import freeze_startup_heap

    freeze_startup_heap()
