"""The parameters of the statements: their sympy symbols and their valid numeric domains, as data.

Sympy assumptions describe the *generic* case (``positive=True`` lets sympy simplify square roots and limits); the
valid numeric domain of each parameter, which may include a boundary such as ``gamma = 0``, is the :class:`Domain` of
:data:`PARAMETERS` (with the per-function differences of :data:`CALLS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef as _AppliedUndef
from sympy.printing.latex import LatexPrinter as _LatexPrinter

#: steering coefficient r_e (the paper's name); both signs are meaningful (docs/specification.md §0)
lam = sp.Symbol("lambda", real=True)
#: ‖δ‖, the norm of the change of the final hidden state
norm = sp.Symbol("norm_delta", nonnegative=True)
alpha = sp.Symbol("alpha", positive=True)
Delta = sp.Symbol("Delta", positive=True)
Delta_M = sp.Symbol("Delta_M", real=True)
B0 = sp.Symbol("B_0", real=True)
B0_min = sp.Symbol("B_0^min", real=True)  # Theorem 6 (corrected): min over steps and reachable aligned prefixes
b = sp.Symbol("b", real=True)
p0 = sp.Symbol("p_0", positive=True)
gamma = sp.Symbol("gamma", positive=True)
beta = sp.Symbol("beta", positive=True)
sigma = sp.Symbol("sigma", positive=True)
eps = sp.Symbol("epsilon", positive=True)
rho = sp.Symbol("rho", positive=True)
eta = sp.Symbol("eta", positive=True)
P_plus = sp.Symbol("P^+", positive=True)
P_minus = sp.Symbol("P^-", positive=True)
P_zero = sp.Symbol("P^0", nonnegative=True)
P_ge = sp.Symbol("P_ge", positive=True)
P_lt = sp.Symbol("P_lt", positive=True)
X_plus = sp.Symbol("X^+", nonnegative=True)
X_minus = sp.Symbol("X^-", nonnegative=True)
Y_plus = sp.Symbol("Y^+", nonnegative=True)
Y_minus = sp.Symbol("Y^-", nonnegative=True)
S2 = sp.Symbol("S_2", nonnegative=True)  # sum over wrong answers b of P(b|q)**2
ell = sp.Symbol("ell", positive=True, integer=True)
k = sp.Symbol("k", positive=True, integer=True)
n = sp.Symbol("n", positive=True, integer=True)
# the KL price of steering (bounds.kl): the variance and range of z under the unsteered P, and a KL budget
var_z = sp.Symbol("var_z", positive=True)  # Var_{s~P}(z_s)
z_range = sp.Symbol("z_range", positive=True)  # R_z = max - min of z over the tokens with P(s) > 0
tau = sp.Symbol("tau", positive=True)

#: absolute float64 slack of a mass: sums of a distribution that sums to 1 within this (``check_probability_vector``)
MASS_ATOL = 1e-8
_INF = float("inf")


@dataclass(frozen=True)
class Domain:
    """A parameter's valid numeric domain: an interval of finite values (``±inf`` for a one-sided one), or integers
    ``>= lo``. ``note`` is the documented prose after the interval, verbatim (its leading punctuation included)."""

    lo: float = -_INF
    hi: float = _INF
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    note: str = ""

    def contains(self, x: object) -> object:
        """Element-wise membership of a finite ``x`` (a bool array for an array)."""
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above & below

    def prose(self, symbol: str) -> str:
        """The domain as the statements document it, e.g. ``-1 < B_0 < 1 (unsteered behavior expectation)``."""
        lo, hi = ("<" if self.lo_open else "<="), ("<" if self.hi_open else "<=")
        if self.lo == -_INF and self.hi == _INF:
            text = "real"
        elif self.hi == _INF:
            text = f"{'integer ' if self.integer else ''}{symbol} {lo.replace('<', '>')} {self.lo:g}"
        else:
            text = f"{self.lo:g} {lo} {symbol} {hi} {self.hi:g}"
        return text + self.note


#: Valid numeric domain of every parameter, keyed by the statements' symbol names (and, for the parameters that are
#: no statement symbol, by the argument name): the numeric functions validate from it (``bounds._check.args``), the
#: statement pages print its :data:`domains` prose and the fuzz tests and strategies draw from it.
PARAMETERS: dict[str, Domain] = {
    "lambda": Domain(
        note="; lambda >= 0 steers towards the aligned set, lambda < 0 towards the misaligned set "
        "(docs/specification.md §0)"
    ),
    "norm": Domain(0.0, note=", finite"),
    "alpha": Domain(0.0, lo_open=True, note=" (Assumption 1: ||delta|| = alpha |lambda|); 0 allowed where stated"),
    "Delta": Domain(
        0.0,
        lo_open=True,
        note=", full gap between aligned and misaligned projections (Assumption 2); 0 allowed where stated",
    ),
    "Delta_M": Domain(note=", >= the depth max_M z - min_{A+} z of the misclassified set (Assumption 4)"),
    "B_0": Domain(-1.0, 1.0, True, True, note=" (unsteered behavior expectation)"),
    "B_0^min": Domain(
        -1.0, 1.0, lo_open=True, note=": min over steps i and reachable aligned prefixes s_<i of B_0^(i)(s_<i)"
    ),
    "b": Domain(-1.0, 1.0, note=" (score threshold of Theorem 5)"),
    "p_0": Domain(0.0, 1.0, lo_open=True, note=" (unsteered probability of the correct answer)"),
    "gamma": Domain(0.0, 1.0, note=" (asymmetry factor of Theorem 2)"),
    "beta": Domain(0.0, note=" (min of the normalised weighted sums Y^+, Y^-)"),
    "sigma": Domain(0.0, note=" (standard deviation of the noise law D)"),
    "epsilon": Domain(0.0, 1.0, True, True),  # Corollary 1: (0, 2), see CALLS
    "rho": Domain(0.0, 1.0, note=" (mass of the misclassified set)"),
    "eta": Domain(0.0, lo_open=True, note=" (learning rate)"),
    "P^+": Domain(0.0, 1.0, lo_open=True),
    "P^-": Domain(0.0, 1.0),
    "P^0": Domain(0.0, 1.0),
    "X^+": Domain(0.0),
    "X^-": Domain(0.0),
    "Y^+": Domain(0.0),
    "Y^-": Domain(0.0),
    "S_2": Domain(0.0, 1.0, note=", at most (1 - p_0)^2"),
    "ell": Domain(1, integer=True, note=" (maximal response length)"),
    "k": Domain(2, integer=True, note=" (number of noised top tokens)"),
    "n": Domain(1, integer=True, note=" (number of possible answers)"),
    "var_z": Domain(0.0, note=", finite: Var_P(z), the variance of the projections z_s under the unsteered P"),
    "z_range": Domain(
        0.0, note=", finite: at least max_s z_s - min_s z_s over the tokens with P(s) > 0 (the range of z under P)"
    ),
    "tau": Domain(0.0, lo_open=True, note=", finite: a KL budget in nats, KL(P_lambda || P) <= tau"),
    # arguments that are no statement symbol
    "z": Domain(note=": projections z_s on the steering direction"),
    "scores": Domain(-1.0, 1.0, note=": the score B(s) of every token"),
    "lam_norm": Domain(note=": the signed alpha lambda"),
    "one_minus_eps": Domain(0.0, 1.0, lo_open=True, note=": a lower bound on the top-k mass P(T_k|q)"),
    "P_ge": Domain(0.0, 1.0 + MASS_ATOL, lo_open=True, note=": mass of the answers with score >= b"),
    "P_lt": Domain(0.0, 1.0 + MASS_ATOL, note=": mass of the answers with score < b"),
}

#: the argument names of the numeric functions whose statement symbol is spelled differently
ARGUMENTS: dict[str, str] = {
    "lam": "lambda",
    "delta": "Delta",
    "delta_M": "Delta_M",
    "B0": "B_0",
    "step_B0": "B_0^min",
    "p0": "p_0",
    "eps": "epsilon",
    "P_plus": "P^+",
    "P_minus": "P^-",
    "X_plus": "X^+",
    "X_minus": "X^-",
    "S2": "S_2",
}

NONNEG = Domain(0.0)
#: a mass of a token set: a sum of a distribution, so 1e-8 above 1 is rounding
MASS = Domain(0.0, 1.0 + MASS_ATOL)
POSITIVE_MASS = Domain(0.0, 1.0 + MASS_ATOL, lo_open=True)

#: Where a public function's documented domain of an argument differs from :data:`PARAMETERS` (by function, then
#: argument name): the theorems that allow a boundary value (``alpha = 0``, ``Delta = 0``), the statements made for
#: ``lambda >= 0`` only (Theorems 3-5: the paper states no bound for ``lambda < 0``), the statement-specific ``epsilon``
#: and the masses with their rounding slack.
_THEOREM_1 = {"alpha": NONNEG, "delta": NONNEG}
_TOWARDS_ALIGNED = {**_THEOREM_1, "lam": NONNEG}
_TRINARY = {**_TOWARDS_ALIGNED, "B0": Domain(), "P_plus": POSITIVE_MASS}  # B0's range follows from the masses
_THEOREM_2 = {"alpha": NONNEG}
CALLS: dict[str, dict[str, Domain]] = {
    "alignment_lower": _THEOREM_1,
    "alignment_lower_norm": {"delta": NONNEG},
    "alignment_guarantee": {"eps": Domain(0.0, 2.0, True, True)},
    "soft_margin_lower": _TOWARDS_ALIGNED,
    "soft_margin_range": {"eps": Domain(0.0, lo_open=True), "delta_M": Domain(0.0, lo_open=True)},
    "trinary_lower": _TRINARY,
    "trinary_lower_corrected": _TRINARY,
    "graded_lower": _TOWARDS_ALIGNED,
    "helpfulness_upper": _THEOREM_2,
    "helpfulness_upper_product": _THEOREM_2,
    "helpfulness_quantities": {"sigma": Domain(0.0, lo_open=True)},
    "helpfulness_jensen": {"P_plus": MASS, "P_minus": MASS},
    "helpfulness_event": {"P_plus": MASS},
    "helpfulness_expectation": _THEOREM_2,
    # the options of the assumption predicates (bounds.definitions)
    "assumption_1": {"rtol": Domain(0.0, 1.0, hi_open=True), "atol": NONNEG, "min_points": Domain(2, integer=True)},
    "assumption_2": {"delta": NONNEG},
    "assumption_3": {"eps": Domain(0.0, 1.0, hi_open=True), "k": Domain(1, integer=True)},
    "assumption_3_sample": {"sigma": Domain(0.0, lo_open=True), "level": Domain(0.0, 1.0, True, True)},
    "assumption_4": {"delta": NONNEG},
}


def domain(name: str, call: str | None = None) -> Domain:
    """The domain of argument (or symbol) ``name``, in public function ``call`` when given."""
    found = CALLS.get(call, {}).get(name) if call else None
    return found if found is not None else PARAMETERS[ARGUMENTS.get(name, name)]


_LABELS = {"norm": "||delta||"}
#: the documented domains as prose, keyed by symbol name (the statement pages print these)
domains: dict[str, str] = {name: d.prose(_LABELS.get(name, name)) for name, d in PARAMETERS.items()}
domains["epsilon"] = (
    f"depends on the statement: {CALLS['alignment_guarantee']['eps'].prose('epsilon')} (Corollary 1), "
    f"{domains['epsilon']} otherwise"
)

#: LaTeX of the symbols (and matrix symbols) whose plain names are chosen for readable plain-text output, keyed by
#: the plain name: every statement's symbols, including those a statement module declares locally. A name absent here
#: is typeset by sympy (``alpha`` -> ``\alpha``, ``p_0`` -> ``p_{0}``), which is right for Greek letters with plain
#: sub/superscripts; anything else (a word, an operator, a bracket in the name) needs an entry here, or
#: ``tests/test_rendering.py`` finds a bare word in the statement's LaTeX.
latex_names: dict[str, str] = {
    "norm_delta": r"\|\delta\|",
    "P_ge": r"P_{\geq b}",
    "P_lt": r"P_{<b}",
    "S_2": r"S_{2}",
    "B_0^min": r"B_{0}^{\min}",
    "var_z": r"\operatorname{Var}_{P}(z)",
    "z_range": r"R_{z}",
    "lambda_tau": r"\lambda_{\tau}",
    "lambda_tau^(2)": r"\lambda_{\tau}^{(2)}",
    # Assumptions 2-4 (bounds.definitions): margins, masses and the noise variance
    "z_min^+": r"\min_{A^{+}} z",
    "z_max^-": r"\max_{A^{-}} z",
    "z_max^-\\M": r"\max_{A^{-}\setminus M} z",
    "z_max^M": r"\max_{M} z",
    "P(M|q)": r"P(M \mid q)",
    "P(T_k|q)": r"P(T_{k} \mid q)",
    "Var_D(z_s)": r"\operatorname{Var}_{D}(z_{s})",
    # left-hand sides (bounds.alignment, bounds.helpfulness, bounds.multitoken, bounds.preference)
    "lambda^*": r"\lambda^{*}",
    "lambda^(ell)": r"\lambda^{(\ell)}",
    "lambda^(ell)_corr": r"\lambda^{(\ell)}_{\mathrm{corr}}",
    "limsup_{lambda->oo} E_q[H_lambda(q)]": r"\limsup_{\lambda\to\infty} \mathbb{E}_{q}\left[H_{\lambda}(q)\right]",
    "delta_h^(l)": r"\delta h^{(l)}",
    "nabla_h^(l)L": r"\nabla_{h^{(l)}} \mathcal{L}",
    "J_l": r"J_{l}",
    "||h_1||^2": r"\|h_{1}\|^{2}",
    "||x||^2": r"\|x\|^{2}",
}

#: What a symbol abbreviates, in LaTeX, keyed by the plain name (the docs show ``symbol = definition``).
latex_definitions: dict[str, str] = {
    "S_2": r"\sum_{b\neq a^{*}} P(b \mid q)^{2}",
    "B_0^min": r"\min_{i,\,s_{<i}} B_{0}^{(i)}(s_{<i})",
    "var_z": r"\mathbb{E}_{s\sim P}\big[(z_{s} - \mathbb{E}_{t\sim P}\, z_{t})^{2}\big]",
    "z_range": r"\max_{s:\,P(s \mid q)>0} z_{s} - \min_{s:\,P(s \mid q)>0} z_{s}",
}

#: LaTeX templates of the undefined functions of the statements (``#1``, ``#2``: the arguments, as in a TeX macro),
#: keyed by name.
latex_functions: dict[str, str] = {
    "B_P": r"B_{P}(#1)",
    "H_P": r"H_{P}(#1)",
    "A_1": r"A_{1}(#1)",
    "A_2": r"A_{2}(#1)",
    "A_3": r"A_{3}(#1)",
    "A_4": r"A_{4}(#1)",
    "B_lambda": r"B_{\lambda}(#1)",
    "H_lambda": r"H_{\lambda}(#1)",
    "E_z_H_lambda": r"\mathbb{E}_{z}\left[H_{\lambda}(#1)\right]",
    "P": r"P(#1 \mid #2)",
    "KL_lambda": r"\mathrm{KL}\left(P_{\lambda}(\cdot \mid #1)\,\Vert\,P(\cdot \mid #1)\right)",
}


def latex(expr: object) -> str:
    r"""LaTeX of a statement's sympy expression, as the paper writes it: the names of :data:`latex_names` and the
    templates of :data:`latex_functions`, ``\ln`` for the natural logarithm, and in a sum a positive constant first
    and never a leading minus sign when a term is positive (``1 + B_0``, ``p_0 - S_2``, not ``B_0 + 1``, ``-S_2 +
    p_0``)."""
    return _Printer().doprint(expr)


def _reordered_terms(terms: list[sp.Expr]) -> list[sp.Expr]:
    constants = [t for t in terms if t.is_Number and t > 0]
    rest = [t for t in terms if not (t.is_Number and t > 0)]
    if rest and rest[0].could_extract_minus_sign():
        first = next((i for i, t in enumerate(rest) if not t.could_extract_minus_sign()), None)
        if first is not None:
            rest.insert(0, rest.pop(first))
    return constants + rest


class _Printer(_LatexPrinter):
    def __init__(self) -> None:
        super().__init__({"ln_notation": True})

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        name = latex_names.get(expr.name)
        return name if name is not None else super()._print_Symbol(expr, style=style)

    def _print_Function(self, expr: sp.Function, exp: object = None) -> str:
        template = latex_functions.get(type(expr).__name__)
        if template is None or not isinstance(expr, _AppliedUndef):
            return super()._print_Function(expr, exp)
        tex = template
        for i, arg in enumerate(expr.args, start=1):
            tex = tex.replace(f"#{i}", self._print(arg))
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _as_ordered_terms(self, expr: sp.Expr, order: object = None) -> list[sp.Expr]:
        terms = super()._as_ordered_terms(expr, order=order)
        return _reordered_terms(list(terms)) if isinstance(expr, sp.Add) else terms
