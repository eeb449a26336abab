# Sourced by bin/serve and bin/test: find Python 3.11+ and make the virtualenv in .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SHOWDESK_VENV:-$ROOT/.venv}"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "Showdesk needs Python 3.11 or newer (python3 --version says: $(python3 --version 2>&1))." >&2
  return 1
}

# make_venv EXTRAS: create the venv if needed and install the project (with EXTRAS, e.g. "[dev]").
make_venv() {
  local extras="${1:-}"
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    python="$(find_python)"
    if ! "$python" -m venv "$VENV"; then
      echo "Could not create a virtualenv: on Debian/Ubuntu run 'sudo apt install python3-venv'." >&2
      return 1
    fi
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT$extras"
}
