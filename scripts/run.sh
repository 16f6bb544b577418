#!/usr/bin/env bash
# Quick start, main job: set up .venv (idempotent) and print every statement of the theory with its status.
source "$(dirname "$0")/_venv.sh"
install_project strategies
.venv/bin/steering-bounds theory "$@"
