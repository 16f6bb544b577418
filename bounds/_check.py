"""Input validation shared by every public numeric function of :mod:`bounds`.

Every check raises :class:`~bounds.errors.ParameterError` (a :class:`ValueError`; :class:`TypeError` for
non-numeric input) whose message names the parameter, shows the offending value and states the valid range. Nothing
is clipped: a value outside its domain is an error, never silently moved inside it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .domains import Domain, domain
from .errors import ParameterError


def _show(x: np.ndarray) -> str:
    """A short rendering of the first offending value(s)."""
    flat = np.asarray(x).ravel()
    one = complex if np.iscomplexobj(flat) else float  # float() of a complex value warns and drops its imaginary part
    if flat.size == 1:
        return repr(one(flat[0]))
    head = ", ".join(repr(one(v)) for v in flat[:3])
    more = f", ... ({flat.size} values)" if flat.size > 3 else ""
    return f"[{head}{more}]"


def as_real(name: str, x: object, *, allow_inf: bool = False) -> np.ndarray:
    """Convert ``x`` to a float64 array; reject non-numeric, complex, NaN and (unless allowed) infinite values."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a real number or array of real numbers, got {type(x).__name__} {x!r}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds here
        raise TypeError(f"{name} must be a real number or array of real numbers, got {x!r}") from exc
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex value {_show(arr)}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real number or array of real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # a non-finite sum only sends us to the element-wise scan
        total = np.add.reduce(arr, axis=None) if arr.size else 0.0
    if not np.isfinite(total):
        bad_nan = np.isnan(arr)
        if bad_nan.any():
            raise ParameterError(f"{name} must not be NaN, got {_show(arr[bad_nan])}")
        if not allow_inf:
            bad = ~np.isfinite(arr)
            if bad.any():
                raise ParameterError(f"{name} must be finite, got {_show(arr[bad])}")
    return arr


def check_domain(name: str, arr: np.ndarray, dom: Domain) -> np.ndarray:
    """Require ``arr`` element-wise in the interval of ``dom`` (ends open or closed; ``±inf``: one-sided)."""
    if dom.lo == -np.inf and dom.hi == np.inf:  # as_real already refused NaN and ±inf
        return arr
    if arr.size and dom.contains(arr.min()) and dom.contains(arr.max()):  # fast path: two reductions, no temporaries
        return arr
    bad = ~dom.contains(arr)
    if bad.any():
        kind, interval = _interval(dom)
        raise ParameterError(f"{name} must lie in the {kind} interval {interval}, got {_show(arr[bad])}")
    return arr


def _interval(dom: Domain) -> tuple[str, str]:
    """``("half-open", "(0.0, 1.0]")``: the kind and the text of the interval of ``dom``."""
    # an infinite end is shown like the other one ([0.0, inf], (0.0, inf)): only finite values are checked against it
    lo_open = dom.lo_open if dom.lo > -np.inf else dom.hi_open
    hi_open = dom.hi_open if dom.hi < np.inf else lo_open
    kind = {(True, True): "open", (False, False): "closed"}.get((lo_open, hi_open), "half-open")
    return kind, f"{'(' if lo_open else '['}{_fmt(dom.lo)}, {_fmt(dom.hi)}{')' if hi_open else ']'}"


