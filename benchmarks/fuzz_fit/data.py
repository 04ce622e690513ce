"""A fuzz case's data: its columns, its law, its noise and its planted NaN."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.fuzz_fit.cases import RANGES, Case


def draw_column(rng: np.random.Generator, name: str, n_rows: int) -> np.ndarray:
    """One column drawn from distribution ``name`` of :data:`RANGES`.

    Parameters
    ----------
    rng : numpy.random.Generator
        The case's data generator.
    name : str
        A key of :data:`RANGES`.
    n_rows : int
        Rows.

    Returns
    -------
    numpy.ndarray of shape (n_rows,)
    """
    low, high, how = RANGES[name]
    if how == "integers":
        return rng.integers(int(low), int(high) + 1, n_rows).astype(np.float64)
    if how == "signed-log":
        signs = rng.choice([-1.0, 1.0], n_rows)
        return signs * 10.0 ** rng.uniform(low, high, n_rows)
    return rng.uniform(low, high, n_rows)


def evaluate_law(law: str, X: np.ndarray) -> np.ndarray:
    """The law on every row of ``X`` (NaN or infinity where it is not finite).

    Parameters
    ----------
    law : str
        A NumPy expression over ``x0 .. x{p-1}``, made by :func:`random_law`.
    X : numpy.ndarray of shape (n, p)
        Inputs.

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    names: dict[str, Any] = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    with np.errstate(all="ignore"):
        value = eval(law, {"np": np, "__builtins__": {}}, names)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (len(X),)).copy()


def add_noise(rng: np.random.Generator, y: np.ndarray, noise: float) -> np.ndarray:
    """``y`` plus Gaussian noise of ``noise`` times its root mean square.

    Parameters
    ----------
    rng : numpy.random.Generator
        The case's data generator.
    y : numpy.ndarray
        Finite targets.
    noise : float
        Relative noise level.

    Returns
    -------
    numpy.ndarray
        The noisy targets (``y`` itself when ``noise`` is 0 or ``y`` is empty).
    """
    if noise == 0 or len(y) == 0:
        return y
    peak = float(np.max(np.abs(y)))
    rms = peak * math.sqrt(float(np.mean((y / peak) ** 2))) if peak > 0 else 0.0
    return y + noise * rms * rng.standard_normal(len(y))


def make_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The case's ``X`` and ``y``; the same arrays every time.

    Parameters
    ----------
    case : Case
        The case.

    Returns
    -------
    X : numpy.ndarray of shape (n, case.n_features)
        Inputs; ``n`` is ``case.n_rows`` less the rows where the law is not
        finite (possibly 0).
    y : numpy.ndarray of shape (n,)
        Targets, with noise and the planted NaN or infinity, if any.
    """
    rng = np.random.default_rng(case.seed)
    X = np.column_stack([draw_column(rng, r, case.n_rows) for r in case.ranges])
    for op, column, value in case.degenerate:
        if op == "constant":
            X[:, column] = value
        elif op == "duplicate":
            X[:, column] = X[:, int(value)]
        else:
            X[:, column] = rng.integers(0, 2, case.n_rows)
    y = evaluate_law(case.law, X)
    finite = np.isfinite(y)
    X, y = X[finite], add_noise(rng, y[finite], case.noise)
    if case.corrupt and len(y):
        planted, where, row, column = case.corrupt
        if where == "X":
            X[row % len(y), column] = float(planted)
        else:
            y[row % len(y)] = float(planted)
    return X, y
