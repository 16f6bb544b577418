"""Hypothesis fuzzing of every public function of :mod:`bounds` (issue 7, "Bad input").

Every callable in ``bounds.__all__`` is either fuzzed here (a key of :data:`CASES`) or listed in :data:`NOT_FUZZED`
with the reason (classes and registry look-ups); :func:`test_every_public_callable_is_fuzzed` fails when a new public
function is neither, so none can escape.

Each case draws calls over the whole real line: edge values (0, -0, ±5e-324, ±1e-300, 1 ± ulp, the domain boundaries
and the 1e-8 mass tolerances, ±1e300, ±1.8e308), NaN, ±inf, wrong types (strings, bytes, None, complex, objects,
dicts, ragged lists, datetimes, integers beyond float64) and arrays of mismatched shapes. Half of the calls are inside
the documented domain (read from each docstring, jointly constrained parameters drawn together); the other half draw
one parameter from anywhere. An oracle written from the docstrings, independent of the implementation, classifies
every call:

* **valid**: the call returns finite values (never NaN or inf) of the documented type and broadcast shape, in the
  documented range (behavior expectations and alignment bounds in [-1, 1], probabilities and helpfulness bounds in
  [0, 1], thresholds in [0, 1.8e308], ...);
* **invalid**: the call raises ``ValueError`` or ``TypeError`` (``TypeError`` only for a non-numeric value) whose
  message names one of the offending parameters and, for a value outside its interval, states the valid range;
* **beyond float64**: where a result exceeds the float64 range the function documents a ``ValueError``; the oracle
  decides that in extended precision (``np.longdouble``), and a thin band (relative 1e-9) at the boundary, like the
  1e-8 mass tolerances' own boundaries, accepts both outcomes.

The documented non-finite values are the only exceptions: ``soft_margin_range`` is ``inf`` exactly where ``rho = 0``
(no slack: every λ qualifies) and the assumption predicates' *diagnostics* may be NaN/inf where documented (``alpha``
is NaN when no linear range exists, a margin is ``inf`` when a set is empty, ...); their verdicts are always booleans.

Counts: 200 examples per function in the default suite (x10 with ``HYPOTHESIS_PROFILE=dev``) and 10^4 in the
``slow`` class, run with one command: ``pytest -m slow tests/bounds/test_fuzz_bounds.py``.
"""

from __future__ import annotations

import inspect
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import bounds
from bounds import ResponseTree
from bounds.domains import CALLS, MASS_ATOL, POSITIVE_MASS, Domain, domain, domains
from tests._hyp import many

MAX = float(np.finfo(np.float64).max)
LD = np.longdouble
LD_MAX = LD(MAX)
NAN, INF = float("nan"), float("inf")
MASS_TOL = MASS_ATOL  # the tolerance of a probability vector's sum and of masses
BAND = 1e-9  # relative width of the "either outcome" band at a float64-overflow boundary

DEFAULT_EXAMPLES = 200
SLOW_EXAMPLES = int(os.environ.get("FUZZ_SLOW_EXAMPLES", "10000"))  # the issue asks for >= 10^4

# ---------------------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------------------
SPECIAL = (
    0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308, 1e-300, -1e-300, 1e-16, -1e-16,
    1e-8, -1e-8, 0.5, -0.5, 1 - 2**-53, -(1 - 2**-53), 1.0, -1.0, 1 + 2**-52, -(1 + 2**-52), 1 + 1e-8, 1 + 2e-8, 2.0,
    -2.0, 3.0, 1e8, 1e154, 2e154, 1e200, -1e200, 1e300, -1e300, MAX, -MAX,
)  # fmt: skip
NONFINITE = (NAN, INF, -INF)


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque object>"


WRONG_TYPES = (
    "0.5", b"1", None, 1 + 1j, np.complex128(1j), _Opaque(), {"x": 1.0}, [1.0, "a"], [[1.0, 2.0], [3.0]],
    np.datetime64("2020-01-01"), 10**400, (1.0, None), np.array(["a", "b"]),
)  # fmt: skip

FLOATS_ANY = st.one_of(st.sampled_from(SPECIAL + NONFINITE), st.floats(), st.floats(-10.0, 10.0))


def _array(draw: Callable, elements: st.SearchStrategy, shape: tuple[int, ...]) -> np.ndarray:
    n = math.prod(shape)
    return np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64).reshape(shape)


@st.composite
def wild_values(draw: Callable) -> object:
    """A value from anywhere: any float (NaN and ±inf included), small ints, bools, wrong types, odd arrays."""
    kind = draw(st.sampled_from(["float", "float", "int", "wrong", "array"]))
    if kind == "float":
        return draw(FLOATS_ANY)
    if kind == "int":
        return draw(st.one_of(st.integers(-3, 3), st.booleans()))
    if kind == "wrong":
        return draw(st.sampled_from(WRONG_TYPES))
    shape = draw(st.sampled_from([(1,), (3,), (2, 3), (4,), (0,), (2, 1)]))
    return _array(draw, FLOATS_ANY, shape)


WILD_INTS = st.one_of(
    st.integers(-5, 5),
    st.sampled_from([0, -1, 10**400, 2**63, True, False, 1.0, 2.5, "2", None, np.int64(3), np.uint8(0), np.array(2)]),
)


# ---------------------------------------------------------------------------------------------------------------------
# Domains and the per-parameter oracle
# ---------------------------------------------------------------------------------------------------------------------
def valid_floats(dom: Domain) -> st.SearchStrategy:
    """Valid scalars of a real domain: the special values inside it, any float inside it, and small ones."""
    inside = [x for x in SPECIAL if dom.contains(np.float64(x))]
    lo, hi = max(dom.lo, -MAX), min(dom.hi, MAX)
    strategies = [st.sampled_from(inside)] if inside else []
    strategies.append(
        st.floats(lo, hi, exclude_min=dom.lo_open, exclude_max=dom.hi_open, allow_nan=False, allow_infinity=False)
    )
    slo, shi = max(lo, -10.0), min(hi, 10.0)
    if slo < shi:
        strategies.append(
            st.floats(slo, shi, exclude_min=dom.lo_open and slo == lo, exclude_max=dom.hi_open and shi == hi)
        )
    return st.one_of(strategies)


def valid_ints(dom: Domain) -> st.SearchStrategy[int]:
    """Valid values of an integer domain ``>= lo`` (Python or numpy integers; bools are not integers here)."""
    lo = int(dom.lo)
    return st.one_of(
        st.integers(lo, lo + 5),
        st.integers(lo, 10**30),
        st.sampled_from([lo, 2**53 + 1, 2**63 - 1, 10**400]),
        st.integers(lo, 100).map(np.int64),
    )


def valid(dom: Domain) -> st.SearchStrategy:
    return valid_ints(dom) if dom.integer else valid_floats(dom)


# the test's own names for domains of the table
REAL = Domain()
NONNEG = domain("norm")
UNIT = domain("gamma")
SIGNED_UNIT = domain("b")
P0 = domain("p0")


def real_kind(v: object, dom: Domain, min_ndim: int = 0) -> str | None:
    """``None`` when ``v`` is a valid value (scalar or array) of ``dom``, else the kind of problem (``min_ndim``: the
    number of axes it must have, e.g. 1 for a parameter with a step axis, checked after the range)."""
    if isinstance(v, (str, bytes)) or v is None:
        return "type"
    try:
        arr = np.asarray(v)
    except Exception:
        return "type"
    if arr.dtype.kind not in "biuf":
        return "type"
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        return "nan"
    if np.isinf(arr).any():
        return "inf"
    if not dom.contains(arr).all():
        return "range"
    if arr.ndim < min_ndim:
        return "shape"
    return None


def int_kind(v: object, dom: Domain) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        return "type"
    return "range" if v < dom.lo else None


def kind_of(v: object, dom: Domain, min_ndim: int = 0) -> str | None:
    return int_kind(v, dom) if dom.integer else real_kind(v, dom, min_ndim)


def classify(**inputs: tuple[object, Domain | Callable[[object], str | None]]) -> tuple[dict[str, str], set[str]]:
    """The oracle's verdict on each parameter, ``name=(value, domain or kind function)``: ``(errors, either)``, the
    kind of problem of each invalid one and the names at a tolerance band (kind ``"band"``: either outcome)."""
    errors: dict[str, str] = {}
    either: set[str] = set()
    for name, (value, how) in inputs.items():
        k = kind_of(value, how) if isinstance(how, Domain) else how(value)
        if k == "band":
            either.add(name)
        elif k:
            errors[name] = k
    return errors, either


