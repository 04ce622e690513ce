"""SRBench's symbolic-solution judge and model complexity.

A model is a symbolic solution when its test R^2 exceeds 0.5 and, after its
constants are rounded to 3 decimals (|c| < 1e-4 -> 0), ``truth - model`` or
``model / truth`` is a constant: right up to an additive or multiplicative
constant. A model that is the constant 0 or undefined (NaN, zoo) is never one.

As in SRBench, ``pi`` and ``E`` count as constants: both formulas get them
replaced by their values and rounded the same way, so a model with 3.14159 and
one with ``pi`` are judged alike. Rounded constants are then kept as exact
decimals (3.142 -> 1571/500), so that float round-off cannot leave a
``1e-17*x`` residue that makes a solution look non-constant, and ``x**2.0``
counts as ``x**2``.

``sympy.simplify`` can take minutes, so the judge tries cheap steps first:
a numerical test on random points rejects any model whose difference and
ratio both clearly vary; then ``expand``, ``cancel``, ``together``,
``trigsimp``, ``expand_log`` and ``powsimp``; only then the full ``simplify``,
under a time limit. A timeout counts as not solved and says so in the note.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from benchmarks.sr.limits import TimeLimitExceeded, time_limit

#: Constants are rounded to this many decimals.
DECIMALS = 3
#: Constants smaller than this in magnitude become 0.
ZERO_BELOW = 1e-4
#: Test R^2 a model needs before its formula is examined.
MIN_R2 = 0.5
#: Relative spread below which sampled values count as constant.
NUMERIC_TOLERANCE = 1e-6
#: Points used by the numerical test.
N_POINTS = 64

#: Cheap rewrites tried before the full simplify, in order.
CHEAP_STEPS: tuple[tuple[str, Callable[[sympy.Expr], sympy.Expr]], ...] = (
    ("as is", lambda e: e),
    ("expand", sympy.expand),
    ("cancel", sympy.cancel),
    ("together", sympy.together),
    ("trigsimp", sympy.trigsimp),
    ("expand_log", lambda e: sympy.expand_log(e, force=False)),
    ("powsimp", sympy.powsimp),
    # tanh(u/2)/2 + 1/2 is 1/(1 + exp(-u)): hyperbolic and exponential forms of
    # one law differ until both are written with exp.
    ("exp form", lambda e: sympy.simplify(e.rewrite(sympy.exp))),
)


@dataclass(frozen=True)
class Verdict:
    """The judge's decision: ``solved`` and a short note saying why."""

    solved: bool
    note: str


def _round_value(value: sympy.Float) -> sympy.Expr:
    number = float(value)
    if not math.isfinite(number):
        return value
    if abs(number) < ZERO_BELOW:
        return sympy.Integer(0)
    return sympy.Rational(repr(round(number, DECIMALS)))


