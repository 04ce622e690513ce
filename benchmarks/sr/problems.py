"""Ground-truth problems: our arithmetic suite, AI Feynman and Strogatz.

A :class:`Problem` holds the true formula over named SymPy symbols, the range
each variable is sampled from (or, for Strogatz, fixed data rows) and nothing
else: sampling, splitting and noise are the protocol's job
(:mod:`benchmarks.sr.protocol`).

Formulas are always parsed with an explicit ``local_dict`` of symbols, never
with a bare ``sympify``: Feynman variables named ``gamma``, ``beta`` or ``I``
would otherwise become the gamma function, the beta function or the imaginary
unit.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy
from sympy.parsing.sympy_parser import parse_expr

from benchmarks._common import shared_benchmarks_dir

#: The suites this module can load.
SUITES = ("arithmetic", "functions", "law-classes", "feynman", "strogatz")
#: Sampling range of every variable of the arithmetic suite.
ARITHMETIC_RANGE = (1.0, 5.0)
#: SI units of every Feynman variable and target (written for this project
#: from the physics of each formula, as AI Feynman's ``units.csv`` does;
#: ``tests/benchmarks`` checks every formula's dimension against it).
FEYNMAN_UNITS = Path(__file__).with_name("feynman_units.csv")
#: The arcsin/arccos problems SRBench 2021 dropped from its Feynman set.
SRBENCH_DROPPED = frozenset({"I.26.2", "I.30.5", "test_10"})
#: In the AI Feynman table but not in PMLB, so never run by SRBench 2021.
NOT_IN_PMLB = frozenset({"II.11.17"})

_x = sympy.symbols("x0:4", real=True)
_q1, _q2, _eps, _r = sympy.symbols("q1 q2 eps r", real=True)

#: The arithmetic suite: name -> (formula, its symbols in column order).
#: Symbols are only declared real, so that mixed-sign ranges stay valid.
ARITHMETIC_FORMULAS: dict[str, tuple[sympy.Expr, tuple[sympy.Symbol, ...]]] = {
    "x0+x1": (_x[0] + _x[1], _x[:2]),
    "x0-x1": (_x[0] - _x[1], _x[:2]),
    "x0*x1": (_x[0] * _x[1], _x[:2]),
    "x0/x1": (_x[0] / _x[1], _x[:2]),
    "x0**2": (_x[0] ** 2, _x[:1]),
    "sqrt(x0)": (sympy.sqrt(_x[0]), _x[:1]),
    "x0*x1+x2": (_x[0] * _x[1] + _x[2], _x[:3]),
    "x0*x1/x2": (_x[0] * _x[1] / _x[2], _x[:3]),
    "(x0+x1)*x2": ((_x[0] + _x[1]) * _x[2], _x[:3]),
    "x0**2*x1/2": (_x[0] ** 2 * _x[1] / 2, _x[:2]),
    "3*x0-2*x1": (3 * _x[0] - 2 * _x[1], _x[:2]),
    "x0*x1-x2*x3": (_x[0] * _x[1] - _x[2] * _x[3], _x[:4]),
    "x0/(x1+x2)": (_x[0] / (_x[1] + _x[2]), _x[:3]),
    "q1*q2/(4*pi*eps*r**2)": (
        _q1 * _q2 / (4 * sympy.pi * _eps * _r**2),
        (_q1, _q2, _eps, _r),
    ),
}


@dataclass(frozen=True, eq=False)
class Problem:
    """One ground-truth problem.

    Attributes
    ----------
    name, suite : str
        Identifiers, e.g. ``"I.6.2a"`` in ``"feynman"``.
    truth : sympy.Expr
        The true formula over ``symbols``.
    symbols : tuple of sympy.Symbol
        The input variables, in column order (real; positive or nonnegative
        when their range is).
    ranges : tuple of (low, high)
        Sampling range of each variable (for fixed data: the observed range).
    X, y : ndarray or None
        Fixed data rows (Strogatz); ``None`` when rows are sampled.
    units : ((str, ...), str) or None
        SI unit of each variable and of the target (Feynman, from
        :data:`FEYNMAN_UNITS`); ``None`` where the suite has none.
    """

    name: str
    suite: str
    truth: sympy.Expr
    symbols: tuple[sympy.Symbol, ...]
    ranges: tuple[tuple[float, float], ...]
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    units: tuple[tuple[str, ...], str] | None = None

    @property
    def n_features(self) -> int:
        """Number of input variables."""
        return len(self.symbols)

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """The true formula on the rows of ``X`` (NaN where it is undefined)."""
        function = sympy.lambdify(self.symbols, self.truth, "numpy")
        with np.errstate(all="ignore"):
            values = np.asarray(function(*np.asarray(X, dtype=float).T))
        if np.iscomplexobj(values):
            values = np.where(np.abs(values.imag) > 0, np.nan, values.real)
        return np.broadcast_to(values.astype(float), (len(X),)).copy()


def declare_symbols(
    names: Sequence[str], ranges: Sequence[tuple[float, float]]
) -> dict[str, sympy.Symbol]:
    """Real symbols named ``names``: positive (nonnegative) on positive ranges.

    The assumptions let SymPy simplify ``sqrt(x**2)`` or ``log(x*y)`` when it
    judges a model, exactly as far as the sampled data justify.
    """
    symbols = {}
    for name, (low, _high) in zip(names, ranges, strict=True):
        symbols[name] = sympy.Symbol(
            name, real=True, positive=low > 0 or None, nonnegative=low >= 0 or None
        )
    return symbols


def parse_formula(formula: str, symbols: dict[str, sympy.Symbol]) -> sympy.Expr:
    """Parse ``formula`` with ``symbols`` as its only free variables."""
    expr = parse_expr(formula, local_dict=dict(symbols))
    unknown = sorted(map(str, expr.free_symbols - set(symbols.values())))
    if unknown:
        raise ValueError(f"{formula!r} uses undeclared names {unknown}")
    return expr


#: The function suite (issue 10): laws with exp, log, sin, cos, sqrt and tanh,
#: written over x0..x3, every variable sampled from U(1, 5).
FUNCTION_FORMULAS: tuple[str, ...] = (
    "sin(x0)*x1",
    "exp(-x0/x1)",
    "x0*exp(-x1)",
    "cos(x0) + x1**2",
    "sqrt(x0**2 + x1**2)",
    "log(x0*x1)",
    "exp(-x0**2/2)/sqrt(2*pi)",
    "x0*sin(x1*x2)",
    "tanh(x0/x1)",
    "1/(exp(x0/x1) - 1)",
    "x0*cos(x1) + x2",
    "x1*(1 - cos(x0))",
    "x0**2*sin(x1)/x2",
    "exp(x0) - x1**2",
    "log(x0)/x1",
    "sqrt(x0)*sin(x1)",
    "1/(1 + exp(x1 - x0))",
    "x0*exp(-x1/x2)",
    "sin(x0) + cos(x1)",
    "x0*x1*cos(x2/2)",
    "sqrt((x0 - x1)**2 + (x2 - x3)**2)",
    "x0*exp(-(x1 - x2)**2/2)",
)


def function_problems() -> list[Problem]:
    """The 22 laws with functions, every variable sampled from U(1, 5)."""
    problems = []
    for formula in FUNCTION_FORMULAS:
        names = [f"x{i}" for i in range(4) if f"x{i}" in formula]
        ranges = (ARITHMETIC_RANGE,) * len(names)
        symbols = declare_symbols(names, ranges)
        problems.append(
            Problem(
                name=formula.replace(" ", ""),
                suite="functions",
                truth=parse_formula(formula, symbols),
                symbols=tuple(symbols.values()),
                ranges=ranges,
            )
        )
    return problems


#: The law classes of issue 18 that one function per term does not reach:
#: class -> laws of our own (not formulas from the literature). Each law is
#: run on every range of :data:`LAW_CLASS_RANGES` its domain allows.
LAW_CLASSES: dict[str, tuple[str, ...]] = {
    "product": (
        "sin(2*x0)*exp(x1/2)",
        "cos(x0)*log(x1 + 3)",
        "exp(-x0)*sin(3*x0)",
        "x0*tanh(x1)*cos(x1)",
    ),
    "nested": (
        "exp(sin(x0))",
        "log(exp(x0) + 1)",
        "sin(exp(x0/2))",
        "sqrt(exp(x0) + x1**2)",
    ),
    "sum": (
        "sin(x0**2) + cos(x0 + x1)",
        "exp(-x0**2) + log(x1**2 + 1)",
        "sin(x0) + cos(2*x1) + x0*x1",
        "2*cos(x0*x1) - sin(x0 - x1**2)",
    ),
    "hyperbolic": (
        "sinh(x0) + x1",
        "x1*cosh(x0/2)",
        "asinh(2*x0)",
        "sinh(x0)/cosh(x1)",
    ),
    "wide-sum": (
        "sqrt(x0**2 + 2*x1**2 + x2**2)",
        "sin(x0 + 2*x1 - x2)",
        "exp(-(x0 + x1 + x2 + x3)/4)",
        "1/sqrt(1 + x0**2 + x1**2 + x2**2 + x3**2)",
    ),
}
#: Two ranges per law: one positive, one holding negatives and zero.
LAW_CLASS_RANGES: dict[str, tuple[float, float]] = {
    "positive": (0.5, 3.0),
    "signed": (-2.0, 2.0),
}


def law_class_problems() -> list[Problem]:
    """Every law of :data:`LAW_CLASSES` on each of :data:`LAW_CLASS_RANGES`.

    Named ``class:law@range``; every variable of a problem shares its range.
    """
    problems = []
    for law_class, formulas in LAW_CLASSES.items():
        for formula in formulas:
            names = [f"x{i}" for i in range(4) if f"x{i}" in formula]
            for range_name, bounds in LAW_CLASS_RANGES.items():
                ranges = (bounds,) * len(names)
                symbols = declare_symbols(names, ranges)
                problems.append(
                    Problem(
                        name=f"{law_class}:{formula.replace(' ', '')}@{range_name}",
                        suite="law-classes",
                        truth=parse_formula(formula, symbols),
                        symbols=tuple(symbols.values()),
                        ranges=ranges,
                    )
                )
    return problems


def arithmetic_problems() -> list[Problem]:
    """The 14 arithmetic formulas, every variable sampled from U(1, 5)."""
    problems = []
    for name, (truth, symbols) in ARITHMETIC_FORMULAS.items():
        ranges = (ARITHMETIC_RANGE,) * len(symbols)
        declared = declare_symbols([s.name for s in symbols], ranges)
        problems.append(
            Problem(
                name=name,
                suite="arithmetic",
                truth=truth.xreplace({s: declared[s.name] for s in symbols}),
                symbols=tuple(declared.values()),
                ranges=ranges,
            )
        )
    return problems


def _variables(row: dict[str, str]) -> tuple[list[str], list[tuple[float, float]]]:
    """Variable names and ranges from the ``v{i}_name/low/high`` columns."""
    count = int(row["n_vars"])
    names = [row[f"v{i}_name"] for i in range(1, count + 1)]
    ranges = [
        (float(row[f"v{i}_low"]), float(row[f"v{i}_high"])) for i in range(1, count + 1)
    ]
    return names, ranges


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def feynman_problems(
    folder: Path | None = None, srbench_only: bool = True
) -> list[Problem]:
    """The AI Feynman problems of ``feynman.csv``.

    With ``srbench_only`` (the default) the set is SRBench 2021's 116: without
    the arcsin/arccos problems it dropped and without II.11.17, which PMLB
    (SRBench's data source) does not have.
    """
    folder = folder or shared_benchmarks_dir()
    skip = SRBENCH_DROPPED | NOT_IN_PMLB if srbench_only else frozenset()
    units = feynman_units()
    problems = []
    for row in _read_csv(folder / "feynman.csv"):
        if row["name"] in skip:
            continue
        names, ranges = _variables(row)
        symbols = declare_symbols(names, ranges)
        problems.append(
            Problem(
                name=row["name"],
                suite="feynman",
                truth=parse_formula(row["formula"], symbols),
                symbols=tuple(symbols.values()),
                ranges=tuple(ranges),
                units=_problem_units(units, row["name"], names),
            )
        )
    return problems


def feynman_units(
    path: Path = FEYNMAN_UNITS,
) -> dict[str, dict[tuple[str, str], str]]:
    """The unit table: problem -> (role, variable) -> SI unit string.

    ``role`` is ``"input"`` or ``"target"``.
    """
    table: dict[str, dict[tuple[str, str], str]] = {}
    for row in _read_csv(path):
        entry = table.setdefault(row["problem"], {})
        entry[(row["role"], row["variable"])] = row["units"]
    return table


def _problem_units(
    table: dict[str, dict[tuple[str, str], str]], name: str, names: Sequence[str]
) -> tuple[tuple[str, ...], str] | None:
    """The units of one problem's variables and target, if the table has them."""
    entry = table.get(name)
    if entry is None:
        return None
    targets = [units for (role, _), units in entry.items() if role == "target"]
    return tuple(entry[("input", n)] for n in names), targets[0]


def strogatz_problems(folder: Path | None = None) -> list[Problem]:
    """The 14 Strogatz ODE right-hand sides with their fixed 400 data rows."""
    folder = folder or shared_benchmarks_dir()
    problems = []
    for row in _read_csv(folder / "strogatz.csv"):
        names, ranges = _variables(row)
        symbols = declare_symbols(names, ranges)
        X, y = _read_strogatz_data(folder / row["data_file"], names)
        problems.append(
            Problem(
                name=row["name"],
                suite="strogatz",
                truth=parse_formula(row["formula"], symbols),
                symbols=tuple(symbols.values()),
                ranges=tuple(ranges),
                X=X,
                y=y,
            )
        )
    return problems


def _read_strogatz_data(path: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``names`` and the target column ``label`` of a Strogatz data file."""
    rows = _read_csv(path)
    X = np.array([[float(row[name]) for name in names] for row in rows])
    y = np.array([float(row["label"]) for row in rows])
    return X, y


def missing_data(suite: str) -> Path | None:
    """The data file ``suite`` needs when it is absent, else ``None``."""
    needed = {"feynman": "feynman.csv", "strogatz": "strogatz.csv"}.get(suite)
    if needed is None:
        return None
    path = shared_benchmarks_dir() / needed
    return None if path.exists() else path


def load_problems(suite: str) -> list[Problem]:
    """Every problem of ``suite`` (one of :data:`SUITES`)."""
    loaders = {
        "arithmetic": arithmetic_problems,
        "functions": function_problems,
        "law-classes": law_class_problems,
        "feynman": feynman_problems,
        "strogatz": strogatz_problems,
    }
    if suite not in loaders:
        raise ValueError(f"unknown suite {suite!r}; choose from {SUITES}")
    return loaders[suite]()
