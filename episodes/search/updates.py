"""Keeping OpenSearch current as episodes change (nothing to do without OpenSearch).

A saved episode gets a `search_index` job, queued once the save commits, as the system
(no user is notified of it, and none of its failures but admins). The job reads the
episode when it runs and writes what it finds, so one job waiting to retry covers every
save made meanwhile: no second job is queued for that episode then.

A deleted episode is removed from the index right after its deletion commits, by one
request: a job cannot carry it, as a job's row goes with its episode (`Job.episode`
cascades) and `search_index` needs an episode. If that request fails, the document stays
until the next `search_reindex`: it is never shown, since a search only answers episodes
the database still has.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings

from episodes.models import Episode
from episodes.search import opensearch

logger = structlog.get_logger(__name__)

SEARCH_INDEX = "search_index"


def episode_index_queue(*, episode_id: int) -> Any:
    """Queue a `search_index` job for the episode; the job, or None when none was needed.

    Called after commit: never raises (the change it follows has committed).
    """
    from jobs.models import Job
    from jobs.services import job_enqueue

    try:
        waiting = Job.objects.filter(
            type=SEARCH_INDEX, episode_id=episode_id, status=Job.Status.RETRYING
        ).exists()
        episode = None if waiting else Episode.objects.filter(pk=episode_id).first()
        if episode is None:  # a job will run anyway, or the episode is gone (see below)
            return None
        return job_enqueue(
            type=SEARCH_INDEX,
            actor=None,
            episode=episode,
            max_attempts=settings.OPENSEARCH_INDEX_ATTEMPTS,
        )
    except Exception as exc:
        logger.warning("search_index_queue_failed", episode_id=episode_id, error=repr(exc))
        return None


def episode_unindex(*, episode_id: int) -> str | None:
    """Remove a deleted episode's document; how it went, or None when it failed.

    Called after commit: never raises.
    """
    try:
        if opensearch.recently_down():
            raise opensearch.Unavailable("OpenSearch failed moments ago; not asked again yet")
        # In the request that deleted it: a search's short timeout, not a job's.
        return opensearch.delete_document(episode_id, timeout=settings.OPENSEARCH_TIMEOUT)
    except Exception as exc:
        detail = str(exc) if isinstance(exc, opensearch.Unavailable) else repr(exc)
        logger.warning(
            "search_unindex_failed",
            episode_id=episode_id,
            error=detail,
            remedy="the document is never shown; the next search_reindex removes it",
        )
        return None
