"""One adapter per symbolic-regression tool, all with the same interface.

``Tool.fit(X_train, y_train, budget, seed)`` runs the tool for about
``budget`` seconds and returns its formula as a SymPy expression over
``x0 .. x{n-1}``; :func:`predict` evaluates any such formula, so every tool is
scored through the formula it reports, not through its own ``predict``.
A tool with ``uses_units`` also gets the problem's physical units
(``units=(X_units, y_units)``, ``None`` where the suite has none).
``Tool.missing()`` says why a tool cannot run here (``None`` when it can).
A tool that says whether its formula is exact (nalu_sr's ``exact_``) returns
a :class:`Fitted` instead; :func:`as_fitted` reads either.

Budgets: nalu_sr and pyoperon take a time limit; gplearn has none, so it is
grown one generation at a time (``warm_start``) while the next one still fits
in the budget; FFX has no budget control at all and runs to completion (its
time is recorded). The runner enforces a hard limit on top of all of them.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy

from benchmarks.sr.parsers import (
    feature_symbols,
    parse_ffx,
    parse_gplearn,
    parse_operon,
    rename_symbols,
)


class Fitted(NamedTuple):
    """A tool's formula and, when the tool says so, whether it claims it exact."""

    expression: sympy.Expr
    claims_exact: bool | None = None


FitFunction = Callable[..., "sympy.Expr | Fitted"]


def as_fitted(result: sympy.Expr | Fitted) -> Fitted:
    """A tool's return value as a :class:`Fitted` (a bare formula claims nothing)."""
    if isinstance(result, Fitted):
        return result
    return Fitted(sympy.sympify(result))


@dataclass(frozen=True)
class Tool:
    """A named adapter: ``fit`` returns a formula; ``modules`` it imports.

    ``requirement`` is an extra check beyond importable modules; it returns
    why the tool cannot run, or ``None``.
    """

    name: str
    fit: FitFunction
    modules: tuple[str, ...] = ()
    requirement: Callable[[], str | None] | None = None
    uses_units: bool = False
    """``fit`` takes the problem's units as ``units=(X_units, y_units)``."""
    default: bool = True
    """Run when no tools are named."""

    def missing(self) -> str | None:
        """Why this tool cannot run here, or ``None`` when it can."""
        if self.requirement is not None and (reason := self.requirement()):
            return reason
        absent = [m for m in self.modules if importlib.util.find_spec(m) is None]
        return f"not installed: {', '.join(absent)}" if absent else None

    def preload(self) -> None:
        """Import the tool's modules, so that import time is not fit time."""
        for module in self.modules:
            importlib.import_module(module)


def predict(expr: sympy.Expr, X: np.ndarray) -> np.ndarray:
    """Evaluate a formula over ``x0 .. x{n-1}`` on the rows of ``X``.

    Complex values (e.g. the square root of a negative) and failures become
    NaN, so that a bad formula scores badly instead of stopping the run.
    """
    X = np.asarray(X, dtype=float)
    try:
        function = sympy.lambdify(feature_symbols(X.shape[1]), expr, "numpy")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.asarray(function(*X.T))
    except Exception:
        return np.full(len(X), np.nan)
    if np.iscomplexobj(values):
        values = np.where(np.abs(values.imag) > 0, np.nan, values.real)
    return np.broadcast_to(values.astype(float), (len(X),)).copy()


def fit_nalu_sr(
    X: np.ndarray,
    y: np.ndarray,
    budget: float,
    seed: int,
    units: tuple[tuple[str, ...], str] | None = None,
) -> Fitted:
    """NALURegressor with default settings and ``max_time=budget``, with ``exact_``.

    With ``units`` (the ``nalu_sr_units`` tool) it is given the variables'
    SI units as ``X_units`` and ``y_units``.
    """
    from nalu_sr import NALURegressor

    model = NALURegressor(max_time=budget, random_state=seed)
    if units is None:
        model.fit(X, y)
    else:
        model.fit(X, y, X_units=list(units[0]), y_units=units[1])
    return Fitted(rename_symbols(model.expression_, X.shape[1]), bool(model.exact_))


