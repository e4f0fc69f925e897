"""``--app-role`` for the benchmarks: serve as a role like ``mall_app`` so row-level security
applies (a superuser, as the benchmarks connect by default, is exempt from RLS policies).

The role is made like ``scripts/db_roles.sql`` makes ``mall_app`` (LOGIN, not a superuser, no
``BYPASSRLS``, owns nothing, row privileges only), idempotently, on the benchmark's database.
Seeding and the invariant checks keep the superuser URL; only the server uses the returned one.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

ROLE = "mall_bench_app"
PASSWORD = "bench-app"  # a local benchmark database on loopback


def app_role_url(url: str) -> str:
    """Create the role on ``url``'s database (run as a superuser) and return ``url`` as it."""
    import psycopg

    database = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
        if not exists:
            conn.execute(f'CREATE ROLE "{ROLE}" LOGIN')
        conn.execute(
            f'ALTER ROLE "{ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE '
            f"NOINHERIT PASSWORD '{PASSWORD}'"
        )
        conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{ROLE}"')
        conn.execute(f'GRANT USAGE ON SCHEMA public TO "{ROLE}"')
        conn.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{ROLE}"'
        )
        conn.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{ROLE}"')
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{ROLE}:{PASSWORD}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