def round_constants(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with ``pi``/``E`` as numbers and every float rounded, kept exact.

    Floats are rounded to :data:`DECIMALS` decimals (those below
    :data:`ZERO_BELOW` in magnitude become 0) and turned into exact decimals.
    """
    expr = sympy.sympify(expr)
    numbers = {c: sympy.Float(c.evalf(17)) for c in expr.atoms(sympy.NumberSymbol)}
    expr = expr.xreplace(numbers)
    return expr.xreplace({f: _round_value(f) for f in expr.atoms(sympy.Float)})


def complexity(expr: sympy.Expr) -> int:
    """Number of nodes of the expression tree of ``expr`` after rounding.

    The same count for every tool: ``preorder_traversal`` of the SymPy
    expression with its constants rounded by :func:`round_constants`.
    """
    return sum(1 for _ in sympy.preorder_traversal(round_constants(expr)))


def rename_to(model: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
    """Replace the model's ``x0, x1, ...`` by ``symbols`` (matched by name)."""
    by_name = {f"x{i}": symbol for i, symbol in enumerate(symbols)}
    return model.xreplace(
        {s: by_name[s.name] for s in model.free_symbols if s.name in by_name}
    )


def _evaluate(
    expr: sympy.Expr, symbols: Sequence[sympy.Symbol], points: np.ndarray
) -> np.ndarray | None:
    """``expr`` on ``points`` (NaN where undefined or complex); None if it fails."""
    try:
        function = sympy.lambdify(symbols, expr, "numpy")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.asarray(function(*points.T), dtype=complex)
    except Exception:
        return None
    values = np.broadcast_to(values, (len(points),))
    complex_part = np.abs(values.imag) > 1e-12 * np.abs(values.real)
    return np.where(complex_part, np.nan, values.real)


def _varies(values: np.ndarray | None, scale: float) -> bool:
    """Whether sampled values clearly differ (False when too few are finite)."""
    if values is None:
        return False
    finite = values[np.isfinite(values)]
    if len(finite) < 5:
        return False
    spread = float(finite.max() - finite.min())
    return spread > NUMERIC_TOLERANCE * max(scale, 1e-300)


def numerically_constant(
    truth: sympy.Expr,
    model: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    points: np.ndarray,
) -> dict[str, bool]:
    """Which of the difference and the ratio may be constant on ``points``."""
    truth_values = _evaluate(truth, symbols, points)
    model_values = _evaluate(model, symbols, points)
    if truth_values is None or model_values is None:
        return {"difference": True, "ratio": True}
    with np.errstate(all="ignore"):
        difference = truth_values - model_values
        ratio = model_values / truth_values
    scale = float(np.nanmean(np.abs(truth_values)) + np.nanmean(np.abs(model_values)))
    ratio_scale = float(np.nanmean(np.abs(ratio))) if np.isfinite(ratio).any() else 1.0
    return {
        "difference": not _varies(difference, scale),
        "ratio": not _varies(ratio, ratio_scale),
    }


def sample_points(
    ranges: Sequence[tuple[float, float]], n_points: int = N_POINTS
) -> np.ndarray:
    """Random points in the sampling ranges, for the numerical test."""
    rng = np.random.default_rng(12345)
    lows = np.array([low for low, _ in ranges])
    highs = np.array([high for _, high in ranges])
    return rng.uniform(lows, highs, size=(n_points, len(ranges)))


def _is_constant(expr: sympy.Expr) -> bool:
    return not expr.free_symbols and expr.is_finite is not False


def _solved(kind: str, constant: sympy.Expr, step: str) -> Verdict:
    if kind == "difference" and constant == 0:
        return Verdict(True, f"exact ({step})")
    try:
        value = f"{float(constant):.4g}"
    except (TypeError, ValueError):
        value = str(constant)[:40]
    return Verdict(True, f"{kind} is {value} ({step})")


def _candidates(
    truth: sympy.Expr, model: sympy.Expr, kinds: dict[str, bool]
) -> list[tuple[str, sympy.Expr]]:
    """The expressions to prove constant: difference and/or both ratios."""
    candidates = []
    if kinds["difference"]:
        candidates.append(("difference", truth - model))
    if kinds["ratio"]:
        candidates += [("ratio", model / truth), ("ratio", truth / model)]
    return candidates


def _symbolic(
    candidates: list[tuple[str, sympy.Expr]], timeout: float | None
) -> Verdict:
    """Cheap rewrites of every candidate, then the full simplify, within ``timeout``."""
    step = "cheap steps"
    try:
        with time_limit(timeout):
            for step, rewrite in CHEAP_STEPS:
                for kind, expr in candidates:
                    rewritten = rewrite(expr)
                    if _is_constant(rewritten):
                        return _solved(kind, rewritten, step)
            step = "simplify"
            for kind, expr in candidates:
                simplified = sympy.simplify(expr)
                if _is_constant(simplified):
                    return _solved(kind, simplified, step)
    except TimeLimitExceeded:
        return Verdict(False, f"numerically constant; {step} timed out")
    return Verdict(False, "numerically constant but not symbolically")


def judge(
    model: sympy.Expr,
    truth: sympy.Expr,
    symbols: Sequence[sympy.Symbol],
    ranges: Sequence[tuple[float, float]],
    r2_test: float,
    timeout: float | None = 30.0,
) -> Verdict:
    """Whether ``model`` (over ``x0, x1, ...``) is a symbolic solution of ``truth``.

    Parameters
    ----------
    model : sympy.Expr
        The tool's formula over symbols named ``x0 .. x{n-1}``.
    truth : sympy.Expr
        The true formula over ``symbols``.
    symbols : sequence of sympy.Symbol
        The problem's variables, in column order.
    ranges : sequence of (low, high)
        Where to draw points for the numerical test.
    r2_test : float
        The model's R^2 on the test rows.
    timeout : float or None
        Seconds allowed for the symbolic steps.
    """
    if not r2_test > MIN_R2:
        return Verdict(False, f"test R^2 <= {MIN_R2}")
    model = round_constants(rename_to(sympy.sympify(model), symbols))
    truth = round_constants(truth)
    if model == 0 or model.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return Verdict(False, "model is 0 or undefined after rounding")
    kinds = numerically_constant(truth, model, symbols, sample_points(ranges))
    if not any(kinds.values()):
        return Verdict(False, "difference and ratio vary")
    return _symbolic(_candidates(truth, model, kinds), timeout)
