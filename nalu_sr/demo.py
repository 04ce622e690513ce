"""The built-in demo: recover ``(x0 + x1) * x2`` from 1,000 rows with NALURegressor."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sympy

from nalu_sr.datasets import make_problem
from nalu_sr.estimator import NALURegressor

DEMO_FORMULA = "(x0 + x1) * x2"


@dataclass(frozen=True)
class DemoResult:
    """Outcome of :func:`run_demo`.

    Attributes
    ----------
    truth : sympy.Expr
        The formula the data came from.
    found : sympy.Expr
        The formula ``NALURegressor`` returned.
    exact : bool
        Whether ``found`` equals ``truth`` symbolically.
    extrapolation_r2 : float
        R^2 of ``found`` on inputs from U(5, 25), outside the training range.
    seconds : float
        Wall time of the fit.
    """

    truth: sympy.Expr
    found: sympy.Expr
    exact: bool
    extrapolation_r2: float
    seconds: float


def run_demo(seed: int = 0) -> DemoResult:
    """Fit ``NALURegressor`` to ``(x0 + x1) * x2`` on U(1, 5) inputs.

    Parameters
    ----------
    seed : int, default=0
        Seed of the data and of the estimator.

    Returns
    -------
    DemoResult
        The true and the found formula, and how well the latter extrapolates.
    """
    train = make_problem(DEMO_FORMULA, n_samples=1000, random_state=seed)
    far = make_problem(DEMO_FORMULA, low=5.0, high=25.0, random_state=seed + 1)
    started = time.perf_counter()
    model = NALURegressor(random_state=seed).fit(train.X, train.y)
    seconds = time.perf_counter() - started
    truth = train.formula
    exact = sympy.simplify(model.expression_ - truth) == 0
    return DemoResult(
        truth, model.expression_, exact, float(model.score(far.X, far.y)), seconds
    )
