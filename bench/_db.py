"""The benches' own PostgreSQL databases: created on first use, never the project's."""

from __future__ import annotations

from urllib.parse import urlsplit


def create_database(url: str) -> None:
    """Create the database that `url` names, if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as maintenance:
        exists = maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare_database(url: str, env: dict[str, str] | None = None) -> None:
    """Create the database if missing and migrate it, unless BENCH_MIGRATED (a comma-separated
    list the runner sets after migrating its databases once) names it already."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    create_database(url)
    name = urlsplit(url).path.lstrip("/")
    if name in os.environ.get("BENCH_MIGRATED", "").split(","):
        return
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **(env or {}), "DATABASE_URL": url},
        check=True,
    )
