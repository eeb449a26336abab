"""PostgreSQL full-text search of episodes: a text search configuration, a vector, its index.

On PostgreSQL only (elsewhere it does nothing, and search uses `icontains`):
- `showdesk_search`, a copy of the `english` configuration (stemming, stop words) that also
  folds accents through the `unaccent` extension, created here if missing. `unaccent` is a
  trusted extension since PostgreSQL 13: the database's owner may create it. Where it cannot
  be created, the configuration stays plain `english` (accents not folded) and a warning
  says so; the README's Search section says how to add it afterwards.
- `search_vector`, a stored generated column: the title (weight A) and description
  (weight B) as a tsvector, which the database keeps current on every insert and update.
  The model does not declare it: the ORM never writes it, and lists never read it.
- `episode_search_vector`, a GIN index on it, which `@@ websearch_to_tsquery(...)` uses.
"""

import structlog
from django.db import DatabaseError, migrations, transaction

CONFIG = "showdesk_search"
COLUMN = "search_vector"
INDEX = "episode_search_vector"

logger = structlog.get_logger("episodes.migrations")


def _unaccent(schema_editor) -> bool:
    """Create the unaccent extension if it is missing; whether it is there."""
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except DatabaseError as exc:
        logger.warning(
            "search_unaccent_unavailable",
            error=str(exc).strip(),
            effect="PostgreSQL search will not fold accents (café does not find cafe)",
        )
        return False
    return True


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = quote(apps.get_model("episodes", "Episode")._meta.db_table)
    schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)")
    if _unaccent(schema_editor):
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem"
        )
    schema_editor.execute(
        f"ALTER TABLE {table} ADD COLUMN {quote(COLUMN)} tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce(description, '')), 'B')"
        ") STORED"
    )
    schema_editor.execute(f"CREATE INDEX {quote(INDEX)} ON {table} USING gin ({quote(COLUMN)})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = quote(apps.get_model("episodes", "Episode")._meta.db_table)
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(INDEX)}")
    schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {quote(COLUMN)}")
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


class Migration(migrations.Migration):
    dependencies = [
        ("episodes", "0002_versions"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