def prob_kind(v: object) -> str | None:
    """A probability vector on the last axis: finite, >= 0, summing to 1 within 1e-8 (``"band"``: at the edge)."""
    k = real_kind(v, REAL)
    if k:
        return k
    arr = np.asarray(v, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        return "shape"
    if (arr < 0).any():
        return "range"
    off = np.abs(arr.astype(LD).sum(axis=-1) - 1)
    if (off > MASS_TOL * (1 + 1e-6)).any():
        return "value"
    if (off > MASS_TOL * (1 - 1e-6)).any():
        return "band"
    return None


def index_kind(v: object, size: int) -> str | None:
    """A token index (int or int array) in ``[0, size - 1]``."""
    if isinstance(v, bool):
        return "type"
    try:
        idx = np.asarray(v)
    except Exception:
        return "type"
    if idx.dtype.kind not in "iu":
        return "type"
    return "range" if ((idx < 0) | (idx >= size)).any() else None


# ---------------------------------------------------------------------------------------------------------------------
# A call and its expected outcome
# ---------------------------------------------------------------------------------------------------------------------
_BOUND = r"(?:\w+\s*=\s*)?-?(?:inf|[\d.]+(?:e[-+]?\d+)?)"  # a number, possibly named ("V = 5")
RANGE_RE = re.compile(rf"[\[(]\s*{_BOUND}\s*,\s*{_BOUND}\s*[\])]|[<>]=?|[≤≥]")


def _named(message: str, names: set[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


@dataclass
class Call:
    """One generated call with the oracle's verdict.

    ``errors``: parameter name -> kind of problem (``type``, ``nan``, ``inf``, ``range``, ``shape``, ``value``,
    ``overflow``): the call must raise. ``either``: names for which the oracle is at a boundary band: raising (naming
    one of them) or returning are both accepted. ``check``: the output properties of a valid call.
    """

    fn: Callable
    kwargs: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    either: set[str] = field(default_factory=set)
    check: Callable[[Any], None] | None = None
    positional: bool = False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.fn.__name__}({args})  # expect errors={self.errors} either={self.either}"

    def run(self) -> None:
        note(repr(self))
        try:
            out = self.fn(*self.kwargs.values()) if self.positional else self.fn(**self.kwargs)
        except (ValueError, TypeError) as exc:
            msg = str(exc)
            if not self.errors and not self.either:
                raise AssertionError(f"valid input rejected: {type(exc).__name__}: {msg}") from exc
            names = set(self.errors) | self.either
            assert _named(msg, names), f"the message does not name any of {sorted(names)}: {msg!r}"
            if isinstance(exc, TypeError):
                assert "type" in self.errors.values(), f"TypeError for a numeric value: {msg!r}"
            elif self.errors and set(self.errors.values()) == {"range"}:
                assert RANGE_RE.search(msg), f"a range error that does not state the valid range: {msg!r}"
            return
        assert not self.errors, f"invalid input accepted ({self.errors}); returned {out!r}"
        if self.check is not None:
            self.check(out)


def _broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def check_numeric(out: object, shape: tuple[int, ...], lo: float, hi: float, *, finite: np.ndarray | None = None):
    """``out`` is a Python float for a scalar result, else a float64 array of ``shape``; finite and in [lo, hi]."""
    if shape == ():
        assert type(out) is float, f"scalar inputs must give a Python float, got {type(out).__name__}"
    else:
        assert isinstance(out, np.ndarray) and out.shape == shape, f"expected an array of shape {shape}, got {out!r}"
    arr = np.asarray(out, dtype=np.float64)
    must = np.ones(arr.shape, bool) if finite is None else np.broadcast_to(finite, arr.shape)
    assert np.isfinite(arr[must]).all(), f"NaN or inf for valid input: {out!r}"
    fin = np.isfinite(arr)
    assert ((arr[fin] >= lo) & (arr[fin] <= hi)).all(), f"outside the documented range [{lo}, {hi}]: {out!r}"


# ---------------------------------------------------------------------------------------------------------------------
# Scalar-parameter functions: one generic generator + oracle, with joint constraints per function
# ---------------------------------------------------------------------------------------------------------------------
Verdict = tuple[str, set[str]]  # ("error" | "either", names)


def _overflow(value: np.ndarray, names: set[str]) -> Verdict | None:
    """``value`` (longdouble, the exact result) beyond float64: an error, within the band of the boundary: either."""
    v = np.abs(np.asarray(value, dtype=LD))
    if (v > LD_MAX * (1 + BAND)).any():
        return ("error", names)
    if (v > LD_MAX * (1 - BAND)).any():
        return ("either", names)
    return None


def _mass_excess(excess: np.ndarray, names: set[str], tol: float = MASS_TOL) -> Verdict | None:
    """A joint mass constraint ``excess <= tol`` (longdouble), with a band at the tolerance."""
    e = np.asarray(excess, dtype=LD)
    if (e > tol + 1e-15).any():
        return ("error", names)
    if (e > tol - 1e-15).any():
        return ("either", names)
    return None


@dataclass
class Spec:
    """A function of scalar (broadcasting) parameters, with the domains of :mod:`bounds.domains` (``params``, in
    signature order).

    ``min_ndim`` is the number of axes a parameter must have (e.g. 1 for a step axis); ``coupled(draw, shape)``
    draws jointly valid values of constrained parameters (same shape); ``joint(v)`` checks joint constraints and
    documented overflow on the broadcast float64 arrays; ``finite(v)`` is where the result must be finite (default:
    everywhere); ``shapes`` overrides the shapes drawn for a parameter; ``shape_of`` computes the output shape
    (default: the broadcast of all real parameters; ``None`` when they do not broadcast).
    """

    fn: Callable
    out: tuple[float, float]
    min_ndim: dict[str, int] = field(default_factory=dict)
    params: dict[str, Domain] = field(init=False)
    coupled: Callable | None = None
    joint: Callable[[dict[str, np.ndarray]], Verdict | None] | None = None
    finite: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    shapes: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)
    shape_of: Callable[[dict[str, tuple[int, ...]]], tuple[int, ...] | None] | None = None
    extra_check: Callable[[Any, dict[str, np.ndarray]], None] | None = None

    def __post_init__(self) -> None:
        self.params = {n: domain(n, self.fn.__name__) for n in inspect.signature(self.fn).parameters}


def _valid_value(draw: Callable, dom: Domain, shape: tuple[int, ...]) -> object:
    if dom.integer:
        return draw(valid(dom))
    if shape == ():
        x = draw(valid(dom))
        return x if draw(st.booleans()) else np.float64(x)
    return _array(draw, valid(dom), shape)


@st.composite
def generic_calls(draw: Callable, spec: Spec) -> Call:
    names = list(spec.params)
    corrupt = draw(st.sampled_from([None] * len(names) + names))
    base = draw(st.sampled_from([(), (), (3,), (2, 3), (0,)]))

    def shape_for(name: str) -> tuple[int, ...]:
        if name in spec.shapes:
            return draw(st.sampled_from(spec.shapes[name]))
        if base == ():
            return ()
        return draw(st.sampled_from([(), base, base, (1,) * len(base), (4,)]))

    values: dict[str, object] = {}
    if spec.coupled is not None:
        group = spec.coupled(draw, shape_for(next(iter(spec.params))))
        values.update(group)
    for name, dom in spec.params.items():
        if name not in values:
            values[name] = _valid_value(draw, dom, () if dom.integer else shape_for(name))
    if corrupt is not None:
        dom = spec.params[corrupt]
        values[corrupt] = draw(WILD_INTS if dom.integer else wild_values())
    values = {n: values[n] for n in names}  # signature order, for positional calls
    call = Call(spec.fn, values, positional=draw(st.booleans()))
    _judge(spec, call)
    return call


def _judge(spec: Spec, call: Call) -> None:
    v = call.kwargs
    for name, dom in spec.params.items():
        k = kind_of(v[name], dom, spec.min_ndim.get(name, 0))
        if k:
            call.errors[name] = k
    if "type" in call.errors.values():
        return
    real = [n for n, d in spec.params.items() if not d.integer]
    shapes = {n: np.shape(np.asarray(v[n], dtype=np.float64)) for n in real}
    shape = spec.shape_of(shapes) if spec.shape_of else _broadcast(list(shapes.values()))
    if shape is None:
        call.errors.update({n: "shape" for n in real})
        return
    if call.errors:
        return
    # joint checks get the arrays as given (not broadcast to the output): a joint constraint binds the parameters it
    # involves whatever the others' shapes (an empty alpha does not excuse masses that do not sum to 1)
    arrays = {n: np.asarray(v[n], dtype=np.float64) for n in real}
    arrays.update({n: v[n] for n, d in spec.params.items() if d.integer})
    verdict = spec.joint(arrays) if spec.joint else None
    if verdict is not None:
        kind, names = verdict
        if kind == "error":
            call.errors.update({n: "value" for n in names})
            return
        call.either |= names
    lo, hi = spec.out

    def check(out: object) -> None:
        fin = spec.finite(arrays) if spec.finite else None
        check_numeric(out, shape, lo, hi, finite=fin)
        if spec.extra_check:
            spec.extra_check(out, arrays)

    call.check = check


# -- joint constraints and couplings of the individual functions ------------------------------------------------------
def _unit(draw: Callable, shape: tuple[int, ...]) -> np.ndarray:
    return _array(draw, st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1e-300]), st.floats(0.0, 1.0)), shape)


def _masses(draw: Callable, shape: tuple[int, ...], dom: Domain = POSITIVE_MASS) -> np.ndarray:
    return _array(draw, st.one_of(st.sampled_from([1.0, 1.0 + MASS_TOL, 5e-324, 1e-300, 0.5]), valid(dom)), shape)


def _p0s(draw: Callable, shape: tuple[int, ...]) -> np.ndarray:
    return _array(draw, valid(P0), shape)


def _ld(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).astype(LD)


def _coupled_trinary(draw: Callable, shape: tuple[int, ...]) -> dict:
    pp = _masses(draw, shape)
    return {"B0": pp - _unit(draw, shape) * np.maximum(1.0 - pp, 0.0), "P_plus": pp}


def _joint_trinary(v: dict) -> Verdict | None:
    pp, b0 = _ld(v["P_plus"]), _ld(v["B0"])
    # 2 P+ - 1 <= B0 <= P+ within 1e-8 (P- = P+ - B0 and P0 = 1 - P+ - P- are masses)
    return _mass_excess(np.maximum(b0 - pp, (2 * pp - 1) - b0), {"B0", "P_plus"})


def _coupled_graded(draw: Callable, shape: tuple[int, ...]) -> dict:
    pg = _p0s(draw, shape)
    jitter = _array(draw, st.sampled_from([0.0, 0.0, 5e-9, -5e-9]), shape)
    return {"P_ge": pg, "P_lt": np.clip(1.0 - pg + jitter, 0.0, None)}


def _joint_graded(v: dict) -> Verdict | None:
    return _mass_excess(np.abs(_ld(v["P_ge"]) + _ld(v["P_lt"]) - 1), {"P_ge", "P_lt"})


def _coupled_jensen(draw: Callable, shape: tuple[int, ...]) -> dict:
    p0 = _p0s(draw, shape)
    pp = _unit(draw, shape) * (1.0 - p0)
    return {"p0": p0, "P_plus": pp, "P_minus": _unit(draw, shape) * np.maximum(1.0 - p0 - pp, 0.0)}


def _joint_jensen(v: dict) -> Verdict | None:
    return _mass_excess(_ld(v["p0"]) + _ld(v["P_plus"]) + _ld(v["P_minus"]) - 1, {"p0", "P_plus", "P_minus"})


def _coupled_event(draw: Callable, shape: tuple[int, ...]) -> dict:
    p0 = _p0s(draw, shape)
    return {"p0": p0, "P_plus": _unit(draw, shape) * (1.0 - p0)}


def _joint_event(v: dict) -> Verdict | None:
    p, m, pp, xp = (_ld(v[k]) for k in ("p0", "one_minus_eps", "P_plus", "X_plus"))
    mass = _mass_excess(p + pp - 1, {"p0", "P_plus"})
    if mass:
        return mass
    return _overflow(p / (m + pp * xp * xp / 2), {"one_minus_eps", "p0"})


def _coupled_expectation(draw: Callable, shape: tuple[int, ...]) -> dict:
    p0 = _p0s(draw, shape)
    return {"p0": p0, "S2": _unit(draw, shape) * (1.0 - p0) ** 2}


def _expectation_overflow(p: np.ndarray, s2: np.ndarray, a: np.ndarray, s: np.ndarray, lm: np.ndarray) -> Verdict:
    curvature = p * (1.0 - p) - s2  # float64, as documented: p0 (1 - p0) - S2
    t2 = (_ld(a) * _ld(s) * _ld(lm)) ** 2
    value = _ld(p) - _ld(p) * t2 * _ld(curvature)
    live = curvature != 0  # zero curvature: E[H] = p0 exactly, whatever λ
    return _overflow(np.where(live, np.maximum(t2, np.abs(value)), 0), {"alpha", "sigma", "lam"})


def _joint_expectation(v: dict) -> Verdict | None:
    p, s2 = v["p0"], v["S2"]
    mass = _mass_excess(_ld(s2) - (1 - _ld(p)) ** 2, {"S2", "p0"}, tol=1e-12)
    if mass:
        return mass
    return _expectation_overflow(p, s2, v["alpha"], v["sigma"], v["lam"])


def _ratio_overflow(num: np.ndarray, a: np.ndarray, d: np.ndarray, names: set[str], *, clip0: bool) -> Verdict | None:
    """``num / (a d)`` (``max(0, .)`` if ``clip0``) beyond float64; numerators within rounding of 0 are ambiguous."""
    q = _ld(num) / (_ld(a) * _ld(d))
    if clip0:
        q = np.maximum(q, 0)
    verdict = _overflow(q, names)
    if verdict and (np.abs(num) < 1e-12).any():
        return ("either", names)
    return verdict


def _joint_guarantee(v: dict) -> Verdict | None:
    e, b0 = v["eps"], v["B0"]
    num = np.log(2.0 - e) - np.log(e) + np.log1p(-b0) - np.log1p(b0)  # ln((2-ε)(1-B0)/(ε(1+B0)))
    return _ratio_overflow(num, v["alpha"], v["delta"], {"alpha", "delta"}, clip0=True)


