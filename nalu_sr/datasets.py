"""Tiny synthetic problems with known formulas, for demos, docs and tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy
from sklearn.utils import check_random_state


@dataclass(frozen=True)
class Problem:
    """A regression problem generated from a known formula.

    Attributes
    ----------
    name : str
        Short identifier.
    formula : sympy.Expr
        The ground truth over the symbols ``x0, x1, ...``.
    X : numpy.ndarray
        Inputs of shape ``(n_samples, n_features)``.
    y : numpy.ndarray
        Targets of shape ``(n_samples,)``.
    """

    name: str
    formula: sympy.Expr
    X: np.ndarray
    y: np.ndarray


def make_problem(
    formula: str,
    n_features: int | None = None,
    *,
    n_samples: int = 1000,
    low: float = 1.0,
    high: float = 5.0,
    random_state: int | np.random.RandomState | None = None,
) -> Problem:
    """Sample inputs uniformly and evaluate ``formula`` on them.

    Parameters
    ----------
    formula : str
        A SymPy-parsable formula over ``x0, x1, ...``, for example
        ``"(x0 + x1) * x2"``.
    n_features : int or None, default=None
        Number of input columns; ``None`` uses the highest index in the formula.
    n_samples : int, default=1000
        Number of rows.
    low, high : float, default=1.0, 5.0
        Inputs are drawn from U(low, high).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the inputs.

    Returns
    -------
    Problem
        The formula and its data.

    Examples
    --------
    >>> problem = make_problem("x0 * x1", n_samples=4, random_state=0)
    >>> problem.X.shape, problem.y.shape
    ((4, 2), (4,))
    """
    symbols = sympy.symbols("x0:32", real=True)
    namespace = {str(s): s for s in symbols}
    expression = sympy.sympify(formula, locals=namespace)
    used = sorted(int(str(s)[1:]) for s in expression.free_symbols)
    n_features = (used[-1] + 1 if used else 1) if n_features is None else n_features
    rng = check_random_state(random_state)
    X = rng.uniform(low, high, size=(n_samples, n_features))
    function = sympy.lambdify(symbols[:n_features], expression, modules="numpy")
    y = np.broadcast_to(np.asarray(function(*X.T), dtype=np.float64), (n_samples,))
    return Problem(formula, expression, X, y.copy())