def check_open(name: str, arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Require ``lo < arr < hi`` element-wise (use ``±inf`` for a one-sided interval)."""
    return check_domain(name, arr, Domain(lo, hi, True, True))


def check_closed(name: str, arr: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Require ``lo <= arr <= hi`` element-wise (use ``±inf`` for a one-sided interval)."""
    return check_domain(name, arr, Domain(lo, hi))


def args(call: str, /, *, broadcast: bool = True, scalar: bool = False, **values: object) -> tuple:
    """Validate the arguments ``values`` of public function ``call`` against their domains
    (:func:`bounds.domains.domain`) and that the real ones broadcast together (unless ``broadcast=False``, for a
    function with its own shape rules).

    Returns the float64 arrays (``int`` for an integer parameter) in the order given; with ``scalar=True`` every real
    argument must be a scalar and is returned as a Python ``float``.
    """
    out = []
    for name, x in values.items():
        dom = domain(name, call)
        out.append(check_integer(name, x, int(dom.lo)) if dom.integer else check_domain(name, as_real(name, x), dom))
        if scalar and not dom.integer:
            if out[-1].ndim:
                raise ParameterError(f"{name} must be a scalar in {_interval(dom)[1]}, got shape {out[-1].shape}")
            out[-1] = float(out[-1])
    if broadcast and not scalar and sum(isinstance(a, np.ndarray) and a.ndim > 0 for a in out) > 1:
        broadcast_shape({n: a for n, a in zip(values, out, strict=True) if isinstance(a, np.ndarray)})
    return tuple(out)


def check_integer(name: str, x: object, lo: int) -> int:
    """A Python/numpy integer (bools rejected) with ``x >= lo``."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {lo}, got {type(x).__name__} {x!r}")
    if x < lo:
        raise ParameterError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def check_index(name: str, x: object, size: int) -> np.ndarray:
    """Integer token index (or integer array of indices) in ``[0, size - 1]``; bools rejected."""
    idx = np.asarray(x)
    if isinstance(x, bool) or idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer token index in [0, {size - 1}] (or an int array), got {x!r}")
    if ((idx < 0) | (idx >= size)).any():
        raise ParameterError(f"{name} must be a token index in [0, {size - 1}], got {x!r}")
    return idx.astype(np.intp)


def answer_index(answer: object, shape: tuple[int, ...]) -> np.ndarray:
    """The index of the correct token ``a*`` on the last axis of an array of ``shape`` (an int, or an int array over
    the batch ``shape[:-1]``), checked and broadcast to the batch."""
    return broadcast_index("answer", check_index("answer", answer, shape[-1]), shape[:-1])


def first(x: np.ndarray) -> float:
    """The first value of ``x``, for an error message."""
    return float(np.ravel(x)[0])


def _fmt(v: float) -> str:
    if v == np.inf:
        return "inf"
    if v == -np.inf:
        return "-inf"
    return repr(float(v))  # not numpy's repr ("np.float64(0.99...)")


def broadcast_shape(arrays: Mapping[str, np.ndarray]) -> tuple[int, ...]:
    """The broadcast shape of named arrays (no copies); the error names every parameter with its shape."""
    try:
        return np.broadcast_shapes(*(np.shape(v) for v in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ParameterError(f"parameters do not broadcast together: {shapes}") from exc


def check_vocabulary_axis(name: str, arr: np.ndarray, V: int) -> None:
    """``arr``'s last axis runs over the ``V`` tokens of ``p`` (or has length 1: one value for every token).

    Broadcasting alone would also stretch a one-token ``p`` over a longer ``arr``, which is not a distribution.
    """
    if arr.ndim and arr.shape[-1] not in (1, V):
        raise ParameterError(
            f"{name} must have a last axis of length {V} (the vocabulary of p) or 1, got shape {arr.shape}"
        )


def broadcast_index(name: str, idx: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(idx, shape)`` for a token index over a batch, with an error naming the parameter."""
    try:
        return np.broadcast_to(idx, shape)
    except ValueError as exc:
        raise ParameterError(
            f"{name} must be one index or an array of indices broadcastable to the batch shape {shape}, got shape "
            f"{np.shape(idx)}"
        ) from exc


def finish(out: np.ndarray) -> float | np.ndarray:
    """Scalars in, scalar (Python ``float``) out; arrays stay arrays."""
    out = np.asarray(out)
    if out.ndim == 0:
        return float(out)
    return out


def check_probability_vector(name: str, p: object, *, atol: float = 1e-8) -> np.ndarray:
    """``p`` with a last axis that is a probability distribution: finite, ``>= 0``, summing to 1 within ``atol``
    (absolute); ``p`` is never renormalised."""
    arr = as_real(name, p)
    if arr.ndim == 0:
        raise ParameterError(
            f"{name} must have a last axis over the vocabulary (ndim >= 1), got a scalar {float(arr)!r}"
        )
    if arr.shape[-1] == 0:
        raise ParameterError(f"{name} must have at least one token on its last axis, got shape {arr.shape}")
    neg = arr < 0
    if neg.any():
        raise ParameterError(f"{name} must be a probability distribution: entries in [0, 1], got {_show(arr[neg])}")
    total = arr.sum(axis=-1)
    off = np.abs(total - 1.0) > atol
    if off.any():
        raise ParameterError(
            f"{name} must be a probability distribution: entries summing to 1 (within {atol:g}) along its last "
            f"axis, got sums {_show(total[off])}"
        )
    return arr


#: smallest positive normal float64 (below it a denominator has lost precision or underflowed)
_TINY = np.finfo(np.float64).tiny
_HUGE = np.finfo(np.float64).max


def product(*factors: np.ndarray) -> np.ndarray:
    r"""The product of finite factors without spurious overflow, underflow or NaN.

    The plain left-to-right product ``f1 * f2 * ...`` where it is a normal float64; elsewhere ``sign * exp(sum
    log|f_i|)`` (``1e200 * 1e200 * 1e-300`` is ``1e100``, ``1e200 * 1e200 * 0`` is 0, not ``inf`` or NaN). ``±inf`` only
    where the true product exceeds the float64 range.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        out = np.asarray(factors[0], dtype=np.float64)
        for f in factors[1:]:
            out = out * f
    out = np.asarray(out)
    bad = ~(np.abs(out) >= _TINY) | np.isinf(out)  # NaN, 0, subnormal or inf: recomputed (only those elements)
    if bad.any():
        fs = [np.broadcast_to(np.asarray(f, dtype=np.float64), out.shape)[bad] for f in factors]
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            log_abs = np.sum([np.log(np.abs(f)) for f in fs], axis=0)
            alt = np.prod([np.sign(f) for f in fs], axis=0) * np.exp(log_abs)
        alt[np.any([f == 0 for f in fs], axis=0)] = 0.0
        out = out.copy()
        out[bad] = alt
    return out


def divide_by_product(num: np.ndarray, *dens: np.ndarray) -> np.ndarray:
    r"""``num / (d_1 d_2 ...)`` for positive finite denominators, in log space where plain division would mislead.

    ``num / d_1 / d_2`` where the denominators' product is a normal float64 and the quotient finite; elsewhere
    ``sign(num) exp(log|num| - sum_i log d_i)`` (``1 / 1e-310 / 1e300`` is ``1e10``, not ``inf``). ``±inf`` only where
    the true quotient exceeds the float64 range (or ``num`` is infinite).
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=np.float64)
        den = np.asarray(1.0)
        for d in dens:
            out = out / d
            den = den * d
    irregular = ~np.isfinite(out) | (den < _TINY) | (den > _HUGE)
    if irregular.any():
        with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
            log_den = sum(np.log(d) for d in dens)
            alt = np.sign(num) * np.exp(np.log(np.abs(num)) - log_den)
        out = np.where(irregular, np.where(num == 0, 0.0, alt), out)
    return out
