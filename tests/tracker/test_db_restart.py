"""With persistent connections (`CONN_MAX_AGE=60`, as docs/deployment.md suggests), a
database restart must not cost the next request of each worker a 500: the connection is
checked before a request reuses it (CONN_HEALTH_CHECKS)."""

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_after_the_connection_died_gets_a_new_one(postgres_db, settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        handler = WSGIHandler()  # the real request cycle, with its connection checks
        # A page that reads the database: an unknown calendar token's feed (404).
        environ = RequestFactory().get("/worklist/calendar/unknown-token.ics").environ

        def get() -> int:
            status = []
            handler(environ, lambda s, headers: status.append(s))
            return int(status[0].split()[0])

        assert get() == 404
        backend = connection.connection.info.backend_pid
        s = connection.settings_dict
        with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                             password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [backend])  # as a restart would
        assert get() == 404  # not a 500
        assert connection.connection.info.backend_pid != backend
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = 0
        connection.close()
