"""One measurement of `python -m bench`, in a process of its own: its rows go to a JSON file.

    python -m bench._child MODULE OUT.json [ARGS...]

Each bench sets Django up for its own database, which a process can do only once; a
process per measurement also lets the runner bound it in time. SIGTERM unwinds the bench
(its servers and client processes are stopped by their context managers) before it exits.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import traceback
from pathlib import Path

from bench._table import as_row


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum} (the runner's time limit)")


def main(argv: list[str]) -> int:
    module_name, out, *args = argv
    signal.signal(signal.SIGTERM, _terminated)
    module = importlib.import_module(module_name)
    try:
        rows = [as_row(row) for row in module.rows(args)]
    except BaseException as exc:
        traceback.print_exc()
        error = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        Path(out).write_text(json.dumps({"error": error[:300]}))
        return 1
    Path(out).write_text(json.dumps({"rows": [list(row) for row in rows]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