def _joint_soft_margin(v: dict) -> Verdict | None:
    """Documented: the slack (2ρ/P+) e^{αΔ_M λ} beyond float64 is an error naming lam."""
    r = _ld(v["rho"])
    with np.errstate(divide="ignore", over="ignore"):
        log_slack = np.log(4 * r) - np.log1p(_ld(v["B0"])) + _ld(v["alpha"]) * _ld(v["delta_M"]) * _ld(v["lam"])
        slack = np.where(r > 0, np.exp(log_slack), 0)
    return _overflow(slack, {"lam"})


def _joint_range(v: dict) -> Verdict | None:
    r = v["rho"]
    with np.errstate(divide="ignore"):
        num = np.log(v["eps"]) + np.log1p(v["B0"]) - np.log(4.0 * r)  # ln(ε P+ / (2ρ)), P+ = (1 + B0)/2
    live = r > 0
    return _ratio_overflow(np.where(live, num, 0.0), v["alpha"], v["delta_M"], {"alpha", "delta_M"}, clip0=False)


def _log_ell_minus(ell: int, e: np.ndarray) -> np.ndarray:
    return np.log(ell - e) if ell < 2**1000 else np.full(np.shape(e), math.log(ell))


def _joint_multitoken(v: dict) -> Verdict | None:
    b0, e = v["B0"], v["eps"]
    num = np.log1p(-b0) - np.log1p(b0) + _log_ell_minus(int(v["ell"]), e) - np.log(e)
    return _ratio_overflow(num, v["alpha"], v["delta"], {"alpha", "delta"}, clip0=True)


