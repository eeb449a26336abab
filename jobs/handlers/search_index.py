"""`search_index`: write one episode's document to OpenSearch as the episode is now.

Queued by `episodes.search.updates` after each save of an indexed field (or by hand). The
episode is read when the job runs, so a job that retries writes the latest state, and an
older write landing late is refused by its version. An episode deleted meanwhile has its
document removed. OpenSearch unreachable or failing: the job retries with its backoff; no
index behind the alias (search_setup not run): it fails at once, saying so.

Without OPENSEARCH_URL there is nothing to write (the database searches its own rows): the
job records what it would have indexed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from episodes.models import Episode
from episodes.search import opensearch
from jobs.errors import JobError, JobParamsError, RetryableJobError
from jobs.models import Job
from jobs.registry import ProgressReporter, register


def _summary(episode: Episode) -> dict[str, int]:
    return {
        "title_chars": len(episode.title),
        "description_chars": len(episode.description),
        "compositions": episode.compositions.count(),
    }


@register("search_index", needs_episode=True)
def search_index(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    episode = Episode.objects.filter(pk=job.episode_id).first()
    if not opensearch.configured():
        if episode is None:
            raise JobParamsError(f"Episode {job.episode_id} no longer exists.")
        report_progress(100)
        return {
            "episode_id": episode.pk,
            "backend": None,
            "indexed": _summary(episode),
            "indexed_at": timezone.now().isoformat(),
        }
    report_progress(10)
    try:
        if episode is None:
            action = opensearch.delete_document(job.episode_id)
        else:
            action = opensearch.index_document(episode)
    except opensearch.NotSetUp as exc:  # retrying will not create the index
        raise JobError(f"OpenSearch: {exc}") from exc
    except opensearch.Unavailable as exc:
        raise RetryableJobError(f"OpenSearch: {exc}") from exc
    report_progress(100)
    return {
        "episode_id": job.episode_id,
        "backend": "opensearch",
        "index": opensearch.alias(),
        "action": action,
        "indexed": _summary(episode) if episode is not None else None,
        "indexed_at": timezone.now().isoformat(),
    }
