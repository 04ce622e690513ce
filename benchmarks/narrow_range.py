"""False ``exact_`` claims on smooth functions over narrow ranges.

A smooth function on a narrow range is close to many short formulas (a
Taylor series, an exponential with a fitted rate); before the precision
floor and the extrapolation check, such approximations were called exact.
This suite fits hyperbolic functions, logarithms, products with exponentials
and rational bumps on ``[-1, 1]`` and ``[0, 0.5]`` with a default
``NALURegressor`` and checks every ``exact_`` claim far outside the range
(``[-3, 3]`` and ``[0, 2]``): a claim is false when the formula misses the
truth there by a relative RMS error above 1e-6::

    python -m benchmarks run narrow-range --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sympy

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    ResultStore,
    format_rate,
    markdown_table,
    parallel_map,
    progress,
    report_header,
    write_report,
)

DESCRIPTION = "false exact_ claims on smooth functions over narrow ranges"

x0, x1 = sympy.symbols("x0 x1", real=True)
#: The laws, by name. Some are in the search's reach (a true claim is
#: welcome), most only have approximations there.
LAWS: dict[str, sympy.Expr] = {
    "cosh": sympy.cosh(x0),
    "sinh": sympy.sinh(x0),
    "tanh": sympy.tanh(x0),
    "asinh": sympy.asinh(x0),
    "atan": sympy.atan(x0),
    "log(x+2)": sympy.log(x0 + 2),
    "log(1+x^2)": sympy.log(1 + x0**2),
    "x*exp(x)": x0 * sympy.exp(x0),
    "exp(x)*sin(x)": sympy.exp(x0) * sympy.sin(x0),
    "exp(-x)*cos(x)": sympy.exp(-x0) * sympy.cos(x0),
    "gauss": sympy.exp(-(x0**2)),
    "bump 1/(1+x^2)": 1 / (1 + x0**2),
    "runge 1/(1+4x^2)": 1 / (1 + 4 * x0**2),
    "x/(1+x^2)": x0 / (1 + x0**2),
    "sqrt(1+x^2)": sympy.sqrt(1 + x0**2),
    "exp(x)/(1+x^2)": sympy.exp(x0) / (1 + x0**2),
    "cosh(x0)*x1": sympy.cosh(x0) * x1,
    "exp(x0*x1)": sympy.exp(x0 * x1),
}
#: Training range -> the far range the claims are checked on.
RANGES: dict[tuple[float, float], tuple[float, float]] = {
    (-1.0, 1.0): (-3.0, 3.0),
    (0.0, 0.5): (0.0, 2.0),
}
#: A claimed law off the truth by more than this far away is a false claim.
FALSE_CLAIM_ERROR = 1e-6
N_ROWS = 200
KEY_FIELDS = ("law", "low", "high", "seed", "max_time")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the narrow-range suite."""
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 (2)")
    parser.add_argument("--max-time", type=float, default=10.0, help="fit max_time")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these laws")


def sample(law: sympy.Expr, low: float, high: float, n_rows: int, seed: int) -> tuple:
    """Rows of ``law`` with every input drawn from ``U(low, high)``.

    Parameters
    ----------
    law : sympy.Expr
        Over ``x0`` (and ``x1``).
    low, high : float
        The range.
    n_rows, seed : int
        Rows and their seed.

    Returns
    -------
    X : numpy.ndarray of shape (n_rows, n_inputs)
    y : numpy.ndarray of shape (n_rows,)
    """
    symbols = sorted(law.free_symbols, key=str)
    X = np.random.default_rng(seed).uniform(low, high, size=(n_rows, len(symbols)))
    y = sympy.lambdify(symbols, law, "numpy")(*X.T)
    return X, np.broadcast_to(np.asarray(y, dtype=float), (n_rows,)).copy()


def far_error(found: sympy.Expr, law: sympy.Expr, far: tuple[float, float]) -> float:
    """Relative RMS error of ``found`` against ``law`` on the far range.

    Parameters
    ----------
    found, law : sympy.Expr
        The fitted formula and the truth, over the same symbols.
    far : (float, float)
        The range both are compared on (rows where either is not finite are
        dropped).

    Returns
    -------
    float
        ``rms(found - law) / rms(law)``; infinity when no row is finite.
    """
    symbols = sorted(law.free_symbols, key=str)
    X, truth = sample(law, *far, 2000, 12345)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = sympy.lambdify(symbols, found, "numpy")(*X.T)
        values = np.broadcast_to(np.asarray(values, dtype=complex), truth.shape)
    ok = np.isfinite(truth) & np.isfinite(values) & (np.abs(values.imag) == 0)
    if not ok.any():
        return float("inf")
    miss = values.real[ok] - truth[ok]
    return float(np.sqrt(np.mean(miss**2)) / np.sqrt(np.mean(truth[ok] ** 2)))


