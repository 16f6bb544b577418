"""What the figures computed on a model share: the report's steering setup, the λ/r axis, writing their outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._common import save


def setup(loaded: Any, report: Mapping[str, Any], vectors_path: Any, defaults: dict[str, Any], sizes: Any) -> Any:
    """``(settings, vectors, layers, lam)``: ``sizes`` over ``defaults``, the report's vectors and layers and the λ
    subset (:func:`validation.tasks.lambda_subset` of ``n_lambdas``) of its grid.

    Raises:
        ValueError: an unknown size, or ``loaded`` is not the report's model.
        FileNotFoundError: the vectors file is missing.
    """
    from validation import tasks

    unknown = sorted(set(sizes) - set(defaults))
    if unknown:
        raise ValueError(f"sizes: unknown {unknown}; valid: {sorted(defaults)}")
    model = report.get("model") or {}
    names = {model.get("name"), model.get("path")} - {None}
    if names and getattr(loaded, "name", None) not in names and getattr(loaded, "path", None) not in names:
        raise ValueError(
            f"loaded: the model given is {getattr(loaded, 'name', '?')!r}, but the report's vectors were made on "
            f"{model.get('name')!r}; load that model"
        )
    cfg = {**defaults, **sizes}
    vectors, layers, grid = tasks.report_steering(report, vectors_path)
    return cfg, vectors, layers, tasks.lambda_subset(grid, cfg["n_lambdas"])


def on_subset(report: Mapping[str, Any], lam: np.ndarray) -> tuple[dict[str, Any], int]:
    """The report with its λ grid cut to ``lam`` (for the caption) and the size of its full grid."""
    grid = report.get("lambda_grid") or {}
    return {**report, "lambda_grid": {**grid, "values": list(lam)}}, len(grid.get("values") or [])


def residual_scale_axis(ax: Any, report: Mapping[str, Any]) -> None:
    """A secondary x axis on top: λ as a fraction of the report's residual-norm scale r (when the report has it)."""
    scale = (report.get("lambda_grid") or {}).get("scale")
    if not isinstance(scale, int | float) or not np.isfinite(scale) or scale <= 0:
        return
    top = ax.secondary_xaxis("top", functions=(lambda x: x / scale, lambda f: f * scale))
    top.set_xlabel(f"λ / r  (r = {scale:.4g}: residual-stream norm at the steered layers)", fontsize=8)
    top.tick_params(labelsize=7.5)


def renderer(
    compute: Callable[..., dict[str, Any]],
    make_figure: Callable[..., Any],
    defaults: dict[str, Any],
    name: str,
    data_name: str,
) -> Any:
    """The ``render`` of a figure computed on a model, from its ``compute(loaded, cfg, vectors, lam, progress)`` (the
    figure's data past ``lam``, ``layers`` and ``settings``, JSON-ready) and ``make_figure(result, report)``."""

    def render(
        out_dir: str | Path,
        *,
        loaded: Any,
        report: Mapping[str, Any],
        vectors_path: str | Path | None = None,
        progress: Callable[[int, int], None] | None = None,
        **sizes: Any,
    ) -> list[Path]:
        """Compute on ``loaded`` (the report's model) with the steering setup of ``report`` (a ``steering-bounds
        check`` report dict; ``vectors_path``: a vectors file to use instead of its own; ``sizes``: overrides of
        ``DEFAULTS``; ``progress(done, total)``) and draw the figure; writes the JSON data then the PNG into
        ``out_dir`` (created) and returns ``[png_path, json_path]``. Raises as :func:`setup`."""
        cfg, vectors, layers, lam = setup(loaded, report, vectors_path, defaults, sizes)
        result = {
            "lam": lam.tolist(),
            "layers": layers,
            "settings": cfg,
            **compute(loaded, cfg, vectors, lam, progress),
        }
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        data_path = out / data_name
        data_path.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
        return [save(make_figure(result, report), out, name), data_path]

    render.__module__ = compute.__module__  # build.main finds the figure's module (DEFAULTS, FILENAME) through it
    return render
