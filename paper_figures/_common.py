"""Shared helpers of the figure scripts: captions that state what was measured, saving, reading a check report.

Every figure carries a caption (drawn under the axes) naming its source: theory figures the statement and the
parameters; empirical figures the model, the data, the sample sizes, the λ grid and the steered layers, and that
the paper's were Llama-2-13B-chat / Llama-3.1-8B (:data:`PAPER_MODELS`).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PAPER_MODELS = "the paper's figures used Llama-2-13B(-chat) and Llama-3.1-8B"
DPI = 120


def new_figure(width: float = 7.0, height: float = 4.5, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot: the caller's backend is never switched) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


def add_caption(fig: Any, text: str, width: int = 110) -> None:
    """Write ``text`` under the axes (wrapped), leaving room for it."""
    wrapped = "\n".join(textwrap.wrap(text, width))
    lines = wrapped.count("\n") + 1
    # the caption has a fixed height in inches (7.5 pt lines, 1.3 line spacing): reserve that fraction of the figure
    bottom = (lines * 7.5 * 1.3 / 72 + 0.1) / fig.get_figheight()
    fig.tight_layout(rect=(0, min(bottom, 0.5), 1, 1))
    fig.text(0.01, 0.01, wrapped, fontsize=7.5, va="bottom", ha="left", color="0.25")


def save(fig: Any, out_dir: str | Path, name: str) -> Path:
    """Write ``fig`` as ``out_dir/name`` (PNG) and return the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def load_report(path: str | Path) -> dict[str, Any]:
    """A ``steering-bounds check`` report (``report.json``), schema-checked.

    Raises:
        bounds.errors.MissingFileError: (a ``FileNotFoundError``) no such file.
        bounds.errors.ParameterError: (a ``ValueError``) not JSON, not a check report, or an unsupported schema
            version.
    """
    from bounds.errors import MissingFileError, ParameterError
    from validation.report import check_schema

    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"report: no such file {str(p)!r} (a report.json of steering-bounds check)")
    try:
        report = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(f"report: {str(p)!r} is not a JSON check report ({exc})") from exc
    if not isinstance(report, dict):
        raise ParameterError(f"report: {str(p)!r} holds a JSON {type(report).__name__}, not a check report object")
    try:
        check_schema(report)
    except ParameterError as exc:
        raise ParameterError(f"report: {str(p)!r}: {exc}") from exc
    return report


def empirical_caption(report: Mapping[str, Any], what: str, keys: tuple[str, ...] = ()) -> str:
    """Caption of an empirical figure: ``what``, then model, behavior, data and sizes (from the report's
    ``data``/``curves`` entries named by ``keys``), λ grid, layers, and :data:`PAPER_MODELS`."""
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
    parts.append(f"Error bars: 1 SE across queries; {PAPER_MODELS}.")
    return " ".join(parts)