def fit_one(task: tuple[str, float, float, int, float]) -> dict[str, Any]:
    """Fit one law on one range and check the claim far away.

    Parameters
    ----------
    task : tuple
        ``(law name, low, high, seed, max_time)``.

    Returns
    -------
    dict
        The result row.
    """
    import torch

    from nalu_sr import NALURegressor

    name, low, high, seed, max_time = task
    law = LAWS[name]
    X, y = sample(law, low, high, N_ROWS, seed)
    torch.set_num_threads(1)  # the fits share the cores
    model = NALURegressor(max_time=max_time, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    symbols = sorted(law.free_symbols, key=str)
    found = model.expression_.xreplace(
        {s: symbols[i] for i, s in enumerate(model.feature_symbols_)}
    )
    error = far_error(found, law, RANGES[(low, high)])
    return {
        "law": name, "low": low, "high": high, "seed": seed, "max_time": max_time,
        "exact": bool(model.exact_), "far_error": error,
        "false_claim": bool(model.exact_) and not error <= FALSE_CLAIM_ERROR,
        "loss": model.loss_, "floor": model.precision_floor_,
        "expression": str(model.expression_)[:300],
    }  # fmt: skip


def _true(value: Any) -> bool:
    return value is True or value == "True"


def report(rows: list[dict[str, Any]]) -> str:
    """The summary per range and every exact claim, as markdown.

    Parameters
    ----------
    rows : list of dict
        Result rows (as :func:`fit_one` makes them, or read back as text).

    Returns
    -------
    str
    """
    table = []
    for low, high in RANGES:
        mine = [r for r in rows if float(r["low"]) == low and float(r["high"]) == high]
        claims = [r for r in mine if _true(r["exact"])]
        table.append([f"[{low:g}, {high:g}]", len(mine), len(claims),
                      sum(_true(r["false_claim"]) for r in mine),
                      format_rate(sum(float(r["far_error"]) < 1e-3 for r in mine),
                                  len(mine))])  # fmt: skip
    headers = ["range", "fits", "exact_ claims", "false claims",
               "far error < 1e-3"]  # fmt: skip
    listed = "".join(
        f"- {r['law']} on [{float(r['low']):g}, {float(r['high']):g}], seed "
        f"{r['seed']}: `{r['expression']}` (far error {float(r['far_error']):.2g})"
        f"{' **false**' if _true(r['false_claim']) else ''}\n"
        for r in rows if _true(r["exact"])
    )  # fmt: skip
    return (f"{markdown_table(headers, table)}\n\nExact claims:\n\n"
            f"{listed or 'None.'}\n")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Fit the missing cases, print and write the report; 1 on a false claim."""
    names = args.only or list(LAWS)
    unknown = sorted(set(names) - set(LAWS))
    if unknown:
        raise SystemExit(f"unknown laws: {', '.join(unknown)}")
    seeds = 1 if args.quick else args.seeds
    tasks = [(name, low, high, seed, args.max_time) for name in names
             for low, high in RANGES for seed in range(seeds)]  # fmt: skip
    output = Path(args.output)
    store = ResultStore(output / "narrow-range.csv", KEY_FIELDS)
    missing = [
        t for t in tasks if not store.is_done(dict(zip(KEY_FIELDS, t, strict=True)))
    ]
    results = parallel_map(fit_one, missing, args.jobs or 1)
    for row in progress(results, len(missing), "narrow-range"):
        store.append(row)
    wanted = {tuple(str(v) for v in t) for t in tasks}
    rows = [r for r in store.rows() if tuple(r[f] for f in KEY_FIELDS) in wanted]
    text = report(rows)
    print(text)
    header = report_header("False exact_ claims on narrow ranges") + (
        f"- Protocol: {N_ROWS} noise-free rows, inputs U(low, high), default "
        f"`NALURegressor(max_time={args.max_time:g}, random_state=seed)`; a claim is "
        f"false when the formula's relative RMS error on the far range is above "
        f"{FALSE_CLAIM_ERROR:g}.\n\n"
    )
    write_report(output / "narrow-range.md", header + text)
    return 1 if any(_true(r["false_claim"]) for r in rows) else 0
