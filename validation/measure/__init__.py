r"""Measurements of the theory's assumptions and curves as **pure functions of arrays** (numpy/scipy only).

Nothing here loads a model or imports torch: the model-facing code of :mod:`validation` records hidden states,
projections and probabilities, and hands arrays to these functions, which are unit-tested on synthetic arrays with
a planted truth. Layout (one job per module):

* :mod:`~validation.measure.assumption1` -- :func:`assumption_1`: :math:`\|\delta\|=\alpha|\lambda|` per query,
  for the post-norm :math:`\delta` (the specification's), the pre-norm residual change and :math:`\|U\delta\|`; α with
  its SE across queries, :math:`R^2`, the detected linear range, curvature, verdict.
* :mod:`~validation.measure.assumption2` -- :func:`projections` (:math:`z_s=\langle u_s,\hat\delta\rangle`) and
  :func:`assumption_2`: hard margin :math:`\Delta`, the authors' mean gap, soft margin (:math:`M`, :math:`\rho`,
  depth :math:`\Delta_M`), verdicts for Assumptions 2 and 4.
* :mod:`~validation.measure.assumption3` -- :func:`assumption_3`: top-:math:`k` projections of unrelated queries,
  σ (within-query) and the pooled :math:`\sqrt2\sigma`, normality tests and QQ data, i.i.d. diagnostics, β and γ.
* :mod:`~validation.measure.curves` -- :func:`behavior_single_token`, :func:`behavior_generated`,
  :func:`helpfulness_curves`, :func:`choice_likelihood`, :func:`p0_interval`, :func:`at_chance`,
  :func:`compare_with_bound`.

Every result is a frozen dataclass with ``to_dict()`` (JSON-safe) and, for assumptions, a
:class:`~validation.measure._common.Verdict` carrying the statistic, the threshold, pass/fail, the rule (with the
reason for its threshold) and the evidence.
"""

from __future__ import annotations

from ._common import AcrossQueries, Verdict, across_queries
from .assumption1 import QUANTITIES, Assumption1Result, LinearityFit, SideFit, assumption_1, detect_linear_range
from .assumption2 import Assumption2Result, assumption_2, projections
from .assumption3 import Assumption3Result, anderson_darling_normal, assumption_3, helmert_contrasts, sigma_within
from .curves import (
    BehaviorCurve,
    BoundComparison,
    ChanceCheck,
    ChoiceLikelihood,
    HelpfulnessCurves,
    Interval,
    at_chance,
    behavior_generated,
    behavior_single_token,
    choice_likelihood,
    compare_with_bound,
    degenerate_b0_reason,
    helpfulness_curves,
    p0_interval,
)

__all__ = [
    "QUANTITIES",
    "AcrossQueries",
    "Assumption1Result",
    "Assumption2Result",
    "Assumption3Result",
    "BehaviorCurve",
    "BoundComparison",
    "ChanceCheck",
    "ChoiceLikelihood",
    "HelpfulnessCurves",
    "Interval",
    "LinearityFit",
    "SideFit",
    "Verdict",
    "across_queries",
    "anderson_darling_normal",
    "assumption_1",
    "assumption_2",
    "assumption_3",
    "at_chance",
    "behavior_generated",
    "behavior_single_token",
    "choice_likelihood",
    "compare_with_bound",
    "degenerate_b0_reason",
    "detect_linear_range",
    "helmert_contrasts",
    "helpfulness_curves",
    "p0_interval",
    "projections",
    "sigma_within",
]