#: gplearn's operators here (as the brief of this benchmark asks).
GPLEARN_OPERATORS = (
    "add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", "neg", "inv",
)  # fmt: skip
#: SRBench 2021's gplearn settings, apart from the generations (set by budget).
GPLEARN_SETTINGS = {
    "population_size": 1000,
    "tournament_size": 20,
    "init_depth": (2, 6),
    "init_method": "half and half",
    "metric": "mean absolute error",
    "parsimony_coefficient": 0.001,
    "p_crossover": 0.9,
    "p_subtree_mutation": 0.01,
    "p_hoist_mutation": 0.01,
    "p_point_mutation": 0.01,
    "p_point_replace": 0.05,
    "max_samples": 1.0,
}


def fit_gplearn(X: np.ndarray, y: np.ndarray, budget: float, seed: int) -> sympy.Expr:
    """gplearn, grown a generation at a time while the next one fits the budget."""
    from gplearn.genetic import SymbolicRegressor

    model = SymbolicRegressor(
        **GPLEARN_SETTINGS,
        function_set=GPLEARN_OPERATORS,
        generations=1,
        warm_start=True,
        n_jobs=1,
        random_state=seed,
    )
    started = time.perf_counter()
    model.fit(X, y)
    while not _gplearn_done(model, time.perf_counter() - started, budget):
        model.set_params(generations=model.generations + 1)
        model.fit(X, y)
    return parse_gplearn(str(model._program), X.shape[1])


def _gplearn_done(model: object, elapsed: float, budget: float) -> bool:
    """Stop when a perfect program is found or one more generation won't fit."""
    details = model.run_details_  # type: ignore[attr-defined]
    if details["best_fitness"][-1] <= model.stopping_criteria:  # type: ignore[attr-defined]
        return True
    per_generation = elapsed / len(details["generation"])
    return elapsed + per_generation > budget


#: Operon's symbols here (as the brief of this benchmark asks).
OPERON_SYMBOLS = "add,sub,mul,div,constant,variable,sin,cos,exp,log,sqrt"


def fit_pyoperon(X: np.ndarray, y: np.ndarray, budget: float, seed: int) -> sympy.Expr:
    """pyoperon's SymbolicRegressor with ``max_time`` (whole seconds, at least 1)."""
    from pyoperon.sklearn import SymbolicRegressor

    model = SymbolicRegressor(
        max_time=max(1, int(budget)),
        n_threads=1,
        random_state=seed,
        allowed_symbols=OPERON_SYMBOLS,
    )
    model.fit(X, y)
    return parse_operon(model.get_model_string(model.model_, 6), X.shape[1])


def fit_ffx(X: np.ndarray, y: np.ndarray, budget: float, seed: int) -> sympy.Expr:
    """FFX (deterministic, no budget control: ``budget`` and ``seed`` unused)."""
    import ffx

    model = ffx.FFXRegressor().fit(X, y)
    return parse_ffx(model.model_.str2(), X.shape[1])


def _julia_missing() -> str | None:
    return None if shutil.which("julia") else "no julia executable on PATH"


def fit_pysr(X: np.ndarray, y: np.ndarray, budget: float, seed: int) -> sympy.Expr:
    """PySR, serial and deterministic, stopped by ``timeout_in_seconds``."""
    from pysr import PySRRegressor

    model = PySRRegressor(
        binary_operators=["+", "-", "*", "/"],
        unary_operators=["sin", "cos", "exp", "log", "sqrt"],
        niterations=1_000_000,
        timeout_in_seconds=budget,
        parallelism="serial",
        deterministic=True,
        random_state=seed,
        progress=False,
        verbosity=0,
    )
    model.fit(X, y)
    return rename_symbols(model.sympy(), X.shape[1])


#: Every tool, by name, in report order.
TOOLS: dict[str, Tool] = {
    "nalu_sr": Tool("nalu_sr", fit_nalu_sr, ("nalu_sr",)),
    "nalu_sr_units": Tool(
        "nalu_sr_units",
        fit_nalu_sr,
        ("nalu_sr",),
        uses_units=True,
        default=False,
    ),
    "gplearn": Tool("gplearn", fit_gplearn, ("gplearn.genetic",)),
    "pyoperon": Tool("pyoperon", fit_pyoperon, ("pyoperon.sklearn",)),
    "ffx": Tool("ffx", fit_ffx, ("six", "ffx")),
    "pysr": Tool("pysr", fit_pysr, ("pysr",), _julia_missing),
}
