"""Reading a ``steering-bounds check`` report for the empirical figures (Figs. 4–12), tolerant of missing pieces.

Every accessor returns ``None`` (or an all-NaN array) instead of raising when a key is absent or malformed, so a
figure can draw what the report holds and say in its caption what it left out. A figure with nothing at all to draw
raises :class:`NothingToDraw`; :func:`render_one` turns that into a warning and writes no file.

Conventions: ``report["lambda_grid"]["values"]`` is the λ grid :math:`\\lambda_1<\\dots<\\lambda_G` (it contains 0);
a curve ``report["curves"][key]`` has ``mean`` and ``se`` lists of length :math:`G` (``None`` = not measured) and
``n`` queries; SE bars are 1 standard error across queries.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paper_figures import _common


class NothingToDraw(ValueError):
    """The report holds none of the data a figure needs (the message says which keys were looked for)."""


def get(obj: Any, *keys: Any) -> Any:
    """``obj[k1][k2]...`` or ``None`` when a level is missing or not a mapping."""
    for k in keys:
        if not isinstance(obj, Mapping) or k not in obj:
            return None
        obj = obj[k]
    return obj


def num(x: Any) -> float | None:
    """``x`` as a finite float, else ``None`` (booleans are not numbers here)."""
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def floats(values: Any, length: int | None = None) -> np.ndarray | None:
    """A 1-D float array from a list with ``None`` read as NaN; ``None`` if not a list of numbers (of ``length``)."""
    if not isinstance(values, Sequence | np.ndarray) or isinstance(values, str):
        return None
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None:
            continue
        f = num(v)
        if f is None and not (isinstance(v, float) and math.isnan(v)):
            return None
        out[i] = np.nan if f is None else f
    if length is not None and out.size != length:
        return None
    return out


def grid(report: Mapping[str, Any]) -> np.ndarray | None:
    """The λ grid (``lambda_grid.values``), or ``None`` when missing, not finite or shorter than 2 points."""
    lam = floats(get(report, "lambda_grid", "values"))
    if lam is None or lam.size < 2 or not np.all(np.isfinite(lam)):
        return None
    return lam


def require_grid(report: Mapping[str, Any]) -> np.ndarray:
    """:func:`grid` or :class:`NothingToDraw`."""
    lam = grid(report)
    if lam is None:
        raise NothingToDraw("the report has no usable λ grid (lambda_grid.values: finite, at least 2 points)")
    return lam


@dataclass(frozen=True)
class Series:
    """One measured curve of the report on the λ grid: mean and SE (NaN where not measured), sample size."""

    key: str
    mean: np.ndarray
    se: np.ndarray
    n: int | None
    legend: str


def curve(report: Mapping[str, Any], key: str, lam: np.ndarray, default_legend: str) -> Series | None:
    """``report["curves"][key]`` on the grid ``lam``, or ``None`` when absent, malformed or never finite."""
    c = get(report, "curves", key)
    if not isinstance(c, Mapping):
        return None
    mean = floats(c.get("mean"), lam.size)
    if mean is None or not np.isfinite(mean).any():
        return None
    se = floats(c.get("se"), lam.size)
    if se is None:
        se = np.full(lam.size, np.nan)
    n = c.get("n")
    legend = c.get("legend") if isinstance(c.get("legend"), str) and c.get("legend") else default_legend
    return Series(key, mean, se, n if isinstance(n, int) and not isinstance(n, bool) else None, legend)


def on_grid(values: Any, from_lam: Any, lam: np.ndarray) -> np.ndarray | None:
    """Values given on the grid ``from_lam`` (e.g. λ ≠ 0 only) placed on ``lam`` (NaN elsewhere).

    Returns ``None`` when either list is malformed or they differ in length.
    """
    v, x = floats(values), floats(from_lam)
    if v is None or x is None or v.size != x.size:
        return None
    out = np.full(lam.size, np.nan)
    for xi, vi in zip(x, v, strict=True):
        hit = np.flatnonzero(np.isclose(lam, xi, rtol=1e-9, atol=1e-12))
        if hit.size:
            out[hit[0]] = vi
    return out


def errorbar(ax: Any, lam: np.ndarray, mean: np.ndarray, se: np.ndarray | None, **kw: Any) -> Any:
    """``ax.errorbar`` of a measured curve (markers, ±1 SE caps); NaN SE draws no bar there."""
    yerr = None
    if se is not None and np.isfinite(se).any():
        yerr = np.where(np.isfinite(se), se, 0.0)
    kw.setdefault("marker", "o")
    kw.setdefault("markersize", 4)
    kw.setdefault("linewidth", 1.4)
    kw.setdefault("capsize", 3)
    return ax.errorbar(lam, mean, yerr=yerr, **kw)


def pm(value: Any, se: Any, digits: int = 3) -> str:
    """``value ± se`` with ``digits`` significant digits (``± ?`` when the SE is unknown)."""
    v, s = num(value), num(se)
    if v is None:
        return "?"
    return f"{v:.{digits}g} ± {s:.2g}" if s is not None else f"{v:.{digits}g} (SE unknown)"


def fit_params(fit: Any, names: Sequence[str]) -> dict[str, tuple[float, float | None]] | None:
    """``{name: (value, stderr)}`` of a report fit entry, or ``None`` if it is an error or lacks a parameter."""
    if not isinstance(fit, Mapping) or fit.get("error"):
        return None
    out = {}
    for name in names:
        v = num(get(fit, "params", name, "value"))
        if v is None:
            return None
        out[name] = (v, num(get(fit, "params", name, "stderr")))
    return out


def fit_missing_reason(report: Mapping[str, Any], key: str) -> str:
    """Why ``report["fits"][key]`` cannot be drawn (for captions)."""
    fits = report.get("fits")
    if not isinstance(fits, Mapping):
        return "the report has no fits"
    if isinstance(fits.get("error"), str):
        return f"fits were skipped by the check ({fits['error']})"
    entry = fits.get(key)
    if entry is None:
        return f"the report has no fits.{key}"
    if isinstance(entry, Mapping) and entry.get("error"):
        return f"fits.{key} failed ({entry['error']})"
    return f"fits.{key} lacks its parameters"


def lam_label(report: Mapping[str, Any]) -> str:
    """x-axis label: λ in hidden-state units (steering adds λ·v̂ with a unit vector v̂), with the residual scale r."""
    r = num(get(report, "lambda_grid", "scale"))
    scale = f"; residual norm r = {r:.4g}" if r is not None else ""
    return f"steering coefficient λ [hidden-state units{scale}]"


def model_title(report: Mapping[str, Any], what: str) -> str:
    """``what — model, behavior`` for an axes title."""
    model = get(report, "model", "name") or "?"
    behavior = get(report, "behavior", "name")
    return f"{what} — {model}" + (f", behavior '{behavior}'" if behavior else "")


def caption(report: Mapping[str, Any], what: str, keys: tuple[str, ...], drawn: Sequence[str]) -> str:
    """:func:`paper_figures._common.empirical_caption` followed by the sentences in ``drawn``."""
    text = _common.empirical_caption(report, what, keys)
    extra = " ".join(s.strip() for s in drawn if s and s.strip())
    return f"{text} {extra}".strip()


def add_caption(fig: Any, text: str, width: int = 120, fontsize: float = 7.5) -> None:
    """Write ``text`` wrapped under the axes, reserving its height in inches (tall figures waste no space).

    Like :func:`paper_figures._common.add_caption`, whose fixed 3.5 % of the height per line suits ~4.5-inch figures
    only: here a line takes ``1.25 * fontsize`` points whatever the figure's height.
    """
    wrapped = "\n".join(textwrap.wrap(text, width))
    lines = wrapped.count("\n") + 1
    height = fig.get_size_inches()[1]
    bottom = min(0.6, (lines * 1.25 * fontsize / 72.0 + 0.12) / height)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.text(0.01, 0.04 / height, wrapped, fontsize=fontsize, va="bottom", ha="left", color="0.25")


def legend(ax: Any, *, below: bool = True, ncol: int = 1, offset: float = -0.16, **kw: Any) -> None:
    """The axes legend, measured curves (error-bar containers) first; under the axes when ``below``."""
    from matplotlib.container import ErrorbarContainer

    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(handles)), key=lambda i: not isinstance(handles[i], ErrorbarContainer))
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    kw.setdefault("fontsize", 7.5)
    if below:
        kw.update(loc="upper center", bbox_to_anchor=(0.5, offset), frameon=False)
    ax.legend(handles, labels, ncol=ncol, **kw)


def headroom(ax: Any, fraction: float) -> None:
    """Extend the y range upwards by ``fraction`` of its span (room for a legend at the top)."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + fraction * (hi - lo))


