"""Saving a figure and reading a check report, shared by the figure scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save(fig: Any, out_dir: str | Path, name: str) -> Path:
    """Write ``fig`` as ``out_dir/name`` (PNG, folder created, tight bounding box) and return the path."""
    from bounds import _plot

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return _plot.save(fig, Path(out_dir) / name, dpi=_plot.DPI, bbox_inches="tight")


def lam_grid(lam_max: float, n_lam: int) -> Any:
    """``linspace(0, lam_max, n_lam)`` of a theory figure's parameters; ``lam_max`` finite and ``> 0``."""
    import numpy as np

    if not (np.isfinite(lam_max) and lam_max > 0):
        raise ValueError(f"lam_max must be a finite number > 0, got {lam_max!r}")
    return np.linspace(0.0, lam_max, int(n_lam))


def load_report(path: str | Path) -> dict[str, Any]:
    """A ``steering-bounds check`` report (``report.json``) as its JSON object (:meth:`CheckReport.read`, which
    raises ``MissingFileError`` or ``ParameterError`` naming the file)."""
    from validation.report import CheckReport

    return CheckReport.read(path).to_json()
