"""The sympy symbols shared by every statement, declared with their sympy assumptions.

Sympy assumptions describe the *generic* case (``positive=True`` lets sympy simplify square roots and limits); the
valid numeric domain of each parameter, which may include a boundary such as ``gamma = 0``, is stated in the
``domains`` mapping and enforced by the numeric functions.
"""

from __future__ import annotations

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

#: Valid numeric domain of every parameter, as stated in the docs of every statement that uses it.
domains: dict[str, str] = {
    "lambda": (
        "real; lambda >= 0 steers towards the aligned set, lambda < 0 towards the misaligned set "
        "(docs/specification.md §0)"
    ),
    "norm": "||delta|| >= 0, finite",
    "alpha": "alpha > 0 (Assumption 1: ||delta|| = alpha |lambda|); 0 allowed where stated",
    "Delta": "Delta > 0, full gap between aligned and misaligned projections (Assumption 2); 0 allowed where stated",
    "Delta_M": "real, >= the depth max_M z - min_{A+} z of the misclassified set (Assumption 4)",
    "B_0": "-1 < B_0 < 1 (unsteered behavior expectation)",
    "b": "-1 <= b <= 1 (score threshold of Theorem 5)",
    "p_0": "0 < p_0 <= 1 (unsteered probability of the correct answer)",
    "gamma": "0 <= gamma <= 1 (asymmetry factor of Theorem 2)",
    "beta": "beta >= 0 (min of the normalised weighted sums Y^+, Y^-)",
    "sigma": "sigma >= 0 (standard deviation of the noise law D)",
    "epsilon": "depends on the statement: 0 < epsilon < 2 (Corollary 1), 0 < epsilon < 1 otherwise",
    "rho": "0 <= rho <= 1 (mass of the misclassified set)",
    "eta": "eta > 0 (learning rate)",
    "P^+": "0 < P^+ <= 1",
    "P^-": "0 <= P^- <= 1",
    "P^0": "0 <= P^0 <= 1",
    "X^+": "X^+ >= 0",
    "X^-": "X^- >= 0",
    "Y^+": "Y^+ >= 0",
    "Y^-": "Y^- >= 0",
    "ell": "integer ell >= 1 (maximal response length)",
    "k": "integer k >= 2 (number of noised top tokens)",
    "n": "integer n >= 1 (number of possible answers)",
}

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


# -- appended for Theorem 6 (corrected): the smallest unsteered per-step behavior over reachable aligned prefixes --
B0_min = sp.Symbol("B_0^min", real=True)
domains["B_0^min"] = "-1 < B_0^min <= 1: min over steps i and reachable aligned prefixes s_<i of B_0^(i)(s_<i)"
latex_names["B_0^min"] = r"B_{0}^{\min}"
latex_definitions["B_0^min"] = r"\min_{i,\,s_{<i}} B_{0}^{(i)}(s_{<i})"
