"""The figures of a check report, written by :func:`validation.report.write_report` and registered in
``paper_figures.FIGURES``: Fig. 4 (:mod:`.fig4_behavior`), Fig. 5 (:mod:`.fig5_helpfulness`), Figs. 6–8
(:mod:`.fig6_8_delta_norm`), Figs. 9–10 (:mod:`.fig9_10_noise`), Figs. 11–12 (:mod:`.fig11_12_separation`) and the
per-query steerability (:mod:`.steerability`) and the KL price of steering (:mod:`.kl`), not figures of the paper.
Each module has ``make_figure(report)`` and ``render(report, out_dir)``."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..schema import CheckReport
from . import fig4_behavior, fig5_helpfulness, fig6_8_delta_norm, fig9_10_noise, fig11_12_separation, kl, steerability
from ._common import NothingToDraw, save

__all__ = ["FIGURE_NAMES", "MODULES", "plot_figures"]

MODULES = (fig4_behavior, fig5_helpfulness, fig6_8_delta_norm, fig9_10_noise, fig11_12_separation, steerability, kl)
FIGURE_NAMES = tuple(m.FILENAME for m in MODULES)


def plot_figures(report: CheckReport, out_dir: str | Path) -> list[str]:
    """Draw the figures whose data ``report`` holds into ``out_dir``; return their file names.

    A figure without its data is skipped; one that fails to draw is reported with a :class:`RuntimeWarning` and the
    others are still written.
    """
    written = []
    for module in MODULES:
        try:
            written.append(save(module.make_figure(report), out_dir, module.FILENAME).name)
        except NothingToDraw:
            continue
        except Exception as exc:
            warnings.warn(f"figure {module.FILENAME} not written: {type(exc).__name__}: {exc}", RuntimeWarning, 2)
    return written
