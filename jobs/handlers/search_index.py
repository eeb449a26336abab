"""`search_index`: re-index one episode.

There is no search backend yet: this records what it would index (and when) in the
result, so that the job, its states and its events are real. The search issue fills it in.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from episodes.models import Episode
from jobs.errors import JobParamsError
from jobs.models import Job
from jobs.registry import ProgressReporter, register


@register("search_index", needs_episode=True)
def search_index(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    episode = Episode.objects.filter(pk=job.episode_id).first()
    if episode is None:
        raise JobParamsError(f"Episode {job.episode_id} no longer exists.")
    report_progress(50)
    document = {
        "title_chars": len(episode.title),
        "description_chars": len(episode.description),
        "compositions": episode.compositions.count(),
    }
    report_progress(100)
    return {
        "episode_id": episode.pk,
        "backend": None,
        "indexed": document,
        "indexed_at": timezone.now().isoformat(),
    }