def no_data_entry(ax: Any, text: str) -> None:
    """A legend entry with no marker (e.g. why a bound is not drawn)."""
    ax.plot([], [], " ", label=text)


def render_one(
    make_figure: Callable[[Mapping[str, Any]], Any], report: Mapping[str, Any], out_dir: str | Path, name: str
) -> list[Path]:
    """Draw ``make_figure(report)`` into ``out_dir/name``; a report without the data gives a warning and ``[]``.

    Raises:
        TypeError: ``report`` is not a mapping.
    """
    if not isinstance(report, Mapping):
        raise TypeError(f"report must be a check-report mapping, got {type(report).__name__}")
    try:
        fig = make_figure(report)
    except NothingToDraw as exc:
        warnings.warn(f"{name} not written: {exc}", RuntimeWarning, stacklevel=3)
        return []
    return [_common.save(fig, out_dir, name)]


def main_for(doc: str | None, render: Callable[[dict, Path], list[Path]], argv: list[str] | None) -> list[Path]:
    """The ``main`` of a report figure: ``--report PATH`` (a ``report.json``) and ``--out DIR``; prints the paths."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    parser.add_argument("--report", type=Path, required=True, help="report.json written by `steering-bounds check`")
    parser.add_argument("--out", type=Path, default=Path("."), help="output folder (default: current folder)")
    args = parser.parse_args(argv)
    report = _common.load_report(args.report)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = render(report, args.out)
    for w in caught:
        print(f"skipped: {w.message}", file=sys.stderr)
    for p in paths:
        print(p)
    return paths
