"""The job types a worker can run: each maps to a handler and the check of its params.

A handler is `handler(job, report_progress) -> dict`: it returns the job's result, calls
`report_progress(percent)` as it goes, and raises `RetryableJobError` for a passing error or
`JobError` for one a retry cannot fix. Handlers register themselves with `@register`; the
modules named in JOBS_HANDLER_MODULES are imported to find them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings

from jobs.errors import JobParamsError
from jobs.models import Job

ProgressReporter = Callable[[float], None]
Handler = Callable[[Job, ProgressReporter], dict[str, Any]]
ParamsCheck = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobType:
    name: str
    handler: Handler
    # Returns the params cleaned (defaults filled in), or raises JobParamsError.
    check_params: ParamsCheck
    needs_episode: bool = False
    needs_file: bool = False

    @property
    def module(self) -> str:
        return self.handler.__module__


_types: dict[str, JobType] = {}


def no_params(params: dict[str, Any]) -> dict[str, Any]:
    if params:
        raise JobParamsError(f"This job takes no params; got {', '.join(sorted(params))}.")
    return {}


def register(
    name: str,
    *,
    check_params: ParamsCheck = no_params,
    needs_episode: bool = False,
    needs_file: bool = False,
) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        _types[name] = JobType(name, handler, check_params, needs_episode, needs_file)
        return handler

    return decorate


def job_types() -> dict[str, JobType]:
    """The types whose handler modules JOBS_HANDLER_MODULES names (imported on first use)."""
    modules = set(settings.JOBS_HANDLER_MODULES)
    for module in modules:
        import_module(module)
    return {name: spec for name, spec in _types.items() if spec.module in modules}


def job_type(name: str) -> JobType:
    types = job_types()
    try:
        return types[name]
    except KeyError:
        known = ", ".join(sorted(types))
        raise JobParamsError(f"Unknown job type {name!r}; known types: {known}.") from None


def check_job(
    *, type: str, params: dict[str, Any] | None, has_episode: bool, has_file: bool
) -> dict[str, Any]:
    """The cleaned params of a job about to be queued or run; JobParamsError if it cannot run."""
    spec = job_type(type)
    if spec.needs_file and not has_file:
        raise JobParamsError(f"A {type} job needs a file.")
    if spec.needs_episode and not has_episode:
        raise JobParamsError(f"A {type} job needs an episode.")
    if params is not None and not isinstance(params, dict):
        raise JobParamsError("params must be a JSON object.")
    return spec.check_params(dict(params or {}))
