"""`manage.py search_setup`: create the OpenSearch index of episodes behind its alias.

Idempotent: with the alias in place it says which index it points at and changes nothing.
Run once per environment before the first `search_reindex` (which also works without it).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from opensearchpy.exceptions import OpenSearchException

from episodes.search import indexes, opensearch


class Command(BaseCommand):
    help = "Create the OpenSearch index of episodes (mapping, analyzer) behind its alias."

    def handle(self, *args: Any, **options: Any) -> None:
        if not opensearch.configured():
            self.stdout.write(
                "OPENSEARCH_URL is not set: search runs on the database, nothing to set up."
            )
            return
        try:
            created, index = indexes.setup()
        except indexes.SetupError as exc:
            raise CommandError(str(exc)) from exc
        except (OpenSearchException, OSError) as exc:
            raise CommandError(f"OpenSearch refused the setup: {opensearch.describe(exc)}") from exc
        alias = opensearch.alias()
        if created:
            self.stdout.write(f"Created {index} behind the alias {alias}.")
            self.stdout.write("Fill it with `manage.py search_reindex`.")
        else:
            self.stdout.write(f"Already set up: the alias {alias} points at {index}.")
