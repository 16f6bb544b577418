"""Print the lowest versions pyproject.toml declares, as pip constraints (``name==floor``), one per line.

Every direct dependency of the project and of the extras named on the command line is pinned to the lower bound of
its ``>=`` specifier (``==`` pins stay as they are), so that ``pip install -c FLOORS -e .[extras]`` installs the
oldest releases the project claims to support, with their own dependencies resolved as usual. ``torch`` is left out:
its CPU build is installed separately (other releases of torch may resolve a multi-GB CUDA build); its floor is
exercised on a GPU machine. Standard library only (runs in a bare venv).

Usage: python .ci/floors.py pyproject.toml validation strategies test
"""

from __future__ import annotations

import re
import sys
import tomllib

SKIP = {"torch"}
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")
_SPEC = re.compile(r"^\s*(>=|==|<=|<|>|!=|~=)\s*([0-9][0-9A-Za-z.+\-]*)\s*$")


def floors(pyproject: str, extras: list[str]) -> list[str]:
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    specs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(
                f"floors.py: extra {extra!r} is not declared in {pyproject} (declared: {sorted(optional)})"
            )
        specs += optional[extra]
    out: dict[str, str] = {}
    for text in specs:
        m = _REQ.match(text)
        if m is None:
            raise SystemExit(f"floors.py: cannot parse the requirement {text!r} in {pyproject}")
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
        if name in SKIP:
            continue
        floor = None
        for part in filter(None, (p.strip() for p in m.group(3).split(","))):
            spec = _SPEC.match(part)
            if spec is None:
                raise SystemExit(f"floors.py: cannot parse the specifier {part!r} of {text!r} in {pyproject}")
            if spec.group(1) in (">=", "=="):
                floor = spec.group(2)
        if floor is None:
            raise SystemExit(f"floors.py: {text!r} in {pyproject} declares no lower bound (>=): every dependency must")
        out[name] = f"{name}=={floor}"
    return sorted(out.values())


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    print("\n".join(floors(sys.argv[1], sys.argv[2:])))