def _step_axis_shape(shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    """``helpfulness_upper_product``: steps on p0's last axis; alpha and lam broadcast with the batch."""
    if shapes["p0"] == ():
        return None
    full = _broadcast(
        [shapes["p0"], shapes["gamma"], shapes["beta"], shapes["sigma"], (*shapes["alpha"], 1), (*shapes["lam"], 1)]
    )
    return None if full is None else full[:-1]


def _step_b0_shape(shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...] | None:
    """``multitoken_threshold_corrected``: prefixes on step_B0's last axis (a scalar is one prefix)."""
    sb = shapes["step_B0"] or (1,)
    if sb[-1] == 0:
        return None
    return _broadcast([shapes["eps"], sb[:-1], shapes["alpha"], shapes["delta"]])


def _joint_corrected(v: dict) -> Verdict | None:
    b = np.asarray(v["step_B0"])
    if (b == -1).any():
        return ("error", {"step_B0"})
    e = v["eps"]
    with np.errstate(divide="ignore"):
        worst = np.max(np.log1p(-b) - np.log1p(b), axis=-1) if b.ndim else np.log1p(-b) - np.log1p(b)
    num = worst + _log_ell_minus(int(v["ell"]), e) - np.log(e)
    return _ratio_overflow(np.where(np.isneginf(num), 0.0, num), v["alpha"], v["delta"], {"alpha", "delta"}, clip0=True)


def _joint_kl_second_order(v: dict) -> Verdict | None:
    """Documented: ½ norm² var_z beyond float64 is an error naming norm (and var_z)."""
    n = _ld(v["norm"])
    return _overflow(n * n * _ld(v["var_z"]) / 2, {"norm", "var_z"})


def _joint_kl_upper(v: dict) -> Verdict | None:
    """Documented: (norm z_range)² / 8 beyond float64 is an error naming norm (and z_range)."""
    x = _ld(v["norm"]) * _ld(v["z_range"])
    return _overflow(x * x / 8, {"norm", "z_range"})


def _check_range_inf_where_rho_0(out: object, v: dict) -> None:
    arr = np.asarray(out)
    r = np.broadcast_to(v["rho"], arr.shape)
    assert (arr[r == 0] == np.inf).all(), "soft_margin_range must be inf exactly where rho = 0 (no slack)"


def _corrected_call_shapes() -> dict[str, list[tuple[int, ...]]]:
    return {"step_B0": [(), (1,), (3,), (2, 3), (0,)], "eps": [(), (2,)], "alpha": [(), (2,), (3,)], "delta": [()]}


def _corrected_joint_wrapper(v: dict) -> Verdict | None:
    return _joint_corrected(v)


def _upper_product_shapes() -> dict[str, list[tuple[int, ...]]]:
    return {
        "p0": [(1,), (3,), (2, 3), ()],
        "gamma": [(), (3,), (1,), (2, 3)],
        "beta": [(), (3,)],
        "sigma": [(), (3,)],
        "alpha": [(), (2,), (2, 1)],
        "lam": [(), (2,), (3,)],
    }


# The generic functions. Domains from bounds.domains (the docstrings state them); ranges the Returns and the statements.
SPECS: dict[str, Spec] = {
    "alignment_lower": Spec(
        bounds.alignment_lower,
        (-1.0, 1.0),
    ),
    "alignment_lower_norm": Spec(bounds.alignment_lower_norm, (-1.0, 1.0)),
    "alignment_guarantee": Spec(
        bounds.alignment_guarantee,
        (0.0, MAX),
        joint=_joint_guarantee,
    ),
    "soft_margin_lower": Spec(
        bounds.soft_margin_lower,
        (-MAX, 1.0),  # the formula: below -1 where vacuous (not clipped)
        joint=_joint_soft_margin,
    ),
    "soft_margin_range": Spec(
        bounds.soft_margin_range,
        (-MAX, INF),
        joint=_joint_range,
        finite=lambda v: v["rho"] > 0,
        extra_check=_check_range_inf_where_rho_0,
    ),
    "trinary_lower": Spec(
        bounds.trinary_lower,
        (-1.0 - 3 * MASS_TOL, 1.0 + 3 * MASS_TOL),
        coupled=_coupled_trinary,
        joint=_joint_trinary,
    ),
    "trinary_lower_corrected": Spec(
        bounds.trinary_lower_corrected,
        (-1.0 - 3 * MASS_TOL, 1.0 + 3 * MASS_TOL),
        coupled=_coupled_trinary,
        joint=_joint_trinary,
    ),
    "graded_lower": Spec(
        bounds.graded_lower,
        (-1.0, 1.0),
        coupled=_coupled_graded,
        joint=_joint_graded,
    ),
    "helpfulness_upper": Spec(
        bounds.helpfulness_upper,
        (0.0, 1.0),
    ),
    "helpfulness_upper_product": Spec(
        bounds.helpfulness_upper_product,
        (0.0, 1.0),
        min_ndim={"p0": 1},
        shapes=_upper_product_shapes(),
        shape_of=_step_axis_shape,
    ),
    "helpfulness_jensen": Spec(
        bounds.helpfulness_jensen,
        (0.0, 1.0),
        coupled=_coupled_jensen,
        joint=_joint_jensen,
    ),
    "helpfulness_event": Spec(
        bounds.helpfulness_event,
        (0.0, MAX),  # p0 / (1 - eps) may exceed 1: a vacuous but valid upper bound
        coupled=_coupled_event,
        joint=_joint_event,
    ),
    "helpfulness_expectation": Spec(
        bounds.helpfulness_expectation,
        (-MAX, MAX),  # an expansion, not a bound: it leaves [0, 1] for large λ
        coupled=_coupled_expectation,
        joint=_joint_expectation,
    ),
    "helpfulness_limit": Spec(bounds.helpfulness_limit, (0.0, 1.0)),
    "multitoken_threshold": Spec(
        bounds.multitoken_threshold,
        (0.0, MAX),
        joint=_joint_multitoken,
    ),
    "multitoken_threshold_corrected": Spec(
        bounds.multitoken_threshold_corrected,
        (0.0, MAX),
        joint=_corrected_joint_wrapper,
        shapes=_corrected_call_shapes(),
        shape_of=_step_b0_shape,
    ),
    "kl_second_order": Spec(bounds.kl_second_order, (0.0, MAX), joint=_joint_kl_second_order),
    "kl_upper": Spec(bounds.kl_upper, (0.0, MAX), joint=_joint_kl_upper),
}


# ---------------------------------------------------------------------------------------------------------------------
# Distribution-valued inputs
# ---------------------------------------------------------------------------------------------------------------------
WEIGHTS = st.one_of(
    st.just(0.0), st.floats(0.0, 1.0), st.sampled_from([1e-300, 5e-324, 1e-200, 1.0, 0.5]), st.floats(1e-300, 1e-100)
)
Z_VALUES = st.one_of(
    st.floats(-10.0, 10.0),
    st.sampled_from([0.0, 1e-300, -1e-300, 1e300, -1e300, MAX, -MAX, 1e154, 8e307, -8e307]),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def distributions(draw: Callable, shape: tuple[int, ...]) -> np.ndarray:
    """Valid distributions on the last axis: zeros, subnormal and tiny masses, one-hot rows, sums off by < 1e-8."""
    w = _array(draw, WEIGHTS, shape)
    if shape[-1] == 0:
        return w
    empty = w.sum(axis=-1, keepdims=True) == 0
    first = np.zeros(shape, bool)
    first[..., 0] = True
    w = np.where(empty & first, 1.0, w)
    p = w / w.sum(axis=-1, keepdims=True)
    return p * (1.0 + draw(st.sampled_from([0.0, 0.0, 0.0, 5e-9, -5e-9])))


@st.composite
def bad_distributions(draw: Callable, p: np.ndarray) -> object:
    """A mutation of ``p`` that is not a distribution (or a wild value)."""
    how = draw(st.sampled_from(["scale", "negative", "nan", "inf", "scalar", "empty", "wild"]))
    q = np.array(p, dtype=np.float64, copy=True)
    if how == "scale":
        return q * draw(st.sampled_from([0.0, 0.5, 1.0 + 1e-6, 2.0, 1e300, -1.0]))
    if how == "negative":
        q[..., 0] = -draw(st.sampled_from([5e-324, 1e-9, 0.5, 1.0]))
        return q
    if how in ("nan", "inf"):
        q[..., -1] = NAN if how == "nan" else INF
        return q
    if how == "scalar":
        return 1.0
    if how == "empty":
        return np.zeros((*q.shape[:-1], 0))
    return draw(wild_values())


def _tilt_overflow(p: np.ndarray, z: np.ndarray, norm: np.ndarray, names: set[str]) -> Verdict | None:
    """Documented: ``norm * |z_s - z_t|`` beyond float64 on a distribution's axis is an error."""
    zz = _ld(z)
    spread = zz.max(axis=-1) - zz.min(axis=-1)
    t = _ld(norm) * spread
    return _overflow(np.broadcast_to(t, np.broadcast_shapes(t.shape, np.shape(p)[:-1])), names)


@dataclass
class TiltInputs:
    p: object
    z: object
    norm: object
    errors: dict[str, str]
    either: set[str]
    batch: tuple[int, ...] | None  # broadcast batch shape of a valid call
    full: tuple[int, ...] | None


@st.composite
def tilt_inputs(draw: Callable, extra: tuple[str, ...] = ()) -> tuple[TiltInputs, str | None]:
    """``(p, z, norm)`` of the exact steered distribution, valid or with one of them (or of ``extra``) corrupted."""
    V = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p = draw(distributions((*batch, V)))
    z = _array(draw, Z_VALUES, draw(st.sampled_from([(V,), (*batch, V)])))
    norm = _valid_value(draw, NONNEG, draw(st.sampled_from([(), batch])))
    corrupt = draw(st.sampled_from([None, None, None, "p", "z", "norm", *extra]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(V + 1)), st.just(0.5)))
    elif corrupt == "norm":
        norm = draw(wild_values())
    errors, either = classify(p=(p, prob_kind), z=(z, REAL), norm=(norm, NONNEG))
    if "z" not in errors and np.ndim(z) == 0:
        errors["z"] = "shape"
    full = bshape = None
    typed = {n for n, k in errors.items() if k in ("type", "shape")}
    if not typed and np.ndim(p) >= 1 and np.ndim(z) >= 1:
        pa, za, na = (np.asarray(x, dtype=np.float64) for x in (p, z, norm))
        full = _broadcast([pa.shape, za.shape, (*na.shape, 1)])
        if za.shape[-1] not in (1, pa.shape[-1]):  # the vocabulary axis of p is not broadcast
            errors["z"] = "shape"
            full = None
        elif full is None:
            errors.update({"p": "shape", "z": "shape", "norm": "shape"})
        else:
            bshape = full[:-1]
            if not errors:
                verdict = _tilt_overflow(pa, np.broadcast_to(za, full), na, {"norm"})
                if verdict:
                    (errors.update({"norm": "overflow"}) if verdict[0] == "error" else either.add("norm"))
    return TiltInputs(p, z, norm, errors, either, bshape, full), corrupt


@st.composite
def steered_distribution_calls(draw: Callable) -> Call:
    t, _ = draw(tilt_inputs())
    call = Call(bounds.steered_distribution, {"p": t.p, "z": t.z, "norm": t.norm}, t.errors, t.either)

    def check(out: object) -> None:
        assert isinstance(out, np.ndarray) and out.shape == t.full, f"shape {t.full} expected, got {out!r}"
        assert np.isfinite(out).all() and ((out >= 0) & (out <= 1)).all(), f"not probabilities: {out!r}"
        assert np.allclose(out.sum(axis=-1), 1.0, rtol=0, atol=1e-9), f"does not sum to 1: {out!r}"
        assert (out[np.broadcast_to(np.asarray(t.p) == 0, out.shape)] == 0).all(), "mass created on p = 0"

    call.check = check
    call.positional = draw(st.booleans())
    return call


@st.composite
def behavior_expectation_calls(draw: Callable) -> Call:
    t, corrupt = draw(tilt_inputs(extra=("scores",)))
    try:
        V = np.shape(t.p)[-1] if np.ndim(t.p) else 1
    except ValueError:  # a corrupted, ragged p has no shape: any vocabulary size will do for the scores
        V = 1
    scores = _array(draw, valid(SIGNED_UNIT), draw(st.sampled_from([(max(V, 1),), ()])))
    if corrupt == "scores":
        scores = draw(wild_values())
    errors, either = dict(t.errors), set(t.either)
    k = real_kind(scores, SIGNED_UNIT)
    shape = None
    if k:
        errors["scores"] = k
    elif t.full is not None:
        shape = _broadcast([t.full, np.shape(scores)])
        if shape is None or (np.ndim(scores) and np.shape(scores)[-1] not in (1, t.full[-1])):
            errors["scores"] = "shape"
    call = Call(bounds.behavior_expectation, {"p": t.p, "z": t.z, "norm": t.norm, "scores": scores}, errors, either)
    call.check = lambda out: check_numeric(out, shape[:-1], -1 - 1e-9, 1 + 1e-9)
    return call


@st.composite
def steered_helpfulness_calls(draw: Callable) -> Call:
    t, corrupt = draw(tilt_inputs(extra=("answer",)))
    V = np.shape(t.p)[-1] if np.ndim(t.p) else 1
    answer: object = draw(st.integers(0, max(V - 1, 0)))
    if t.batch and draw(st.booleans()):
        answer = np.array(draw(st.lists(st.integers(0, max(V - 1, 0)), min_size=2, max_size=2)))
    if corrupt == "answer":
        answer = draw(st.one_of(WILD_INTS, st.sampled_from([V, -1, np.array([0, 0, 0]), np.array([V])])))
    errors, either = dict(t.errors), set(t.either)
    if not errors:  # answer is checked after the steered distribution
        k = index_kind(answer, V)
        if k:
            errors["answer"] = k
        elif _broadcast([np.shape(answer), t.batch]) != t.batch:
            errors["answer"] = "shape"
    call = Call(bounds.steered_helpfulness, {"p": t.p, "z": t.z, "norm": t.norm, "answer": answer}, errors, either)
    call.check = lambda out: check_numeric(out, t.batch, 0.0, 1.0 + 1e-9)
    return call


def _support_spread(p: object, z: object, full: tuple[int, ...]) -> np.ndarray:
    """``max - min`` of ``z`` over the tokens with ``p > 0`` on the last axis (longdouble, broadcast to ``full``)."""
    pa = np.broadcast_to(np.asarray(p, dtype=np.float64), full)
    zz = np.broadcast_to(_ld(z), full)
    hi = np.max(np.where(pa > 0, zz, LD(-np.inf)), axis=-1)
    lo = np.min(np.where(pa > 0, zz, LD(np.inf)), axis=-1)
    return np.where(np.isfinite(hi), hi - lo, LD(0))


@st.composite
def kl_divergence_calls(draw: Callable) -> Call:
    """``kl_divergence``: the steered distribution's inputs, with the overflow documented over the supported tokens
    only (a massless token may lie anywhere); the KL is finite, >= 0 and at most -log of the smallest mass (745)."""
    t, _ = draw(tilt_inputs())
    errors, either = dict(t.errors), set(t.either)
    if errors.get("norm") == "overflow":
        del errors["norm"]
    either.discard("norm")
    if not errors and t.full is not None:
        spread = _support_spread(t.p, t.z, t.full)
        verdict = _overflow(_ld(t.norm) * spread, {"norm"})
        if verdict:
            (errors.update({"norm": "overflow"}) if verdict[0] == "error" else either.add("norm"))
    call = Call(bounds.kl_divergence, {"p": t.p, "z": t.z, "norm": t.norm}, errors, either)
    call.check = lambda out: check_numeric(out, t.batch, 0.0, 750.0)
    call.positional = draw(st.booleans())
    return call


@st.composite
def projection_spread_calls(draw: Callable) -> Call:
    """``projection_spread``: a distribution and projections; a variance or range beyond float64 names z."""
    V = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p: object = draw(distributions((*batch, V)))
    z: object = _array(draw, Z_VALUES, draw(st.sampled_from([(V,), (*batch, V)])))
    corrupt = draw(st.sampled_from([None, None, "p", "z"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(V + 1)), st.just(0.5)))
    errors, either = classify(p=(p, prob_kind), z=(z, REAL))
    shape = None
    if not {k for k in errors.values() if k in ("type", "shape")} and "z" not in errors and "p" not in errors:
        if np.ndim(z) == 0 or np.ndim(p) == 0:
            errors["z"] = "shape"
        elif np.shape(z)[-1] not in (1, np.shape(p)[-1]) or _broadcast([np.shape(p), np.shape(z)]) is None:
            errors["z"] = "shape"
        else:
            shape = _broadcast([np.shape(p), np.shape(z)])
            pa = np.broadcast_to(np.asarray(p, dtype=np.float64), shape).astype(LD)
            zz = np.broadcast_to(_ld(z), shape)
            w = np.where(pa > 0, pa / pa.sum(axis=-1, keepdims=True), LD(0))
            zs = np.where(pa > 0, zz, LD(0))
            mean = np.sum(w * zs, axis=-1, keepdims=True)
            var = np.sum(w * (zs - mean) ** 2, axis=-1)
            verdict = _overflow(np.maximum(var, _support_spread(p, z, shape)), {"z"})
            if verdict:
                (errors.update({"z": "overflow"}) if verdict[0] == "error" else either.add("z"))
    call = Call(bounds.projection_spread, {"p": p, "z": z}, errors, either)

    def check(out: object) -> None:
        assert isinstance(out, tuple) and len(out) == 2
        for value in out:
            check_numeric(value, shape[:-1], 0.0, MAX)

    call.check = check
    call.positional = draw(st.booleans())
    return call


@st.composite
def lambda_for_kl_calls(draw: Callable) -> Call:
    """``lambda_for_kl``: exactly one of the keyword-only var_z and z_range (both or neither: an error naming them);
    ``inf`` exactly where the spread is 0, finite elsewhere unless λ exceeds float64 (an error naming alpha)."""
    which = draw(st.sampled_from(["var_z", "z_range", "var_z", "z_range", "both", "neither"]))
    base = draw(st.sampled_from([(), (), (3,), (2, 3)]))
    shape_for = lambda: draw(st.sampled_from([(), base, (1,) * len(base)])) if base else ()  # noqa: E731
    names = ("tau", "alpha", "spread")
    doms = {"tau": domain("tau", "lambda_for_kl"), "alpha": domain("alpha", "lambda_for_kl"), "spread": NONNEG}
    vals = {n: _valid_value(draw, doms[n], shape_for()) for n in names}
    if draw(st.booleans()):
        vals["spread"] = _array(draw, st.sampled_from([0.0, 1.0, 5e-324]), np.shape(vals["spread"]) or (1,))
    corrupt = draw(st.sampled_from([None, None, *names]))
    if corrupt is not None:
        vals[corrupt] = draw(wild_values())
    spread_name = "var_z" if which in ("var_z", "both") else "z_range"
    kwargs: dict[str, object] = {"tau": vals["tau"], "alpha": vals["alpha"]}
    if which == "both":
        kwargs |= {"var_z": vals["spread"], "z_range": vals["spread"]}
    elif which != "neither":
        kwargs[spread_name] = vals["spread"]
    if which in ("both", "neither"):
        call = Call(bounds.lambda_for_kl, kwargs, {"var_z": "value", "z_range": "value"})
        return call
    errors, either = classify(tau=(vals["tau"], doms["tau"]), alpha=(vals["alpha"], doms["alpha"]))
    spread_kind = kind_of(vals["spread"], doms["spread"])
    if spread_kind:
        errors[spread_name] = spread_kind
    shape = None
    if not errors:
        shape = _broadcast([np.shape(np.asarray(vals[n], dtype=np.float64)) for n in names])
        if shape is None:
            errors.update({"tau": "shape", "alpha": "shape", spread_name: "shape"})
        else:
            c = 2.0 if spread_name == "var_z" else 8.0
            s = _ld(vals["spread"])
            den = np.sqrt(s) if spread_name == "var_z" else s
            with np.errstate(divide="ignore"):
                lam = np.where(s > 0, np.sqrt(LD(c) * _ld(vals["tau"])) / (den * _ld(vals["alpha"])), LD(0))
            verdict = _overflow(lam, {"alpha", "tau", spread_name})
            if verdict:
                (errors.update({"alpha": "overflow"}) if verdict[0] == "error" else either.update(verdict[1]))
    call = Call(bounds.lambda_for_kl, kwargs, errors, either)
    spread_arr = np.asarray(vals["spread"], dtype=np.float64) if shape is not None else None
    call.check = lambda out: check_numeric(out, shape, 0.0, INF, finite=spread_arr > 0)
    return call


@st.composite
def unsteered_calls(draw: Callable, binary: bool) -> Call:
    V = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p: object = draw(distributions((*batch, V)))
    sdom = st.sampled_from([-1.0, 1.0]) if binary else valid(SIGNED_UNIT)
    scores: object = _array(draw, sdom, draw(st.sampled_from([(V,), (*batch, V)])))
    corrupt = draw(st.sampled_from([None, None, "p", "scores"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "scores":
        scores = draw(st.one_of(wild_values(), st.just(np.array([0.0] * V)), st.just(np.ones(V + 1))))
    errors, either = classify(p=(p, prob_kind), scores=(scores, REAL if binary else SIGNED_UNIT))
    if "scores" in errors:
        pass
    elif binary and not np.isin(np.asarray(scores, dtype=np.float64), (-1.0, 1.0)).all():
        errors["scores"] = "value"
    elif np.ndim(scores) == 0:
        errors["scores"] = "shape"
    shape = None
    if not any(k in ("type", "shape") for k in errors.values()):
        p_shape = np.shape(np.asarray(p, dtype=np.float64))
        shape = _broadcast([p_shape, np.shape(scores)])
        if p_shape and np.ndim(scores) and np.shape(scores)[-1] not in (1, p_shape[-1]):
            errors["scores"] = "shape"
        elif shape is None:
            errors.update({"p": "shape", "scores": "shape"})
    fn = bounds.binary_masses if binary else bounds.behavior_unsteered
    call = Call(fn, {"p": p, "scores": scores}, errors, either)

    def check(out: object) -> None:
        if binary:
            assert isinstance(out, tuple) and len(out) == 2
            for m in out:
                check_numeric(m, shape[:-1], 0.0, 1.0 + MASS_TOL)
            total = np.asarray(out[0]) + np.asarray(out[1])
            assert np.allclose(total, np.sum(np.broadcast_to(p, shape), axis=-1), rtol=0, atol=1e-12)
        else:
            check_numeric(out, shape[:-1], -1.0 - MASS_TOL, 1.0 + MASS_TOL)

    call.check = check
    return call


@st.composite
def at_infinity_calls(draw: Callable) -> Call:
    V = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p: object = draw(distributions((*batch, V)))
    z: object = _array(draw, Z_VALUES, draw(st.sampled_from([(V,), (*batch, V)])))
    answer: object = draw(st.integers(0, V - 1))
    corrupt = draw(st.sampled_from([None, None, "p", "z", "answer"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(V + 1))))
    elif corrupt == "answer":
        answer = draw(st.one_of(WILD_INTS, st.sampled_from([V, -1, np.array([0, 0, 0])])))
    errors, either = classify(p=(p, prob_kind), z=(z, REAL))
    shape = None
    if not errors:
        shape = _broadcast([np.shape(p), np.shape(z)])
        if np.ndim(z) and np.shape(z)[-1] not in (1, np.shape(p)[-1]):
            errors["z"] = "shape"
        elif shape is None:
            errors.update({"p": "shape", "z": "shape"})
    if not errors:
        k = index_kind(answer, V)
        if k:
            errors["answer"] = k
        elif _broadcast([np.shape(answer), shape[:-1]]) != shape[:-1]:
            errors["answer"] = "shape"
        else:
            pa = np.broadcast_to(np.asarray(p), shape)
            idx = np.broadcast_to(np.asarray(answer), shape[:-1])
            if (np.take_along_axis(pa, idx[..., None], axis=-1) == 0).any():
                errors.update({"p": "value", "answer": "value"})  # documented: p[answer] must be > 0
    call = Call(bounds.helpfulness_at_infinity, {"p": p, "z": z, "answer": answer}, errors, either)
    call.check = lambda out: check_numeric(out, shape[:-1], 0.0, 1.0 + MASS_TOL)
    return call


@st.composite
def expectation_p_calls(draw: Callable) -> Call:
    V = draw(st.integers(1, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p: object = draw(distributions((*batch, V)))
    answer: object = draw(st.integers(0, V - 1))
    doms = {n: domain(n, "helpfulness_expectation") for n in ("alpha", "sigma", "lam")}
    vals: dict[str, object] = {
        n: _valid_value(draw, dom, draw(st.sampled_from([(), batch]))) for n, dom in doms.items()
    }
    corrupt = draw(st.sampled_from([None, None, "p", "answer", "alpha", "sigma", "lam"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "answer":
        answer = draw(st.one_of(WILD_INTS, st.sampled_from([V, -1])))
    elif corrupt is not None:
        vals[corrupt] = draw(wild_values())
    errors, either = classify(p=(p, prob_kind), **{n: (vals[n], dom) for n, dom in doms.items()})
    if "p" not in errors and not either:
        k = index_kind(answer, V)
        if k:
            errors["answer"] = k
    shape = None
    if not {"p", "answer"} & set(errors) and not either:  # p[answer] is checked before alpha, sigma, lam
        pa = np.asarray(p, dtype=np.float64)
        p0 = pa[..., answer]
        if (p0 == 0).any():
            errors.update({"p": "value", "answer": "value"})  # p[answer] = p0 must be > 0
    if not errors and not either:
        pa = np.asarray(p, dtype=np.float64)
        p0 = np.minimum(pa[..., answer], 1.0)
        shape = _broadcast([pa.shape[:-1]] + [np.shape(vals[n]) for n in ("alpha", "sigma", "lam")])
        if shape is None:
            errors.update({n: "shape" for n in ("p", "alpha", "sigma", "lam")})
        else:
            s2 = np.sum(np.where(np.arange(V) == answer, 0.0, pa * pa), axis=-1)
            s2 = np.minimum(s2, (1.0 - p0) ** 2)
            a, s, lm = (
                np.broadcast_to(np.asarray(vals[n], dtype=np.float64), shape) for n in ("alpha", "sigma", "lam")
            )
            p0b, s2b = np.broadcast_to(p0, shape), np.broadcast_to(s2, shape)
            verdict = _expectation_overflow(p0b, s2b, a, s, lm)
            if verdict:
                (errors.update({"alpha": "overflow"}) if verdict[0] == "error" else either.update(verdict[1]))
    call = Call(bounds.helpfulness_expectation_p, {"p": p, "answer": answer, **vals}, errors, either)
    call.check = lambda out: check_numeric(out, shape, -MAX, MAX)
    return call


@st.composite
def quantities_calls(draw: Callable) -> Call:
    V = draw(st.integers(2, 5))
    batch = draw(st.sampled_from([(), (), (2,)]))
    p = draw(distributions((*batch, V)))
    answer = draw(st.integers(0, V - 1))
    # p0 < 1: some mass on another token
    other = (answer + 1) % V
    p = np.where(np.arange(V) == other, np.maximum(p, 0.25), p)
    p = p / p.sum(axis=-1, keepdims=True)
    z: object = _array(draw, Z_VALUES, draw(st.sampled_from([(V,), (*batch, V)])))
    order = np.argsort(-np.atleast_2d(p), axis=-1, kind="stable")
    rank = int(np.max(np.argmax(order == answer, axis=-1)))  # answer's worst rank over the batch
    top_k: object = draw(st.integers(rank + 1, V))
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=V, max_size=V)))
        mask[answer] = True
        top_k = mask
    lam_norm: object = _valid_value(draw, domain("lam_norm"), draw(st.sampled_from([(), batch])))
    sigma: object = _valid_value(draw, domain("sigma", "helpfulness_quantities"), ())
    corrupt = draw(st.sampled_from([None, None, "p", "z", "answer", "top_k", "lam_norm", "sigma"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(V + 1))))
    elif corrupt == "answer":
        answer = draw(st.one_of(WILD_INTS, st.sampled_from([V, -1])))
    elif corrupt == "top_k":
        top_k = draw(st.one_of(WILD_INTS, st.sampled_from([V + 1, np.zeros(V, bool), np.ones(V + 1, bool)])))
    elif corrupt == "lam_norm":
        lam_norm = draw(wild_values())
    elif corrupt == "sigma":
        sigma = draw(wild_values())
    errors, either = classify(
        p=(p, prob_kind),
        **{
            n: (v, domain(n, "helpfulness_quantities")) for n, v in (("z", z), ("lam_norm", lam_norm), ("sigma", sigma))
        },
    )
    if not errors and (np.ndim(z) == 0 or np.shape(z)[-1] != np.shape(p)[-1]):
        errors["z"] = "shape"
    if not errors:
        k = index_kind(answer, V)
        if k:
            errors["answer"] = k
        elif isinstance(top_k, (int, np.integer)) and not isinstance(top_k, bool):
            if not 1 <= top_k <= V:
                errors["top_k"] = "range"
        elif not (isinstance(top_k, np.ndarray) and top_k.dtype == bool):
            errors["top_k"] = "type"
        elif top_k.shape[-1] != V:
            errors["top_k"] = "shape"
    result_shape = None
    if not errors:
        pa, za = np.asarray(p, dtype=np.float64), np.asarray(z, dtype=np.float64)
        full = _broadcast(
            [pa.shape, za.shape, np.shape(top_k) if isinstance(top_k, np.ndarray) else (), (*np.shape(lam_norm), 1)]
        )
        if full is None:
            errors.update({n: "shape" for n in ("p", "z", "top_k", "answer", "lam_norm")})
        else:
            result_shape = full[:-1]
            if _broadcast([np.shape(sigma), result_shape]) != result_shape:
                errors["sigma"] = "shape"
            pa, za = np.broadcast_to(pa, full), np.broadcast_to(za, full)
            if isinstance(top_k, np.ndarray):
                mask = np.broadcast_to(top_k, full)
            else:
                o = np.argsort(-pa, axis=-1, kind="stable")
                mask = np.zeros(full, bool)
                np.put_along_axis(mask, o[..., :top_k], True, axis=-1)
            is_a = np.arange(V) == answer
            t = np.broadcast_to(np.asarray(lam_norm, dtype=np.float64), full[:-1])
            if "sigma" in errors:
                pass  # checked first
            elif not mask[..., answer].all():
                errors.update({"answer": "value", "top_k": "value"})
            elif (np.sum(np.where(is_a, 0.0, pa), axis=-1) <= 0).any():
                errors.update({"p0": "value", "p": "value"})
            else:
                sign = np.where(t < 0, -1.0, 1.0)[..., None]
                d = _ld(sign) * (_ld(za) - _ld(za[..., answer : answer + 1]))
                if (np.abs(d) > LD_MAX * (1 + BAND)).any():
                    errors["z"] = "overflow"
                else:
                    if (np.abs(d) > LD_MAX * (1 - BAND)).any():
                        either.add("z")
                    wrong = mask & ~is_a
                    if (np.abs(d[wrong]) > LD_MAX / 4).any():
                        either |= {"z", "lam_norm", "sigma"}  # sums of p d near the float64 limit
                    pl = _ld(pa)
                    pos, neg = wrong & (d > 0), wrong & (d < 0)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        dp = np.sum(np.where(pos, pl * d, 0), -1) / np.sum(np.where(pos, pl, 0), -1)
                        dm = -np.sum(np.where(neg, pl * d, 0), -1) / np.sum(np.where(neg, pl, 0), -1)
                    dmax = np.maximum(np.nan_to_num(dp), np.nan_to_num(dm))
                    for names, val in (({"lam_norm"}, np.abs(_ld(t)) * dmax), ({"sigma"}, dmax / _ld(sigma))):
                        verdict = _overflow(val, names)
                        if verdict and verdict[0] == "error":
                            errors.update({n: "overflow" for n in names})
                        elif verdict:
                            either |= names
    kwargs = {"p": p, "z": z, "answer": answer, "top_k": top_k, "lam_norm": lam_norm, "sigma": sigma}
    call = Call(bounds.helpfulness_quantities, kwargs, errors, either)

    def check(q: object) -> None:
        assert isinstance(q, bounds.helpfulness.HelpfulnessQuantities)
        for name in ("p0", "top_mass", "P_plus", "P_minus", "gamma"):
            check_numeric(getattr(q, name), result_shape, 0.0, 1.0 + MASS_TOL)
        for name in ("X_plus", "X_minus", "Y_plus", "Y_minus", "beta"):
            check_numeric(getattr(q, name), result_shape, 0.0, MAX)
        check_numeric(q.L, result_shape, -MAX, MAX)
        for name in ("both_nonempty", "on_event"):
            v = getattr(q, name)
            assert (type(v) is bool) if result_shape == () else (np.asarray(v).dtype == bool)

    call.check = check
    return call


# -- the multi-token response model ------------------------------------------------------------------------------------
@st.composite
def response_trees(draw: Callable, depth: int = 2) -> ResponseTree:
    V = draw(st.integers(1, 3))
    p = draw(distributions((V,)))
    z = _array(draw, Z_VALUES, (V,))
    aligned = np.array(draw(st.lists(st.booleans(), min_size=V, max_size=V)))
    children = tuple(
        draw(st.one_of(st.none(), response_trees(depth - 1))) if (aligned[i] and depth > 1) else None for i in range(V)
    )
    return ResponseTree(p, z, aligned, children)


def _reachable(tree: ResponseTree) -> list[ResponseTree]:
    return list(tree.nodes())


def _tree_overflow(tree: ResponseTree, norm: object) -> Verdict | None:
    """Documented overflow of ``norm * |z_s - z_t|`` at the root (error) or at a deeper reachable node (either)."""
    root = _tilt_overflow(tree.p, tree.z, np.asarray(norm, dtype=np.float64).max(initial=0.0), {"norm"})
    if root:
        return root
    for node in _reachable(tree)[1:]:
        if _tilt_overflow(node.p, node.z, np.asarray(norm, dtype=np.float64).max(initial=0.0), {"norm"}):
            return ("either", {"norm"})  # a child reached with steered probability 0 (underflow) is not visited
    return None


@st.composite
def response_behavior_calls(draw: Callable) -> Call:
    tree: object = draw(response_trees())
    norm: object = _valid_value(draw, domain("norm"), draw(st.sampled_from([(), (3,)])))
    corrupt = draw(st.sampled_from([None, None, "tree", "norm"]))
    if corrupt == "tree":
        tree = draw(st.one_of(wild_values(), st.just({"p": [1.0], "z": [0.0], "aligned": [True]})))
    elif corrupt == "norm":
        norm = draw(wild_values())
    errors, either = classify(
        tree=(tree, lambda t: None if isinstance(t, ResponseTree) else "type"), norm=(norm, domain("norm"))
    )
    if not errors:
        verdict = _tree_overflow(tree, norm)
        if verdict:
            (errors.update({"norm": "overflow"}) if verdict[0] == "error" else either.add("norm"))
    call = Call(bounds.response_behavior, {"tree": tree, "norm": norm}, errors, either)
    call.check = lambda out: check_numeric(out, np.shape(norm), -1.0 - 1e-9, 1.0 + 1e-9)
    return call


@st.composite
def corrected_tree_calls(draw: Callable) -> Call:
    """``multitoken_threshold_corrected`` with a :class:`ResponseTree` as ``step_B0``."""
    tree = draw(response_trees())
    ell = draw(st.one_of(st.integers(1, 4), st.just(10**400)))
    doms = {n: domain(n, "multitoken_threshold_corrected") for n in ("eps", "alpha", "delta", "ell")}
    vals = {n: draw(valid(doms[n])) for n in ("eps", "alpha", "delta")}
    corrupt = draw(st.sampled_from([None, None, "eps", "alpha", "delta", "ell"]))
    if corrupt == "ell":
        ell = draw(WILD_INTS)
    elif corrupt is not None:
        vals[corrupt] = draw(wild_values())
    errors, either = classify(**{n: (vals[n], doms[n]) for n in ("eps", "alpha", "delta")}, ell=(ell, doms["ell"]))
    shape = None
    if not errors:
        shape = _broadcast([np.shape(vals[n]) for n in ("eps", "alpha", "delta")])
        if shape is None:
            errors.update({"eps": "shape", "alpha": "shape", "delta": "shape"})
        elif tree.depth > ell:
            errors["ell"] = "value"
        else:
            odds = np.array([n.log_odds_misaligned for n in _reachable(tree)])
            if (odds == np.inf).any():
                errors["step_B0"] = "value"
            else:
                e = np.asarray(vals["eps"], dtype=np.float64)
                num = odds.max() + _log_ell_minus(int(ell), e) - np.log(e)
                num = np.where(np.isneginf(num), 0.0, num)
                verdict = _ratio_overflow(num, vals["alpha"], vals["delta"], {"alpha", "delta"}, clip0=True)
                if verdict:
                    (errors.update({"alpha": "overflow"}) if verdict[0] == "error" else either.update(verdict[1]))
    kwargs = {"eps": vals["eps"], "step_B0": tree, "ell": ell, "alpha": vals["alpha"], "delta": vals["delta"]}
    call = Call(bounds.multitoken_threshold_corrected, kwargs, errors, either)
    call.check = lambda out: check_numeric(out, shape, 0.0, MAX)
    return call


@st.composite
def response_tree_calls(draw: Callable) -> Call:
    """The :class:`ResponseTree` constructor: it validates its inputs like a public function."""
    V = draw(st.integers(1, 4))
    p: object = draw(distributions((V,)))
    z: object = _array(draw, Z_VALUES, (V,))
    aligned: object = np.array(draw(st.lists(st.booleans(), min_size=V, max_size=V)))
    child = ResponseTree(np.array([1.0]), np.array([0.0]), np.array([True]))
    children: object = tuple(child if (a and draw(st.booleans())) else None for a in aligned)
    corrupt = draw(st.sampled_from([None, None, "p", "z", "aligned", "children"]))
    if corrupt == "p":
        p = draw(st.one_of(bad_distributions(p), st.just(np.full((2, V), 1.0 / V))))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(V + 1))))
    elif corrupt == "aligned":
        aligned = draw(st.one_of(wild_values(), st.just(np.ones(V, dtype=int)), st.just(np.ones(V + 1, bool))))
    elif corrupt == "children":
        children = draw(
            st.one_of(
                st.just((None,) * (V + 1)),
                st.just((1.0,) * V),
                st.just((child,) * V),
                st.just([None] * V),
                wild_values(),
            )
        )
    errors, either = classify(p=(p, prob_kind), z=(z, REAL))
    if "p" not in errors and "p" not in either and np.ndim(p) != 1:
        errors["p"] = "shape"
    if "z" not in errors and "p" not in errors and np.shape(z) != np.shape(p):
        errors["z"] = "shape"
    try:
        al = np.asarray(aligned)
    except ValueError:  # ragged
        al = None
    if al is None or al.dtype != bool:
        errors["aligned"] = "type"
    elif not errors and al.shape != np.shape(p):
        errors["aligned"] = "shape"
    if not errors:
        try:
            ch = tuple(children) if len(children) else (None,) * V
        except TypeError:
            errors["children"] = "type"
        else:
            if len(ch) != V:
                errors["children"] = "shape"
            elif any(c is not None and not isinstance(c, ResponseTree) for c in ch):
                errors["children"] = "type"
            elif any(c is not None and not al[i] for i, c in enumerate(ch)):
                errors["children"] = "value"
    call = Call(ResponseTree, {"p": p, "z": z, "aligned": aligned, "children": children}, errors, either)

    def check(tree: object) -> None:
        assert isinstance(tree, ResponseTree) and tree.depth >= 1
        assert -1.0 - 1e-9 <= tree.behavior(0.0) <= 1.0 + 1e-9

    call.check = check
    return call


# -- the assumption predicates ---------------------------------------------------------------------------------------
def check_predicate(out: object, finite_keys: tuple[str, ...] = ()) -> None:
    """A :class:`PredicateResult`: boolean verdict, failures as strings (none iff it holds), no undocumented NaN."""
    assert isinstance(out, bounds.PredicateResult)
    assert type(out.holds) is bool and bool(out) is out.holds
    assert isinstance(out.failures, tuple) and all(isinstance(f, str) for f in out.failures)
    assert out.holds == (not out.failures), f"verdict and failures disagree: {out}"
    for key in finite_keys:
        v = np.asarray(out.measured[key], dtype=np.float64)
        assert not np.isnan(v).any(), f"measured[{key!r}] is NaN: {out.measured}"


def vector_kind(dom: Domain) -> Callable[[object], str | None]:
    """The kind function of a 1-D non-empty vector (checked in this order: type/NaN/inf, shape, then the domain)."""

    def kind(v: object) -> str | None:
        k = real_kind(v, REAL)
        if k:
            return k
        if np.ndim(v) != 1 or np.size(v) == 0:
            return "shape"
        return real_kind(v, dom)

    return kind


def scalar_kind(dom: Domain) -> Callable[[object], str | None]:
    """The kind function of a scalar of ``dom`` (an array is out of range)."""
    return lambda v: real_kind(v, dom) or ("range" if np.ndim(v) != 0 else None)


def binary_kind(scores: object) -> str | None:
    """A vector of binary scores (the binary check covers the range)."""
    k = vector_kind(REAL)(scores)
    if k:
        return k
    return None if np.isin(np.asarray(scores, dtype=np.float64), (-1.0, 1.0)).all() else "value"


@st.composite
def assumption_1_calls(draw: Callable) -> Call:
    n = draw(st.integers(1, 6))
    lam: object = _array(draw, st.one_of(st.floats(-5, 5), valid(REAL)), (n,))
    alpha = draw(st.floats(0.0, 10.0))
    with np.errstate(over="ignore"):  # norms beyond float64 are drawn as inf: an invalid input, on purpose
        norms: object = np.abs(alpha * np.asarray(lam)) * (1 + _array(draw, st.floats(-0.1, 0.1), (n,)))
    if draw(st.booleans()):
        norms = _array(draw, valid(NONNEG), (n,))
    vals: dict[str, object] = {
        "rtol": draw(st.one_of(st.floats(0.0, 0.5), st.sampled_from([0.0, 1 - 2**-53]))),
        "atol": draw(valid(NONNEG)),
        "min_points": draw(st.integers(2, 4)),
        "weak": draw(st.booleans()),
    }
    corrupt = draw(st.sampled_from([None, None, "lam", "norms", "rtol", "atol", "min_points"]))
    if corrupt == "lam":
        lam = draw(st.one_of(wild_values(), st.just(np.zeros(n + 1))))
    elif corrupt == "norms":
        norms = draw(st.one_of(wild_values(), st.just(-np.ones(n))))
    elif corrupt == "min_points":
        vals["min_points"] = draw(WILD_INTS)
    elif corrupt is not None:
        vals[corrupt] = draw(wild_values())
    errors, either = classify(
        lam=(lam, vector_kind(REAL)),
        norms=(norms, vector_kind(NONNEG)),
        rtol=(vals["rtol"], scalar_kind(domain("rtol", "assumption_1"))),
        atol=(vals["atol"], scalar_kind(domain("atol", "assumption_1"))),
        min_points=(vals["min_points"], domain("min_points", "assumption_1")),
    )
    if not {"lam", "norms"} & set(errors) and np.shape(lam) != np.shape(norms):
        errors.update({"lam": "shape", "norms": "shape"})
    elif not errors:  # documented: a slope norms/|lam| beyond float64 is an error (all points: always; a prefix: maybe)
        a = np.abs(_ld(lam))
        o = np.argsort(a, kind="stable")
        a, nn = a[o], _ld(norms)[o]
        with np.errstate(invalid="ignore", divide="ignore"):
            slopes = np.cumsum(a * nn) / np.cumsum(a * a)
        verdict = _overflow(slopes[-1:], {"lam", "norms"}) if np.isfinite(slopes[-1]) else None
        if verdict and verdict[0] == "error":
            errors.update({"lam": "value", "norms": "value"})
        elif verdict or _overflow(np.nan_to_num(slopes), {"lam", "norms"}):
            either |= {"lam", "norms"}
    call = Call(bounds.assumption_1, {"lam": lam, "norms": norms, **vals}, errors, either)

    def check(out: object) -> None:
        check_predicate(out, ("linear_up_to", "n_linear", "alpha_all"))
        if out.holds and not vals["weak"]:
            assert math.isfinite(out.measured["alpha"]) and out.measured["alpha"] > 0, out.measured

    call.check = check
    return call


def _p_kind(p: object, n: int) -> str | None:
    k = prob_kind(p)
    if k in (None, "band") and (np.ndim(p) != 1 or np.size(p) != n):
        return "shape"
    return k


@st.composite
def assumption_2_calls(draw: Callable) -> Call:
    n = draw(st.integers(1, 5))
    z: object = _array(draw, Z_VALUES, (n,))
    scores: object = _array(draw, st.sampled_from([-1.0, 1.0]), (n,))
    delta: object = draw(st.one_of(st.none(), valid(NONNEG)))
    p: object = draw(st.one_of(st.none(), distributions((n,))))
    corrupt = draw(st.sampled_from([None, None, "z", "scores", "delta", "p"]))
    if corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(n + 1))))
    elif corrupt == "scores":
        scores = draw(st.one_of(wild_values(), st.just(np.zeros(n))))
    elif corrupt == "delta":
        delta = draw(wild_values())
    elif corrupt == "p":
        p = draw(bad_distributions(np.full(n, 1.0 / n)))
    errors, either = classify(
        z=(z, vector_kind(REAL)),
        scores=(scores, binary_kind),
        delta=(delta, lambda d: None if d is None else scalar_kind(domain("delta", "assumption_2"))(d)),
        p=(p, lambda q: None if q is None else _p_kind(q, n)),
    )
    if not errors and np.shape(z) != np.shape(scores):
        errors.update({"z": "shape", "scores": "shape"})
    call = Call(bounds.assumption_2, {"z": z, "scores": scores, "delta": delta, "p": p}, errors, either)
    call.check = lambda out: check_predicate(out, ("violating_pairs",))
    return call


