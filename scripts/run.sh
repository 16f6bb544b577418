#!/usr/bin/env bash
# Quick start, main job: set up .venv from the lock (idempotent) and check the embedded SmolLM2 against the theory's
# assumptions and bounds (`steering-bounds check`: report in check-report/; reruns reuse finished stages). Extra
# arguments go to `steering-bounds check`, e.g. `bash scripts/run.sh --behavior bias --out bias-report`.
source "$(dirname "$0")/_venv.sh"
install_locked
install_project
install_data
export HF_HUB_OFFLINE=1
"$VENV/bin/steering-bounds" check "$@"
