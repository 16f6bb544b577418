#!/usr/bin/env bash
# Quick start, tests: set up .venv (idempotent), lint, and run the test suite (hypothesis "ci" profile: derandomized).
source "$(dirname "$0")/_venv.sh"
install_torch
install_project test,validation,docs
install_data
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -n 2 "$@"