@st.composite
def assumption_3_calls(draw: Callable) -> Call:
    n = draw(st.integers(1, 5))
    p: object = draw(distributions((n,)))
    z: object = _array(draw, Z_VALUES, (n,))
    answer: object = draw(st.integers(0, n - 1))
    eps: object = draw(st.one_of(st.floats(0.0, 1.0, exclude_max=True), st.sampled_from([0.0, 1 - 2**-53])))
    k_: object = draw(st.one_of(st.none(), st.integers(1, n)))
    corrupt = draw(st.sampled_from([None, None, "p", "z", "answer", "eps", "k"]))
    if corrupt == "p":
        p = draw(st.one_of(bad_distributions(p), st.just(np.full((2, n), 1.0 / n))))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(n + 1))))
    elif corrupt == "answer":
        answer = draw(st.one_of(WILD_INTS, st.sampled_from([n, -1, np.array([0])])))
    elif corrupt == "eps":
        eps = draw(st.one_of(wild_values(), st.just(1.0)))
    elif corrupt == "k":
        k_ = draw(st.one_of(WILD_INTS, st.just(n + 1)))
    errors, either = classify(p=(p, prob_kind), z=(z, vector_kind(REAL)))
    if "p" not in errors and "p" not in either and np.ndim(p) != 1:
        errors["p"] = "shape"
    if "z" not in errors and "p" not in errors and np.shape(z) != np.shape(p):
        errors.update({"z": "shape", "p": "shape"})
    if np.ndim(answer) != 0:
        errors["answer"] = "type"
    else:
        k = index_kind(answer, n)
        if k:
            errors["answer"] = k
    k = scalar_kind(domain("eps", "assumption_3"))(eps)
    if k:
        errors["eps"] = k
    if k_ is not None:
        k = int_kind(k_, domain("k", "assumption_3"))
        if k or k_ > n:
            errors["k"] = k or "range"
    call = Call(bounds.assumption_3, {"p": p, "z": z, "answer": answer, "eps": eps, "k": k_}, errors, either)
    call.check = lambda out: (
        check_predicate(out, ("k", "top_k_mass", "ties")),
        _assert(1 <= out.measured["k"] <= n and 0 <= out.measured["top_k_mass"] <= 1 + MASS_TOL, out.measured),
    )
    return call


