"""nalu_sr as an SRBench method (``algorithms/nalu_sr/regressor.py``).

SRBench imports this module and uses ``est``, ``model``, ``complexity``,
``hyper_params`` and ``eval_kwargs``. It depends only on nalu_sr and SymPy, so
that the folder can be copied into SRBench's ``algorithms/`` as it is.
"""

from __future__ import annotations

from typing import Any

import sympy

from nalu_sr import NALURegressor

#: One search per fit, capped at an hour (SRBench 2025's fit limit; the 2021
#: ground-truth track allowed 8 h). Default search settings otherwise; SRBench
#: sets ``random_state`` per run.
est = NALURegressor(max_time=60 * 60, random_state=0)

#: No tuning grid: the default settings are the method.
hyper_params: list[dict[str, Any]] = []


def _feature_names(est: NALURegressor, X: Any) -> list[str]:
    """Column names of ``X`` when it has them, else those seen in ``fit``."""
    if hasattr(X, "columns"):
        return [str(column) for column in X.columns]
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        return [str(name) for name in names]
    return [symbol.name for symbol in est.feature_symbols_]


def model(est: NALURegressor, X: Any = None) -> str:
    """The fitted formula as a SymPy string over SRBench's feature names.

    nalu_sr renames features that clash with SymPy (``gamma`` -> ``gamma_``,
    ``I`` -> ``I_``); here they get their data names back, which SRBench parses
    with a dictionary of plain symbols.
    """
    names = _feature_names(est, X)
    plain = {
        symbol: sympy.Symbol(name)
        for symbol, name in zip(est.feature_symbols_, names, strict=True)
    }
    return str(est.expression_.xreplace(plain))


def complexity(est: NALURegressor) -> int:
    """Number of nodes of the formula's SymPy expression tree."""
    return sum(1 for _ in sympy.preorder_traversal(est.expression_))


def pre_train(est: NALURegressor, X: Any, y: Any) -> None:
    """Nothing to adapt to the data: the search sizes itself."""


#: Options for SRBench's ``evaluate_model``. Inputs and targets are left
#: unscaled: a formula in standardised units is not the ground-truth formula,
#: and arithmetic units extrapolate best on the data's own scale.
eval_kwargs: dict[str, Any] = {
    "scale_x": False,
    "scale_y": False,
    "pre_train": pre_train,
    "test_params": {"max_time": 10, "n_restarts": 1},
}
