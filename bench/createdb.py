"""`python -m bench.createdb URL`: create the benchmark's PostgreSQL database if missing.

Used by `make bench` before migrating. Refuses names without "bench", like the command.
"""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> bool:
    """Create the database named in `url`; True if it was created, False if it existed."""
    name = database_name(url)
    if "bench" not in name.lower():
        raise SystemExit(f"BENCH_DATABASE_URL must name a database containing 'bench', not {name!r}.")
    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


if __name__ == "__main__":
    url = sys.argv[1]
    print(f"Created the database {database_name(url)}." if ensure_database(url)
          else f"The database {database_name(url)} exists.")