def _assert(cond: bool, what: object) -> None:
    assert cond, what


@st.composite
def assumption_3_sample_calls(draw: Callable) -> Call:
    nq = draw(st.integers(2, 4))
    z_top: object = [
        _array(draw, st.one_of(st.floats(-10, 10), Z_VALUES), (draw(st.integers(2, 5)),)) for _ in range(nq)
    ]
    law: object = draw(st.sampled_from(["normal", None]))
    sigma: object = (
        draw(st.one_of(st.none(), valid(domain("sigma", "assumption_3_sample")))) if law == "normal" else None
    )
    level: object = draw(st.one_of(st.floats(0.0, 1.0, exclude_min=True, exclude_max=True), st.just(0.01)))
    corrupt = draw(st.sampled_from([None, None, "z_top", "law", "sigma", "level"]))
    if corrupt == "z_top":
        z_top = draw(
            st.one_of(
                st.just([np.zeros(3)]),
                st.just([np.zeros(3), np.zeros(1)]),
                st.just([[1.0, NAN], [1.0, 2.0]]),
                st.just([["a", "b"], [1.0, 2.0]]),
                wild_values(),
            )
        )
    elif corrupt == "law":
        law = draw(st.sampled_from(["t", "Normal", 1, "uniform"]))
    elif corrupt == "sigma":
        sigma = draw(wild_values())
    elif corrupt == "level":
        level = draw(st.one_of(wild_values(), st.sampled_from([0.0, 1.0])))
    errors: dict[str, str] = {}
    if law not in ("normal", None):
        errors["law"] = "value"
    groups = z_top if isinstance(z_top, list) else []
    if not isinstance(z_top, list):
        errors["z_top"] = "type"
    elif len(groups) < 2:
        errors["z_top"] = "shape"
    for g in groups:
        k = real_kind(g, REAL)
        if k or np.ndim(g) != 1 or np.size(g) < 2:
            errors["z_top"] = k or "shape"
    k = scalar_kind(domain("level", "assumption_3_sample"))(level)
    if k:
        errors["level"] = k
    if sigma is not None:
        if law != "normal":
            errors["sigma"] = "value"
        else:
            k = scalar_kind(domain("sigma", "assumption_3_sample"))(sigma)
            if k:
                errors["sigma"] = k
    call = Call(bounds.assumption_3_sample, {"z_top": z_top, "law": law, "sigma": sigma, "level": level}, errors)

    def check(out: object) -> None:
        check_predicate(out, ("n_queries", "n_contrasts", "ties"))
        m = out.measured
        constant = all(np.max(g) == np.min(g) for g in groups)
        pvals = {"p_equal_variance": True, "p_normality": law == "normal", "p_sigma": sigma is not None}
        for key, expected in pvals.items():
            v = m[key]
            if constant or not expected:
                continue
            if key == "p_normality" and m["n_contrasts"] < 3:
                continue
            assert 0.0 <= v <= 1.0, f"p-value {key} = {v!r} for valid input: {m}"
        assert math.isfinite(m["sigma_pooled"]) and m["sigma_pooled"] >= 0, m

    call.check = check
    return call


