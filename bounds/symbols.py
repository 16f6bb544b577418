"""The sympy symbols shared by every statement, declared with their sympy assumptions.

Sympy assumptions describe the *generic* case (``positive=True`` lets sympy simplify square roots and limits); the
valid numeric domain of each parameter, which may include a boundary such as ``gamma = 0``, is stated in the
``domains`` mapping and enforced by the numeric functions.
"""

from __future__ import annotations

import sympy as sp

#: steering coefficient r_e (the paper's name); both signs are meaningful (THEORY §0)
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
    "lambda": "real; lambda >= 0 steers towards the aligned set, lambda < 0 towards the misaligned set (THEORY §0)",
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

#: LaTeX names for symbols whose plain names are chosen for readable plain-text output.
latex_names: dict[sp.Symbol, str] = {
    norm: r"\|\delta\|",
    P_ge: r"P_{\geq b}",
    P_lt: r"P_{<b}",
    S2: r"\sum_{b\neq a^*}P(b\mid q)^2",
}

# -- appended for Theorem 6 (corrected): the smallest unsteered per-step behavior over reachable aligned prefixes --
B0_min = sp.Symbol("B_0^min", real=True)
domains["B_0^min"] = "-1 < B_0^min <= 1: min over steps i and reachable aligned prefixes s_<i of B_0^(i)(s_<i)"
latex_names[B0_min] = r"\min_{i,s_{<i}}B_0^{(i)}(s_{<i})"
