"""Compare what a virtual environment holds with requirements/lock.txt: print every installed package, marking those
whose version differs from the lock, so that a CI log says which release of which package a failure came with.

Usage: python .ci/versions.py LOCK VENV_PYTHON LABEL [--only-differences]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys


def lock_pins(path: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", line)
            if m:
                pins[_norm(m.group(1))] = m.group(2)
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(python: str) -> dict[str, str]:
    out = subprocess.run(
        [python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {_norm(p["name"]): p["version"] for p in json.loads(out)}


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    lock, python, label = argv[:3]
    only_diff = "--only-differences" in argv[3:]
    pins, have = lock_pins(lock), installed(python)
    differ = [n for n in sorted(have) if n in pins and have[n] != pins[n]]
    print(f"[{label}] {len(have)} packages; {len(differ)} differ from {lock}:")
    for name in sorted(have) if not only_diff else differ:
        lock_v = pins.get(name)
        mark = "" if lock_v is None or lock_v == have[name] else f"   (lock: {lock_v})"
        print(f"[{label}]   {name}=={have[name]}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
