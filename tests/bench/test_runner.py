"""`python -m bench`: its one table, and a measurement that crashes or runs out of time."""

from __future__ import annotations

import argparse
import os

import pytest

from bench import __main__ as runner
from bench._table import ERROR, FAIL, PASS, Row, as_row, render


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(
        **{"quick": True, "prefix": "showdesk_bench", "redis_db": 12, **values}
    )


def test_rows_of_every_shape_become_table_rows():
    assert as_row(("a", "1 ms")) == Row("a", "1 ms", "", "")
    assert as_row({"measurement": "b", "figure": "2", "goal": "< 3", "passed": False}) == Row(
        "b", "2", "< 3", FAIL
    )
    assert as_row(Row("c", "3", "", PASS)).result == PASS


def test_the_table_has_one_line_per_row_under_its_header():
    text = render([Row("fan-out", "200 ms", "< 250 ms", PASS), Row("memory", "600 MiB")])
    lines = text.splitlines()
    assert lines[0].split(" | ")[0].strip() == "measurement"
    assert lines[2].startswith("fan-out") and lines[2].rstrip().endswith(PASS)
    assert lines[3].startswith("memory")


def test_an_unknown_measurement_is_refused():
    with pytest.raises(SystemExit):
        runner._arguments(["--only", "nonsense"])


def test_a_measurement_that_crashes_is_an_error_row():
    broken = runner.Measurement("broken", "bench._table", "no rows()", 60, 60, database=None)
    rows, _ = runner._run_one(broken, _args(), dict(os.environ))
    assert [row.result for row in rows] == [ERROR]
    assert "crashed" in rows[0].figure


def test_a_measurement_past_its_time_limit_is_stopped(monkeypatch):
    monkeypatch.setattr(runner, "TERM_GRACE", 5.0)
    slow = runner.Measurement("slow", "tests.bench.sleeper", "sleeps", 1, 1, database=None)
    rows, seconds = runner._run_one(slow, _args(), dict(os.environ))
    assert rows[0].result == ERROR and "limit" in rows[0].figure
    assert seconds < 30