@st.composite
def assumption_4_calls(draw: Callable) -> Call:
    n = draw(st.integers(1, 5))
    p: object = draw(distributions((n,)))
    z: object = _array(draw, Z_VALUES, (n,))
    scores: object = _array(draw, st.sampled_from([-1.0, 1.0]), (n,))
    vals: dict[str, object] = {
        "delta": draw(valid(NONNEG)),
        "rho": draw(valid(UNIT)),
        "delta_M": draw(valid(REAL)),
    }
    corrupt = draw(st.sampled_from([None, None, "p", "z", "scores", "delta", "rho", "delta_M"]))
    if corrupt == "p":
        p = draw(bad_distributions(p))
    elif corrupt == "z":
        z = draw(st.one_of(wild_values(), st.just(np.zeros(n + 1))))
    elif corrupt == "scores":
        scores = draw(st.one_of(wild_values(), st.just(np.zeros(n))))
    elif corrupt is not None:
        vals[corrupt] = draw(wild_values())
    errors, either = classify(p=(p, prob_kind), z=(z, vector_kind(REAL)), scores=(scores, binary_kind))
    if not {"p", "z", "scores"} & set(errors) and len({np.shape(p), np.shape(z), np.shape(scores)}) != 1:
        errors.update({"p": "shape", "z": "shape", "scores": "shape"})
    errors |= classify(**{n: (vals[n], scalar_kind(domain(n, "assumption_4"))) for n in vals})[0]
    call = Call(bounds.assumption_4, {"p": p, "z": z, "scores": scores, **vals}, errors, either)
    call.check = lambda out: (
        check_predicate(out, ("mass", "depth", "rest_margin")),
        _assert(0.0 <= out.measured["mass"] <= 1.0 + MASS_TOL, out.measured),
    )
    return call


# ---------------------------------------------------------------------------------------------------------------------
# The cases: every public callable of bounds
# ---------------------------------------------------------------------------------------------------------------------
CASES: dict[str, st.SearchStrategy[Call]] = {name: generic_calls(spec) for name, spec in SPECS.items()}
CASES["multitoken_threshold_corrected"] = st.one_of(CASES["multitoken_threshold_corrected"], corrected_tree_calls())
CASES.update(
    {
        "steered_distribution": steered_distribution_calls(),
        "behavior_expectation": behavior_expectation_calls(),
        "steered_helpfulness": steered_helpfulness_calls(),
        "kl_divergence": kl_divergence_calls(),
        "projection_spread": projection_spread_calls(),
        "lambda_for_kl": lambda_for_kl_calls(),
        "behavior_unsteered": unsteered_calls(binary=False),
        "binary_masses": unsteered_calls(binary=True),
        "helpfulness_at_infinity": at_infinity_calls(),
        "helpfulness_expectation_p": expectation_p_calls(),
        "helpfulness_quantities": quantities_calls(),
        "response_behavior": response_behavior_calls(),
        "ResponseTree": response_tree_calls(),
        "assumption_1": assumption_1_calls(),
        "assumption_2": assumption_2_calls(),
        "assumption_3": assumption_3_calls(),
        "assumption_3_sample": assumption_3_sample_calls(),
        "assumption_4": assumption_4_calls(),
    }
)

#: public callables that are not numeric functions, with the reason
NOT_FUZZED = {
    "NotClosedForm": "an exception class",
    "PredicateResult": "a result record (built by the assumption predicates, which are fuzzed)",
    "Statement": "a record of the statement registry (its numeric functions are fuzzed under their own names)",
    "statement": "registry look-up by id (KeyError naming the valid ids; tests/bounds/test_registry.py)",
    "statements": "the registry listing, no parameters",
}


def test_every_public_callable_is_fuzzed() -> None:
    public = {n for n in bounds.__all__ if callable(getattr(bounds, n))}
    missing = public - set(CASES) - set(NOT_FUZZED)
    assert not missing, f"public callables of bounds without a fuzz case: {sorted(missing)} (add them to CASES)"
    assert set(CASES) <= public and set(NOT_FUZZED) <= public
    assert not set(CASES) & set(NOT_FUZZED)
    for name in CASES:  # the case must call the public object itself
        assert getattr(bounds, name) in {s.fn for s in SPECS.values()} | _CUSTOM_FNS, name


