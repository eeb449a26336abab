"""Job types of the tests only (JOBS_EXTRA_HANDLER_MODULES=tests.jobs.handlers): slow, flaky,
chatty handlers whose behaviour a test steers through files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from jobs.errors import JobParamsError, RetryableJobError
from jobs.models import Job
from jobs.registry import ProgressReporter, register

# The longest a held job waits for its hold file to go (seconds).
HOLD_LIMIT = 30.0


def any_params(params: dict[str, Any]) -> dict[str, Any]:
    return params


def _note(path: str | None, line: str) -> None:
    if path:
        with Path(path).open("a") as out:
            out.write(f"{line}\n")


@register("test_hold", check_params=any_params)
def hold(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    """Runs while the file `params.hold` exists; notes each start and end in `params.runs`."""
    _note(job.params.get("runs"), f"start {job.attempts} {os.getpid()}")
    report_progress(10)
    deadline = time.monotonic() + HOLD_LIMIT
    progress = 10
    while Path(job.params["hold"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
        progress = min(progress + 1, 90)
        report_progress(progress)
    _note(job.params.get("runs"), f"done {job.attempts} {os.getpid()}")
    return {"attempt": job.attempts}


@register("test_flaky", check_params=any_params)
def flaky(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    """A passing error while the file `params.switch` exists; then it works."""
    report_progress(50)
    if Path(job.params["switch"]).exists():
        raise RetryableJobError("storage timed out")
    return {"attempt": job.attempts}


@register("test_progress", check_params=any_params)
def chatty(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    """Reports every percent from 1 to 100, `params.pause` seconds apart."""
    pause = float(job.params.get("pause", 0.01))
    if not 0 <= pause <= 0.1:
        raise JobParamsError("params.pause must be from 0 to 0.1 seconds.")
    for percent in range(1, 101):
        report_progress(percent)
        time.sleep(pause)
    return {"reported": 100}


@register("test_crash", check_params=any_params)
def crash(job: Job, report_progress: ProgressReporter) -> dict[str, Any]:
    """A bug: an exception no handler meant to raise."""
    return {"value": job.params["missing"]}
