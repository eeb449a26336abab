"""The one shape every bench reports in: rows of measurement, figure, goal, pass/fail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

PASS = "pass"  # noqa: S105 - a verdict, not a password
FAIL = "FAIL"
ERROR = "ERROR"


class Row(NamedTuple):
    measurement: str
    figure: str
    goal: str = ""
    result: str = ""  # PASS, FAIL, ERROR, or "" for a figure without a goal


def verdict(passed: bool | None) -> str:
    return "" if passed is None else (PASS if passed else FAIL)


def as_row(item: Any) -> Row:
    """A Row from what a bench returned: a Row, a 2-4 tuple, a dict, or an object."""
    if isinstance(item, Row):
        return item
    if isinstance(item, dict):
        values = [item.get(key, "") for key in Row._fields]
        if "passed" in item and not values[3]:
            values[3] = verdict(item["passed"])
    elif isinstance(item, list | tuple):
        values = [*item, "", "", ""][:4]
    else:
        values = [getattr(item, key, "") for key in Row._fields]
    result = values[3]
    if isinstance(result, bool) or result is None:
        result = verdict(result)
    return Row(*(str(value) for value in values[:3]), str(result))


def render(rows: Iterable[Row], title: str = "", notes: Iterable[str] = ()) -> str:
    rows = [as_row(row) for row in rows]
    header = Row("measurement", "figure", "goal", "pass/fail")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = [title, ""] if title else []
    for row in [header, None, *rows]:
        if row is None:
            lines.append("-+-".join("-" * width for width in widths))
            continue
        lines.append(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    notes = list(notes)
    if notes:
        lines.append("")
        lines.extend(f"- {note}" for note in notes)
    return "\n".join(line.rstrip() for line in lines) + "\n"


@dataclass
class Table:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measurement: str, figure: str, goal: str = "", passed: bool | None = None):
        self.rows.append(Row(measurement, figure, goal, verdict(passed)))

    @property
    def failed(self) -> bool:
        return any(row.result in (FAIL, ERROR) for row in self.rows)

    def render(self) -> str:
        return render(self.rows, self.title, self.notes)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float, digits: int = 0) -> str:
    return f"{seconds * 1000:,.{digits}f}"
