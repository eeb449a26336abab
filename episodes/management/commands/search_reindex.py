"""`manage.py search_reindex`: rebuild the OpenSearch index of episodes with no downtime.

A new index is loaded from the database (with a progress bar on stderr), the alias is moved
to it in one atomic `_aliases` call, what changed meanwhile is copied over, and the old
index is deleted. Searches answer from the old index until the swap, from the new after.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from opensearchpy.exceptions import OpenSearchException
from tqdm import tqdm

from episodes.search import indexes, opensearch


class Command(BaseCommand):
    help = "Build a new OpenSearch index of every episode, swap the alias to it, drop the old."

    def handle(self, *args: Any, **options: Any) -> None:
        if not opensearch.configured():
            self.stdout.write(
                "OPENSEARCH_URL is not set: search runs on the database, nothing to reindex."
            )
            return
        bars: list[tqdm] = []

        def progress(total: int) -> Callable[[int], None]:
            bar = tqdm(
                total=total,
                unit="episode",
                desc="Indexing",
                file=sys.stderr,
                disable=options["verbosity"] < 1,
            )
            bars.append(bar)
            return bar.update

        try:
            outcome = indexes.reindex(progress=progress)
        except indexes.SetupError as exc:
            raise CommandError(str(exc)) from exc
        except (OpenSearchException, OSError) as exc:
            raise CommandError(
                f"OpenSearch failed the reindex: {opensearch.describe(exc)}"
            ) from exc
        finally:
            for bar in bars:
                bar.close()
        previous = ", ".join(outcome.previous) or "no index"
        self.stdout.write(
            f"Loaded {outcome.loaded} episodes into {outcome.index}; the alias "
            f"{opensearch.alias()} moved from {previous} to it."
        )
        self.stdout.write(
            f"Then rewrote {outcome.caught_up} episodes saved since shortly before the load "
            f"and removed {outcome.removed} deleted during it."
        )
        for error in outcome.errors[:20]:
            self.stderr.write(error)
        if outcome.errors:
            raise CommandError(f"{len(outcome.errors)} documents could not be indexed.")
