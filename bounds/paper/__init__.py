r"""The paper's published Llama-2-13B curves (Figures 4 and 5 of arXiv 2401.16332) shipped as package data, read by
name, and fitted with the authors' forms and windows, unweighted and weighted (docs/paper-curves.md).

* :mod:`bounds.paper.data`: :func:`paper_measurements`, :func:`paper_curve`, :class:`PaperCurve`,
  :func:`paper_provenance`, and :func:`to_curves` / :func:`write_csv` (the input of ``steering-bounds fit``);
* :mod:`bounds.paper.standard_errors`: the standard errors of the published means (the pseudo-count rule,
  :func:`standard_errors`) and the prompt count the behavior means allow (:func:`count_granularity`);
* :mod:`bounds.paper.fits`: :func:`fit_curve`, :func:`fit_paper_curves` and their results (:class:`CurveFit`,
  :class:`Fit`, :class:`Estimate`, :class:`PaperFits`, defined in :mod:`bounds.paper.results`);
* :mod:`bounds.paper.report`: ``paper_fits.json`` and ``paper_fits.md`` (:func:`write_paper_fits`, the work of
  ``steering-bounds fit --paper``).

Importing this package imports no lmfit or matplotlib (the fits import lmfit when they run).
"""

from __future__ import annotations

from .data import (
    MEASURES,
    MODELS,
    STEERING,
    PaperCurve,
    Provenance,
    curve_keys,
    paper_curve,
    paper_measurements,
    paper_provenance,
    to_curves,
    to_rows,
    write_csv,
)
from .fits import (
    BEHAVIOR_WINDOW,
    HELPFULNESS_WINDOW,
    LAWS,
    NEAR_ZERO_WINDOW,
    PLOT_DIVISOR,
    RESTRICTED_K,
    SENSITIVITY_N,
    WEIGHTINGS,
    Comparison,
    CurveFit,
    Estimate,
    Fit,
    PaperFits,
    fit_curve,
    fit_paper_curves,
)
from .report import write_paper_fits
from .standard_errors import DEFAULT_N, PSEUDO_COUNT, count_granularity, pseudo_count_se, standard_errors

__all__ = [
    "BEHAVIOR_WINDOW",
    "DEFAULT_N",
    "HELPFULNESS_WINDOW",
    "LAWS",
    "MEASURES",
    "MODELS",
    "NEAR_ZERO_WINDOW",
    "PLOT_DIVISOR",
    "PSEUDO_COUNT",
    "RESTRICTED_K",
    "SENSITIVITY_N",
    "STEERING",
    "WEIGHTINGS",
    "Comparison",
    "CurveFit",
    "Estimate",
    "Fit",
    "PaperCurve",
    "PaperFits",
    "Provenance",
    "count_granularity",
    "curve_keys",
    "fit_curve",
    "fit_paper_curves",
    "paper_curve",
    "paper_measurements",
    "paper_provenance",
    "pseudo_count_se",
    "standard_errors",
    "to_curves",
    "to_rows",
    "write_csv",
    "write_paper_fits",
]
