r"""Fitting the alignment and helpfulness laws to steering curves with lmfit (docs/specification.md §4, §6.1, §7,
§12.2c, §13.3).

Layout (one job per module, after lmfit's own):

* :mod:`~bounds.fitting.lineshapes` -- the laws as pure numpy functions of ``lam`` with their λ-derivatives:
  :func:`tanh_law` :math:`\tanh(a\lambda+b_0)`, :func:`theorem_2_form` :math:`1/(1+a(1+b^2\lambda^2/2))`,
  :func:`restricted_form` :math:`(1-2/k)T+1/k`, :func:`expectation_form` :math:`p_0(1-c\lambda^2)`.
* :mod:`~bounds.fitting.models` -- :class:`lmfit.Model` wrappers with hints and ``guess()``:
  :class:`AlignmentModel` (``b0`` free or fixed), :class:`Theorem2Model`, :class:`RestrictedModel`,
  :class:`ExpectationModel`.
* :mod:`~bounds.fitting.estimation` -- :func:`fit`, :func:`confidence_intervals` (profile likelihood, or normal),
  :func:`fit_per_query`, :func:`average_curve`, :func:`fit_dataset_average`, :func:`bootstrap` over queries.
* :mod:`~bounds.fitting.comparison` -- :func:`compare_models` (AIC/BIC), :func:`compare_alignment` (linear vs
  tanh), :func:`compare_helpfulness_near_zero` (quadratic vs linear vs flat, lmfit's own models).
* :mod:`~bounds.fitting.mapping` -- fitted parameters to theory quantities with error propagation:
  :func:`alpha_delta_from_tanh` (:math:`\alpha\Delta=2a`), :func:`gamma_from_theorem_2`
  (:math:`\gamma=ap_0/(1-p_0)`), :func:`sigma_from_theorem_2` (:math:`\sigma=b/(\alpha\beta)`, β required; see the
  caution of docs/specification.md §6.1), :func:`b0_from_B0`.

Example::

    from bounds.fitting import AlignmentModel, fit, confidence_intervals, alpha_delta_from_tanh

    result = fit(AlignmentModel(), lam, behavior)            # b0 free, as the authors did
    ci = confidence_intervals(result)                         # {'a': (lo, hi), 'b0': (lo, hi)}
    alpha_delta = alpha_delta_from_tanh(result.params["a"])   # (2a, 2 se(a)) under Theorem 1's ½, full-gap Δ

Names are loaded lazily (PEP 562): ``import bounds.fitting`` and the pure functions of ``lineshapes`` and ``mapping``
do not import lmfit; the models, fits and comparisons do.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: the names re-exported from each submodule (each in its ``__all__``; tests/test_fitting.py checks)
_EXPORTS = {
    "lineshapes": "derivative_of expectation_form restricted_form tanh_law theorem_2_form",
    "models": "AlignmentModel ExpectationModel RestrictedModel Theorem2Model",
    "estimation": "BootstrapResult ConfidenceIntervals average_curve bootstrap confidence_intervals fit "
    "fit_dataset_average fit_per_query",
    "comparison": "ModelComparison ModelScore compare_alignment compare_helpfulness_near_zero compare_models",
    "mapping": "alpha_delta_from_tanh b0_from_B0 gamma_from_theorem_2 sigma_from_theorem_2",
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names.split()}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Load an exported name from its submodule on first access."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
