#!/usr/bin/env bash
# Quick start, tests: set up .venv from the lock (idempotent), lint, and run the test suite (hypothesis "ci" profile:
# derandomized). Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh"
install_locked
install_project
install_data
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
export HF_HUB_OFFLINE=1
"$VENV/bin/python" -m pytest -n 2 "$@"