_CUSTOM_FNS = {
    bounds.steered_distribution,
    bounds.behavior_expectation,
    bounds.steered_helpfulness,
    bounds.kl_divergence,
    bounds.projection_spread,
    bounds.lambda_for_kl,
    bounds.behavior_unsteered,
    bounds.binary_masses,
    bounds.helpfulness_at_infinity,
    bounds.helpfulness_expectation_p,
    bounds.helpfulness_quantities,
    bounds.response_behavior,
    bounds.ResponseTree,
    bounds.assumption_1,
    bounds.assumption_2,
    bounds.assumption_3,
    bounds.assumption_3_sample,
    bounds.assumption_4,
}


def test_specs_follow_the_signatures() -> None:
    """The generic specs list the parameters in signature order (positional calls rely on it)."""
    for name, spec in SPECS.items():
        assert list(inspect.signature(spec.fn).parameters) == list(spec.params), name


def _fuzz(name: str, n: int) -> None:
    @many(n)
    @given(CASES[name])
    def run(call: Call) -> None:
        call.run()

    run()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fuzz(name: str) -> None:
    """Every public function, DEFAULT_EXAMPLES generated calls (valid and invalid)."""
    _fuzz(name, DEFAULT_EXAMPLES)


@pytest.mark.slow
class TestFuzzSlow:
    """The same properties over SLOW_EXAMPLES = 10^4 generated calls per function: ``pytest -m slow`` this file."""

    @pytest.mark.parametrize("name", sorted(CASES))
    def test_fuzz(self, name: str) -> None:
        _fuzz(name, SLOW_EXAMPLES)


# ---------------------------------------------------------------------------------------------------------------------
# Pinned regressions: the cases this fuzzing found, fixed in bounds (value before the fix in the comment)
# ---------------------------------------------------------------------------------------------------------------------
T1 = math.tanh(math.atanh(0.1))  # Theorem 1 at λ = 0 is B0

VALUE_REGRESSIONS = [
    # 0 * inf = NaN: α Δ beyond float64 at λ = 0 (was NaN)
    (bounds.alignment_lower, (1e200, 0.1, 0.0, 1e200), T1),
    (bounds.soft_margin_lower, (1e200, 0.1, 0.0, 1e200, 1e200, 0.1), 0.1 - 4 * 0.1 / 1.1),
    (bounds.trinary_lower, (1e200, 0.1, 0.5, 0.0, 1e200), 0.1),
    (bounds.trinary_lower_corrected, (1e200, 0.1, 0.5, 0.0, 1e200), 0.1),
    (bounds.graded_lower, (1e200, 0.1, 0.5, 0.5, 0.0, 1e200), (0.1 * 0.5 - 0.5) / 1.0),
    (bounds.helpfulness_upper, (0.5, 0.5, 1e200, 1e200, 0.0, 1.0), 1 / (1 + 0.5)),
    (bounds.helpfulness_upper, (5e-324, 0.0, 1e154, 1e200, 1e300, 1e300), 1.0),  # γ = 0: no wrong mass
    (bounds.helpfulness_upper_product, ([0.5], [0.5], 1e200, [1e200], [0.0], 1.0), 1 / (1 + 0.5)),
    # spurious overflow of a partial product: α Δ/2 = inf times λ = 5e-324 (was 1.0, not a lower bound)
    (bounds.alignment_lower, (2e154, 0.1, 5e-324, 2e154), math.tanh(math.atanh(0.1) + 5e-324 * 2e154 * 2e154 / 2)),
    # spurious underflow: 1e-300 * 1e-300 = 0 although α β σ λ = 1 (was 2/3)
    (bounds.helpfulness_upper, (0.5, 0.5, 1e-300, 1e-300, 1e300, 1e300), 1 / (1 + 0.5 * 1.5)),
    # (α σ λ)² = 0 at λ = 0 (was a ValueError "exceeds the float64 range")
    (bounds.helpfulness_expectation, (0.5, 0.1, 1e200, 1e200, 0.0), 0.5),
    # α Δ = 1e-10 is not small: log(...)/α/Δ overflowed in α's division (was a ValueError)
    (bounds.alignment_guarantee, (0.1, 0.1, 1e-310, 1e300), 2 / 1e-10 * (math.atanh(0.9) - math.atanh(0.1))),
    (bounds.multitoken_threshold, (0.1, 0.1, 2, 1e-310, 1e300), math.log(0.9 / 1.1 * (2 / 0.1 - 1)) / 1e-10),
    (bounds.soft_margin_range, (0.5, 0.1, 0.01, 1e-310, 1e300), math.log(0.5 * 0.55 / 0.02) / 1e-10),
    # integers beyond float64 (was OverflowError)
    (bounds.helpfulness_limit, (10**400,), 0.0),
    (
        bounds.multitoken_threshold,
        (0.1, 0.1, 10**400, 1.0, 1.0),
        math.log(0.9 / 1.1) + 400 * math.log(10) - math.log(0.1),
    ),
    # p sums to 1 within 1e-8, so p[answer] = 1 + 5e-9 is a valid p0 = 1 (was a ValueError on p0)
    (bounds.helpfulness_expectation_p, ([1 + 5e-9], 0, 1.0, 1.0, 1.0), 1.0),
]


@pytest.mark.parametrize(("fn", "args", "want"), VALUE_REGRESSIONS, ids=lambda x: getattr(x, "__name__", None))
def test_value_regressions(fn: Callable, args: tuple, want: float) -> None:
    got = fn(*args)
    assert math.isfinite(got) and got == pytest.approx(want, rel=1e-12, abs=1e-300)


def test_steered_distribution_regressions() -> None:
    # |z_s - z_t| beyond float64 with norm * |z_s - z_t| within it (was a ValueError for norm = 0)
    assert np.array_equal(bounds.steered_distribution([0.5, 0.5], [1e308, -1e308], 0.0), [0.5, 0.5])
    assert np.array_equal(bounds.steered_distribution([0.5, 0.5], [1e308, -1e308], 1e-300), [1.0, 0.0])
    with pytest.raises(ValueError, match="norm"):
        bounds.steered_distribution([0.5, 0.5], [1e308, -1e308], 1.0)


ERROR_REGRESSIONS = [
    # results beyond float64 are documented errors, never inf (soft_margin_lower and helpfulness_event were -inf
    # and inf; the quantities' X, Y inf)
    (bounds.soft_margin_lower, (1.0, 0.1, 1e6, 1.0, 1.0, 0.1), "lam"),
    (bounds.helpfulness_event, (1.0, 5e-324, 0.0, 0.0), "one_minus_eps"),
    (bounds.helpfulness_quantities, ([0.25] * 4, [0.0, 1e300, -1e300, 2.0], 0, 4, 1e10, 1.0), "lam_norm"),
    (bounds.helpfulness_quantities, ([0.25] * 4, [0.0, 1e300, -1e300, 2.0], 0, 4, 1.0, 1e-300), "sigma"),
    (bounds.assumption_1, ([1e-300, 2e-300], [1e300, 2e300]), "norms"),  # slope 1e600 (was alpha = inf)
    # the vocabulary axis of p is not broadcast (was a 3-token "distribution" from a 1-token p, or B = 2.0)
    (bounds.steered_distribution, ([1.0], [0.0, 1.0, 2.0], 1.0), "z"),
    (bounds.behavior_unsteered, ([1.0], [1.0, 1.0]), "scores"),
    (bounds.helpfulness_at_infinity, ([1.0], [0.0, 1.0], 0), "z"),
    (bounds.behavior_expectation, ([0.5, 0.5], [0.0, 1.0], 1.0, [1.0, 1.0, 1.0]), "scores"),
    # errors that did not name the parameter (numpy's broadcast message, len() of a float, "p0")
    (bounds.steered_helpfulness, ([[0.5, 0.5]] * 2, [0.0, 1.0], 1.0, np.array([0, 0, 0])), "answer"),
    (bounds.helpfulness_at_infinity, ([[0.5, 0.5]] * 2, [0.0, 1.0], np.array([0, 0, 0])), "answer"),
    (bounds.helpfulness_expectation_p, ([1.0, 0.0], 1, 1.0, 1.0, 1.0), r"p\[answer\]"),
    (bounds.helpfulness_upper_product, ([0.5, 0.5, 0.5], [[0.5] * 3] * 2, 1.0, 1.0, 1.0, [1.0] * 3), "lam"),
    (ResponseTree, ([1.0], [0.0], [True], 0.0), "children"),
    (ResponseTree, ([0.5, 0.5], [0.0, 0.0], [[True], [True, False]]), "aligned"),
    (bounds.assumption_3_sample, (5.0,), "z_top"),
]


@pytest.mark.parametrize(("fn", "args", "name"), ERROR_REGRESSIONS, ids=lambda x: getattr(x, "__name__", None))
def test_error_regressions(fn: Callable, args: tuple, name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        fn(*args)


def test_assumption_predicates_regressions() -> None:
    # |λ| ‖δ‖ near 1e308 overflowed the least-squares sums: alpha was inf and the predicate held
    r = bounds.assumption_1([1.0, 1.0, 3.0], [0.0, 0.0, 5.99231045e307])
    assert math.isfinite(r.measured["alpha_all"]) and not math.isnan(r.measured["relative_residual_all"])
    # a constant query next to a non-constant one: Bartlett's p-value was NaN; projections near 1e308 overflowed
    r = bounds.assumption_3_sample([np.array([0.0, 0.0]), np.array([0.0, 1e-300])])
    assert r.measured["p_equal_variance"] == 0.0 and r.measured["sigma_pooled"] > 0 and not r.holds
    r = bounds.assumption_3_sample([np.array([0.0, 1e308, 3.0]), np.array([0.0, 1e300, -1e300])], sigma=1e300)
    assert all(0.0 <= r.measured[k] <= 1.0 for k in ("p_equal_variance", "p_normality", "p_sigma"))
    assert math.isfinite(r.measured["sigma_pooled"])


def test_domain_table_names_public_arguments() -> None:
    """Every per-function domain of :data:`bounds.domains.CALLS` names a public function and one of its arguments, and
    every argument of the generic specs has a domain (a typo in the table would otherwise go unnoticed)."""
    for call, doms in CALLS.items():
        fn = getattr(bounds, call)
        assert set(doms) <= set(inspect.signature(fn).parameters), call
    for spec in SPECS.values():
        assert all(isinstance(d, Domain) for d in spec.params.values())


def test_domain_prose_and_errors_agree() -> None:
    """The statement pages' prose and the error messages state the same interval."""
    assert domains["B_0"] == "-1 < B_0 < 1 (unsteered behavior expectation)"
    assert domains["ell"] == "integer ell >= 1 (maximal response length)"
    with pytest.raises(ValueError, match=r"B0 must lie in the open interval \(-1\.0, 1\.0\), got 1\.0"):
        bounds.alignment_lower(1.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"step_B0 must lie in the half-open interval \(-1\.0, 1\.0\]"):
        bounds.multitoken_threshold_corrected(0.1, [-1.0], 1, 1.0, 1.0)
    with pytest.raises(TypeError, match="ell must be an integer >= 1"):
        bounds.multitoken_threshold(0.1, 0.0, 1.5, 1.0, 1.0)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_docstrings_state_every_domain(name: str) -> None:
    """Each generic function's docstring has an ``Args`` entry (its documented range) for every parameter."""
    doc = inspect.getdoc(SPECS[name].fn) or ""
    args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    for param in SPECS[name].params:
        assert re.search(rf"(^|[ ,])\s*{param}[:,]", args, re.M), f"{name}: no Args entry for {param}"
