"""Figures on matplotlib's Agg canvas, without pyplot (the caller's backend is never switched), saved atomically.

matplotlib is imported inside the functions: ``import bounds`` never imports it.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write

__all__ = ["DPI", "add_caption", "errorbar", "log_scale", "new_figure", "save"]

DPI = 120


def new_figure(
    figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, *, dpi: float = DPI, layout: str | None = None,
    **subplots_kw: Any,
) -> tuple[Any, Any]:  # fmt: skip
    """A ``Figure`` on the Agg canvas and ``fig.subplots(nrows, ncols, **subplots_kw)`` (``None`` when
    ``nrows == 0``: the caller adds its own axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig, (fig.subplots(nrows, ncols, **subplots_kw) if nrows else None)


def save(fig: Any, path: str | os.PathLike[str], dpi: float | None = None, **savefig_kw: Any) -> Path:
    """Write ``fig`` atomically to ``path`` (format from the suffix; ``dpi=None``: matplotlib's ``savefig.dpi``,
    the figure's by default) and return the path."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    return atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi, **savefig_kw))


def errorbar(ax: Any, x: np.ndarray, mean: np.ndarray, se: np.ndarray, **kw: Any) -> Any:
    """``ax.errorbar`` with NaN SE drawn without a bar; returns the line for legends."""
    yerr = None if np.isnan(se).all() else np.where(np.isnan(se), 0.0, se)
    return ax.errorbar(x, mean, yerr=yerr, capsize=3, marker="o", markersize=4, linewidth=1.4, **kw)


def log_scale(ax: Any, *, x: bool = True, y: bool = True) -> None:
    """Log axes labelled with plain numbers at 1, 2 and 5 times the powers of ten (``0.1``, ``0.2``, ``5``, …).

    matplotlib's default log labels are mathtext (``$10^{0}$``), and matplotlib 3.7's mathtext parser calls
    pyparsing's ``parseString``, which newer pyparsing deprecates with a warning; plain labels avoid the parser.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for on, axis, set_scale in ((x, ax.xaxis, ax.set_xscale), (y, ax.yaxis, ax.set_yscale)):
        if on:
            set_scale("log")
            axis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())


def add_caption(fig: Any, text: str, width: int = 120, fontsize: float = 7.5) -> None:
    """Write ``text`` wrapped under the axes, reserving its height in inches (a line takes ``1.25 * fontsize``
    points whatever the figure's height, so tall figures waste no space)."""
    wrapped = "\n".join(textwrap.wrap(text, width))
    lines = wrapped.count("\n") + 1
    height = fig.get_size_inches()[1]
    bottom = min(0.6, (lines * 1.25 * fontsize / 72.0 + 0.12) / height)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.text(0.01, 0.04 / height, wrapped, fontsize=fontsize, va="bottom", ha="left", color="0.25")
