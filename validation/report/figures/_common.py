"""What the check figures share: reading the :class:`~validation.report.schema.CheckReport`, captions that state
what was measured, legends, and :func:`renderer` (a figure without its data warns and writes no file)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bounds import _plot

from ..schema import CheckReport, Fit

PAPER_MODELS = "the paper's figures used Llama-2-13B(-chat) and Llama-3.1-8B"


class NothingToDraw(ValueError):
    """The report holds none of the data a figure needs (the message says which keys were looked for)."""


def get(obj: Any, *keys: Any) -> Any:
    """``obj[k1][k2]...`` of the report's nested dicts, or ``None`` when a level is missing."""
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


def require_grid(report: CheckReport) -> np.ndarray:
    """The λ grid, or :class:`NothingToDraw` when it is missing, not finite or shorter than 2 points."""
    lam = floats(report.lam)
    if lam is None or lam.size < 2 or not np.all(np.isfinite(lam)):
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


def curve(report: CheckReport, key: str, lam: np.ndarray, default_legend: str) -> Series | None:
    """``report.curves[key]`` on the grid ``lam``, or ``None`` when absent, of another length or never finite."""
    c = report.curves.get(key)
    mean = None if c is None else floats(c.mean, lam.size)
    if mean is None or not np.isfinite(mean).any():
        return None
    se = floats(c.se, lam.size)
    return Series(key, mean, np.full(lam.size, np.nan) if se is None else se, c.n, c.legend or default_legend)


def on_grid(values: Any, from_lam: Any, lam: np.ndarray) -> np.ndarray | None:
    """Values given on the grid ``from_lam`` (e.g. λ ≠ 0 only) placed on ``lam`` (NaN elsewhere); ``None`` when
    either list is malformed or they differ in length."""
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
    """:func:`bounds._plot.errorbar` of a measured curve (``se=None``: no bars)."""
    return _plot.errorbar(ax, lam, mean, np.full(len(mean), np.nan) if se is None else se, **kw)


def pm(value: Any, se: Any, digits: int = 3) -> str:
    """``value ± se`` with ``digits`` significant digits (``(SE unknown)`` when the SE is missing)."""
    v, s = num(value), num(se)
    if v is None:
        return "?"
    return f"{v:.{digits}g} ± {s:.2g}" if s is not None else f"{v:.{digits}g} (SE unknown)"


def fit_params(fit: Fit | None, names: Sequence[str]) -> dict[str, tuple[float, float | None]] | None:
    """``{name: (value, stderr)}`` of a fit, or ``None`` if it failed or lacks a parameter."""
    if fit is None or fit.error or not fit.params:
        return None
    out = {}
    for name in names:
        v = num(get(fit.params, name, "value"))
        if v is None:
            return None
        out[name] = (v, num(get(fit.params, name, "stderr")))
    return out


def fit_missing_reason(report: CheckReport, key: str) -> str:
    """Why ``report.fits[key]`` cannot be drawn (for captions)."""
    if not report.fits:
        return "the report has no fits"
    entry = report.fits.get(key)
    if entry is None:
        return f"the report has no fits.{key}"
    if entry.error:
        return f"fits.{key} failed ({entry.error})"
    return f"fits.{key} lacks its parameters"


def lam_label(report: CheckReport) -> str:
    """x-axis label: λ in hidden-state units (steering adds λ·v̂ with a unit vector v̂), with the residual scale r."""
    r = num(report.lambda_grid.get("scale"))
    scale = f"; residual norm r = {r:.4g}" if r is not None else ""
    return f"steering coefficient λ [hidden-state units{scale}]"


def model_name(report: CheckReport) -> str:
    return str(report.model.get("name") or "?")


def model_title(report: CheckReport, what: str) -> str:
    """``what — model, behavior`` for an axes title."""
    behavior = report.behavior.get("name")
    return f"{what} — {model_name(report)}" + (f", behavior '{behavior}'" if behavior else "")


def empirical_caption(
    report: Mapping[str, Any], what: str, keys: tuple[str, ...] = (), error_bars: str = "1 SE across queries"
) -> str:
    """Caption of an empirical figure (``report``: the JSON object): ``what``, then model, behavior, data and sizes
    (the ``data`` entries named by ``keys``), λ grid, layers, what the error bars are, and :data:`PAPER_MODELS`."""
    model = (report.get("model") or {}).get("name", "?")
    behavior = (report.get("behavior") or {}).get("name", "?")
    grid = (report.get("lambda_grid") or {}).get("values") or []
    layers = report.get("layers") or []
    parts = [what, f"Model: {model}; behavior: {behavior}."]
    data = report.get("data") or {}
    for k in keys:
        d = data.get(k)
        if isinstance(d, Mapping):
            parts.append(f"{k}: {d.get('source', '?')}, n = {d.get('n', '?')}.")
    if grid:
        parts.append(f"λ grid: {len(grid)} points from {min(grid):g} to {max(grid):g}; steered layers {layers}.")
    parts.append(f"Error bars: {error_bars}; {PAPER_MODELS}.")
    return " ".join(parts)


def caption(
    report: CheckReport,
    what: str,
    keys: tuple[str, ...],
    drawn: Sequence[str],
    error_bars: str = "1 SE across queries",
) -> str:
    """:func:`empirical_caption` followed by the sentences in ``drawn``."""
    sub = {"model": report.model, "behavior": report.behavior, "lambda_grid": report.lambda_grid}
    text = empirical_caption({**sub, "layers": report.layers, "data": report.data}, what, keys, error_bars)
    extra = " ".join(s.strip() for s in drawn if s and s.strip())
    return f"{text} {extra}".strip()


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


def panels_figure(height: float, n: int) -> tuple[Any, list[Any]]:
    """A 7-inch-wide figure of ``n`` stacked axes."""
    fig, axes = _plot.new_figure((7.0, height), nrows=n)
    return fig, [axes] if n == 1 else list(axes)


def renderer(make_figure: Callable[[CheckReport], Any], name: str) -> Callable[[CheckReport, str | Path], list[Path]]:
    """``render(report, out_dir)``: ``make_figure(report)`` written as ``out_dir/name``; ``[]`` with a
    :class:`RuntimeWarning` when the report lacks the figure's data (``TypeError``: not a :class:`CheckReport`)."""

    def render(report: CheckReport, out_dir: str | Path) -> list[Path]:
        if not isinstance(report, CheckReport):
            raise TypeError(f"report must be a CheckReport, got {type(report).__name__}")
        try:
            fig = make_figure(report)
        except NothingToDraw as exc:
            warnings.warn(f"{name} not written: {exc}", RuntimeWarning, stacklevel=2)
            return []
        return [save(fig, out_dir, name)]

    return render


def save(fig: Any, out_dir: str | Path, name: str) -> Path:
    """Write ``fig`` as ``out_dir/name`` (created if missing) at :data:`bounds._plot.DPI`, cropped to its content."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return _plot.save(fig, out / name, dpi=_plot.DPI, bbox_inches="tight")
