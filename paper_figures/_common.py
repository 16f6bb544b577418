"""Saving a figure, reading a check report and drawing the paper's published curves, shared by the figure scripts."""

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


# -- the paper's published curves (kind "paper-data": fig4_paper_curves, fig5_paper_curves) ----------------------------
def draw_published(ax: Any, curve: Any, n: int, window: tuple[float, float], color: str, label: str) -> Any:
    """The published means of ``curve`` (a :class:`bounds.paper.PaperCurve`, as published: not oriented) with ±1
    pseudo-count standard error at ``n`` (:func:`bounds.paper.standard_errors`, the weighted fits' errors): filled
    markers inside the fit ``window``, hollow outside; returns the in-window handle for a legend."""
    import numpy as np

    from bounds.paper import standard_errors

    lam, mean, se = np.asarray(curve.lam), np.asarray(curve.mean), standard_errors(curve, n)
    inside = curve.window(*window)
    kw = {"yerr": None, "linestyle": "none", "marker": "o", "markersize": 2.6, "elinewidth": 0.7, "color": color}
    handle = ax.errorbar(lam[inside], mean[inside], **{**kw, "yerr": se[inside]}, label=label, gid="published")
    if (~inside).any():
        ax.errorbar(lam[~inside], mean[~inside], **{**kw, "yerr": se[~inside]}, mfc="none", alpha=0.6,
                    gid="published-outside")  # fmt: skip
    return handle


def provenance_sentence(fits: Any) -> str:
    """Where the data come from and the assumed ``n``, from a :class:`bounds.paper.PaperFits`."""
    p, s = fits.provenance, fits.settings
    return (
        f"Data: the authors' published means ({p.paper}, Llama-2-13B base and Llama-2-13B-chat), from their repository "
        f"{p.repository} at commit {p.commit[:7]} ({p.commit_date}), shipped in {p.package_folder}; no model is run. "
        f"Error bars: ±1 standard error by the pseudo-count rule at an assumed n = {s['n']} per point (the files give "
        "no n; bounds.paper.standard_errors), the errors of the weighted fits. Intervals: "
        f"{s['level']:.0%} profile likelihood."
    )
