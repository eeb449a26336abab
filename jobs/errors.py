"""What a job handler raises, and what claiming a job can answer instead of starting it."""

from __future__ import annotations


class JobError(Exception):
    """An error a retry cannot fix (bad params, unsupported file): the job fails at once."""


class JobParamsError(JobError):
    """The job's params, type, episode or file do not fit its handler."""


class RetryableJobError(Exception):
    """A passing error (storage unreachable, timeout): the job is tried again later."""


class JobBusy(Exception):
    """Another attempt holds the job (its lease is live): try again in `retry_in` seconds."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"the job is running elsewhere; try again in {retry_in:.1f} s")
        self.retry_in = retry_in
