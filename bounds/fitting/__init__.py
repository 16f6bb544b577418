r"""Fitting the alignment and helpfulness laws to steering curves with lmfit (docs/specification.md §4, §6.1, §7,
§12.2c, §13.3).

Layout (one job per module, after lmfit's own):

* :mod:`~bounds.fitting.lineshapes` -- the laws as pure numpy functions of ``lam``: :func:`tanh_law`
  :math:`\tanh(a\lambda+b_0)`, :func:`theorem_2_form` :math:`1/(1+a(1+b^2\lambda^2/2))`, :func:`restricted_form`
  :math:`(1-2/k)T+1/k`, :func:`expectation_form` :math:`p_0(1-c\lambda^2)`, and the comparison laws
  :func:`linear_form`, :func:`quadratic_form`, :func:`flat_form`.
* :mod:`~bounds.fitting.models` -- :class:`lmfit.Model` wrappers with hints and ``guess()``:
  :class:`AlignmentModel` (``b0`` free or fixed), :class:`Theorem2Model`, :class:`RestrictedModel`,
  :class:`ExpectationModel`, :class:`LinearModel`, :class:`QuadraticModel`, :class:`FlatModel`.
* :mod:`~bounds.fitting.estimation` -- :func:`fit`, :func:`confidence_intervals` (profile likelihood, or normal),
  :func:`fit_per_query`, :func:`average_curve`, :func:`fit_dataset_average`, :func:`bootstrap` over queries.
* :mod:`~bounds.fitting.comparison` -- :func:`compare_models` (AIC/BIC), :func:`compare_alignment` (linear vs
  tanh), :func:`compare_helpfulness_near_zero` (quadratic vs linear vs flat).
* :mod:`~bounds.fitting.mapping` -- fitted parameters to theory quantities with error propagation:
  :func:`alpha_delta_from_tanh` (:math:`\alpha\Delta=2a`), :func:`gamma_from_theorem_2`
  (:math:`\gamma=ap_0/(1-p_0)`), :func:`sigma_from_theorem_2` (:math:`\sigma=b/(\alpha\beta)`, β required; see the
  caution of docs/specification.md §6.1), :func:`b0_from_B0`.

Example::

    from bounds.fitting import AlignmentModel, fit, confidence_intervals, alpha_delta_from_tanh

    result = fit(AlignmentModel(), lam, behavior)            # b0 free, as the authors did
    ci = confidence_intervals(result)                         # {'a': (lo, hi), 'b0': (lo, hi)}
    alpha_delta = alpha_delta_from_tanh(result.params["a"])   # (2a, 2 se(a)) under Theorem 1's ½, full-gap Δ

No parameter is rescaled after a fit: the authors' plotted ``b/2.5`` (docs/specification.md §13.3) is a plotting quirk,
not theory.

Names are loaded lazily: ``import bounds.fitting`` and the pure functions of ``lineshapes`` and ``mapping`` do not
import lmfit; the models, fits and comparisons do.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "lineshapes": (
        "expectation_form",
        "flat_form",
        "linear_form",
        "quadratic_form",
        "restricted_form",
        "tanh_law",
        "theorem_2_form",
    ),
    "models": (
        "AlignmentModel",
        "ExpectationModel",
        "FlatModel",
        "LinearModel",
        "QuadraticModel",
        "RestrictedModel",
        "Theorem2Model",
    ),
    "estimation": (
        "BootstrapResult",
        "ConfidenceIntervals",
        "average_curve",
        "bootstrap",
        "confidence_intervals",
        "fit",
        "fit_dataset_average",
        "fit_per_query",
    ),
    "comparison": (
        "ModelComparison",
        "ModelScore",
        "compare_alignment",
        "compare_helpfulness_near_zero",
        "compare_models",
    ),
    "mapping": (
        "alpha_delta_from_tanh",
        "b0_from_B0",
        "gamma_from_theorem_2",
        "sigma_from_theorem_2",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "AlignmentModel",
    "BootstrapResult",
    "ConfidenceIntervals",
    "ExpectationModel",
    "FlatModel",
    "LinearModel",
    "ModelComparison",
    "ModelScore",
    "QuadraticModel",
    "RestrictedModel",
    "Theorem2Model",
    "alpha_delta_from_tanh",
    "average_curve",
    "b0_from_B0",
    "bootstrap",
    "compare_alignment",
    "compare_helpfulness_near_zero",
    "compare_models",
    "confidence_intervals",
    "expectation_form",
    "fit",
    "fit_dataset_average",
    "fit_per_query",
    "flat_form",
    "gamma_from_theorem_2",
    "linear_form",
    "quadratic_form",
    "restricted_form",
    "sigma_from_theorem_2",
    "tanh_law",
    "theorem_2_form",
]
if set(__all__) != set(_WHERE):  # pragma: no cover - guards the two lists against drifting apart
    raise ImportError("bounds.fitting: __all__ and the lazy export table differ")

if TYPE_CHECKING:  # pragma: no cover - static analysers see the eager imports
    from .comparison import (
        ModelComparison,
        ModelScore,
        compare_alignment,
        compare_helpfulness_near_zero,
        compare_models,
    )
    from .estimation import (
        BootstrapResult,
        ConfidenceIntervals,
        average_curve,
        bootstrap,
        confidence_intervals,
        fit,
        fit_dataset_average,
        fit_per_query,
    )
    from .lineshapes import (
        expectation_form,
        flat_form,
        linear_form,
        quadratic_form,
        restricted_form,
        tanh_law,
        theorem_2_form,
    )
    from .mapping import alpha_delta_from_tanh, b0_from_B0, gamma_from_theorem_2, sigma_from_theorem_2
    from .models import (
        AlignmentModel,
        ExpectationModel,
        FlatModel,
        LinearModel,
        QuadraticModel,
        RestrictedModel,
        Theorem2Model,
    )


def __getattr__(name: str) -> Any:
    """Load an exported name from its submodule on first access (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
