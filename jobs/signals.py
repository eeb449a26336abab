"""Domain signals of jobs: state changes and progress, which are not plain row saves.

`job_state_changed` is sent with `job`, `previous` (the former status, None when created)
and `actor`; `job_progress` with `job` and `progress`. The realtime receivers listen.
"""

from __future__ import annotations

from django.dispatch import Signal

job_state_changed = Signal()
job_progress = Signal()
