"""The built-in demo: learn ``(x0 + x1) * x2`` with a NAU -> NMU stack."""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch

from nalu_sr.datasets import make_problem
from nalu_sr.model import StackedModel, compose_sympy
from nalu_sr.training import TrainConfig, train_module
from nalu_sr.units import NAU, NMU

DEMO_FORMULA = "(x0 + x1) * x2"


@dataclass(frozen=True)
class DemoResult:
    """Outcome of :func:`run_demo`.

    Attributes
    ----------
    truth : sympy.Expr
        The formula the data came from.
    found : sympy.Expr
        The formula read off the snapped network.
    exact : bool
        Whether ``found`` equals ``truth`` symbolically.
    restarts : int
        Number of training runs used.
    """

    truth: sympy.Expr
    found: sympy.Expr
    exact: bool
    restarts: int


def run_demo(seed: int = 0, max_restarts: int = 5) -> DemoResult:
    """Train NAU -> NMU stacks on ``(x0 + x1) * x2`` until one snaps exactly.

    Parameters
    ----------
    seed : int, default=0
        Seed of the data and of the initialisations.
    max_restarts : int, default=5
        Largest number of training runs.

    Returns
    -------
    DemoResult
        The true and the found formula.
    """
    problem = make_problem(DEMO_FORMULA, n_samples=512, random_state=seed)
    X = torch.tensor(problem.X, dtype=torch.float32)
    y = torch.tensor(problem.y, dtype=torch.float32).unsqueeze(1)
    symbols = sympy.symbols("x0:3", real=True)
    config = TrainConfig(max_iter=2000, learning_rate=0.02, penalty_weight=1.0)
    generator = torch.Generator().manual_seed(seed)
    found: sympy.Expr = sympy.nan
    for restart in range(1, max_restarts + 1):
        model = StackedModel(
            [NAU(3, 2, generator=generator), NMU(2, 1, generator=generator)]
        )
        train_module(model, X, y, config, generator)
        (found,) = compose_sympy(model.snap(X), symbols)
        if sympy.simplify(found - problem.formula) == 0:
            return DemoResult(problem.formula, found, True, restart)
    return DemoResult(problem.formula, found, False, max_restarts)
