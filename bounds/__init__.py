r"""steering-bounds: the alignment/helpfulness bounds of steering, computed, expanded and property-tested.

The theory of Wolf et al., "Tradeoffs Between Alignment and Helpfulness in Language Models with Steering Methods"
(arXiv 2401.16332), as reconstructed in THEORY.md. Every bound is at heart a function of :math:`\|\delta\|`, the norm
of the change of the final hidden state; the public API takes :math:`(\alpha, \lambda)` with
:math:`\|\delta\| = \alpha|\lambda|` (Assumption 1) and ``*_norm`` forms take :math:`\|\delta\|` directly.

Main entry points:

* :func:`alignment_lower` -- Theorem 1, :math:`\tanh(\alpha\lambda\Delta/2 + \operatorname{artanh} B_0)`.
* :func:`alignment_guarantee_norm` -- Corollary 1, the smallest :math:`\lambda` reaching :math:`1-\epsilon`.
* :func:`helpfulness_upper` -- Theorem 2 as stated (eq. 6; status ``fails``, kept for fitting).
* :func:`helpfulness_limit` -- Corollary 2, :math:`1/n`.
* :func:`steered_distribution` -- the exact steered next-token distribution (ground truth).
* :mod:`bounds.registry` -- every statement with its sympy form, expansions, provenance and status.
* :mod:`bounds.strategies` -- hypothesis strategies for each statement's hypotheses (imports hypothesis).

``import bounds`` never imports torch or transformers.
"""

from __future__ import annotations

from .alignment import alignment_guarantee_norm, alignment_lower, alignment_lower_norm
from .helpfulness import helpfulness_limit, helpfulness_upper
from .registry import get as statement
from .registry import statements
from .statement import NotClosedForm, Statement
from .steered import behavior_expectation, helpfulness, steered_distribution

__version__ = "0.1.0"

__all__ = [
    "NotClosedForm",
    "Statement",
    "alignment_guarantee_norm",
    "alignment_lower",
    "alignment_lower_norm",
    "behavior_expectation",
    "helpfulness",
    "helpfulness_limit",
    "helpfulness_upper",
    "statement",
    "statements",
    "steered_distribution",
]
