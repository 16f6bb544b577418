r"""steering-bounds: the alignment/helpfulness bounds of steering, computed, expanded and property-tested.

The theory of Wolf et al., "Tradeoffs Between Alignment and Helpfulness in Language Models with Steering Methods"
(arXiv 2401.16332), as reconstructed in the project's specification, ``docs/specification.md``. Every bound is at
heart a function of :math:`\|\delta\|`, the norm of the change of the final hidden state. The bounds take
:math:`(\alpha, \lambda)` and depend on them only through the product :math:`\alpha\lambda`, with
:math:`\|\delta\| = \alpha|\lambda|` (Assumption 1), so ``alpha=1, lam=‖δ‖`` evaluates a bound at a given norm (and a
threshold such as :func:`alignment_guarantee` then returns a norm). :func:`alignment_lower_norm`, Theorem 1 without
Assumption 1, and the functions of the exact steered distribution take ``norm`` :math:`=\|\delta\|` directly;
:func:`helpfulness_jensen` and :func:`helpfulness_event` take the realised :math:`X^\pm`, which contain it.
The KL price of steering (:func:`kl_divergence`, exact; :func:`kl_second_order` and :func:`kl_upper`, its laws;
:func:`lambda_for_kl`, the strength at a KL budget) takes ``norm`` or returns :math:`\lambda` with ``alpha``.

The statements that fail as stated (:func:`helpfulness_upper`, :func:`helpfulness_upper_product`,
:func:`trinary_lower`, :func:`multitoken_threshold`) are kept, for fitting, beside their corrected replacements;
:func:`statement` gives every statement with its status. The submodules are listed in ``docs/api/index.md``.
Every numeric function returns a Python float for scalar inputs, else the broadcast array. ``import bounds`` never
imports torch, transformers, lmfit or hypothesis (each is imported where it is used).
"""

from __future__ import annotations

from . import fitting, tradeoff
from .alignment import (
    alignment_guarantee,
    alignment_lower,
    alignment_lower_norm,
    graded_lower,
    soft_margin_lower,
    soft_margin_range,
    trinary_lower,
    trinary_lower_corrected,
)
from .definitions import (
    PredicateResult,
    assumption_1,
    assumption_2,
    assumption_3,
    assumption_3_sample,
    assumption_4,
    behavior_unsteered,
    binary_masses,
)
from .helpfulness import (
    helpfulness_at_infinity,
    helpfulness_event,
    helpfulness_expectation,
    helpfulness_expectation_p,
    helpfulness_jensen,
    helpfulness_limit,
    helpfulness_quantities,
    helpfulness_upper,
    helpfulness_upper_product,
)
from .kl import kl_divergence, kl_second_order, kl_upper, lambda_for_kl, projection_spread
from .multitoken import ResponseTree, multitoken_threshold, multitoken_threshold_corrected, response_behavior
from .registry import get as statement
from .registry import statements
from .statement import NotClosedForm, Statement
from .steered import behavior_expectation, steered_distribution
from .steered import helpfulness as steered_helpfulness

__version__ = "0.1.0"

__all__ = [
    "NotClosedForm",
    "PredicateResult",
    "ResponseTree",
    "Statement",
    "alignment_guarantee",
    "alignment_lower",
    "alignment_lower_norm",
    "assumption_1",
    "assumption_2",
    "assumption_3",
    "assumption_3_sample",
    "assumption_4",
    "behavior_expectation",
    "behavior_unsteered",
    "binary_masses",
    "fitting",
    "graded_lower",
    "helpfulness_at_infinity",
    "helpfulness_event",
    "helpfulness_expectation",
    "helpfulness_expectation_p",
    "helpfulness_jensen",
    "helpfulness_limit",
    "helpfulness_quantities",
    "helpfulness_upper",
    "helpfulness_upper_product",
    "kl_divergence",
    "kl_second_order",
    "kl_upper",
    "lambda_for_kl",
    "multitoken_threshold",
    "multitoken_threshold_corrected",
    "projection_spread",
    "response_behavior",
    "soft_margin_lower",
    "soft_margin_range",
    "statement",
    "statements",
    "steered_distribution",
    "steered_helpfulness",
    "tradeoff",
    "trinary_lower",
    "trinary_lower_corrected",
]
