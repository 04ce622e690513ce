"""Run one (tool, problem, noise, seed) task and turn it into a result row.

A task builds its data with the protocol, fits the tool under a hard time
limit, scores the reported formula on the test and extrapolation rows, and
asks the judge whether it is a symbolic solution. A tool that raises or runs
past the hard limit gives a failure row with its error message; the run goes
on.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from benchmarks.sr.judge import complexity, judge
from benchmarks.sr.limits import TimeLimitExceeded, time_limit
from benchmarks.sr.problems import Problem
from benchmarks.sr.protocol import Dataset, make_dataset
from benchmarks.sr.tools import TOOLS, Fitted, as_fitted, predict

#: Columns that identify a task in the result file.
KEY_FIELDS = ("suite", "tool", "problem", "noise", "seed", "budget", "rows")
#: Every column of the result file, in order.
FIELDS = (
    *KEY_FIELDS,
    "solved",
    "claimed_exact",
    "judge_note",
    "r2_test",
    "r2_extrapolation",
    "accurate",
    "seconds",
    "complexity",
    "model",
    "error",
    "n_train",
    "n_test",
    "n_extrapolation",
    "extrapolation_dropped",
)
#: Longest model string stored (bloated GP trees can be huge).
MAX_MODEL_CHARS = 4000
#: Test R^2 above which a model counts as accurate (SRBench's accuracy solution).
ACCURATE_R2 = 0.999


@dataclass(frozen=True, eq=False)
class Task:
    """One unit of work: ``tool`` on ``problem`` at ``noise`` and ``seed``.

    ``hard_limit`` bounds the fit (seconds), ``simplify_timeout`` the judge.
    """

    suite: str
    tool: str
    problem: Problem
    noise: float
    seed: int
    budget: float
    rows: int
    hard_limit: float
    simplify_timeout: float

    def key(self) -> dict[str, Any]:
        """The key fields of this task's result row."""
        return {
            "suite": self.suite,
            "tool": self.tool,
            "problem": self.problem.name,
            "noise": float(self.noise),
            "seed": int(self.seed),
            "budget": float(self.budget),
            "rows": int(self.rows),
        }


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """R^2 of predictions; ``-inf`` when any prediction is not finite."""
    if not np.all(np.isfinite(y_pred)):
        return -math.inf
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    residual = float(np.sum((y_true - y_pred) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else -math.inf
    return 1.0 - residual / total


def first_line(error: BaseException, limit: int = 200) -> str:
    """``Type: first line of the message``, truncated to ``limit`` characters."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return text[:limit]


def _prepare(task: Task) -> None:
    """Imports and thread settings, done before the clock starts."""
    import torch

    # Workers share the cores with each other: one thread each.
    torch.set_num_threads(1)
    TOOLS[task.tool].preload()


def _fit(task: Task, data: Dataset) -> Fitted:
    """The tool's formula, quietly, with one BLAS thread, under the hard limit."""
    from threadpoolctl import threadpool_limits

    with (
        time_limit(task.hard_limit),
        threadpool_limits(limits=1),
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
    ):
        warnings.simplefilter("ignore")
        tool = TOOLS[task.tool]
        options = {"units": task.problem.units} if tool.uses_units else {}
        found = tool.fit(data.X_train, data.y_train, task.budget, task.seed, **options)
        return as_fitted(found)


def _data_fields(data: Dataset) -> dict[str, Any]:
    return {
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "n_extrapolation": len(data.y_extrapolation),
        "extrapolation_dropped": data.dropped,
    }


def _failure(task: Task, data: Dataset, seconds: float, error: BaseException) -> dict:
    return {
        **task.key(),
        **_data_fields(data),
        "solved": False,
        "claimed_exact": "",
        "judge_note": "tool failed",
        "r2_test": math.nan,
        "r2_extrapolation": math.nan,
        "accurate": False,
        "seconds": round(seconds, 3),
        "complexity": "",
        "model": "",
        "error": first_line(error),
    }


def _verdict(task: Task, expr: sympy.Expr, r2_test: float) -> tuple[bool, str]:
    """The judge's decision and note; a SymPy error is the judge's, not the tool's."""
    problem = task.problem
    try:
        verdict = judge(
            expr,
            problem.truth,
            problem.symbols,
            problem.ranges,
            r2_test,
            timeout=task.simplify_timeout,
        )
    except Exception as error:
        return False, f"judge error: {first_line(error, 120)}"
    return verdict.solved, verdict.note


def _complexity(expr: sympy.Expr) -> int | str:
    try:
        return complexity(expr)
    except Exception:  # left blank rather than losing the row
        return ""


def _score(task: Task, data: Dataset, fitted: Fitted, seconds: float) -> dict:
    """The result row of a formula: R^2, the judge's verdict, complexity."""
    expr = fitted.expression
    r2_test = r2_score(data.y_test, predict(expr, data.X_test))
    r2_far = (
        r2_score(data.y_extrapolation, predict(expr, data.X_extrapolation))
        if len(data.y_extrapolation) > 1
        else math.nan
    )
    solved, note = _verdict(task, expr, r2_test)
    return {
        **task.key(),
        **_data_fields(data),
        "solved": solved,
        "claimed_exact": "" if fitted.claims_exact is None else fitted.claims_exact,
        "judge_note": note,
        "r2_test": r2_test,
        "r2_extrapolation": r2_far,
        "accurate": r2_test > ACCURATE_R2,
        "seconds": round(seconds, 3),
        "complexity": _complexity(expr),
        "model": str(expr)[:MAX_MODEL_CHARS],
        "error": "",
    }


def run_task(task: Task) -> dict[str, Any]:
    """Fit, score and judge one task; failures become rows, not exceptions."""
    data = make_dataset(task.problem, task.noise, task.seed, task.rows)
    started = time.perf_counter()
    try:
        _prepare(task)
        started = time.perf_counter()
        fitted = _fit(task, data)
    except (Exception, TimeLimitExceeded) as error:
        row = _failure(task, data, time.perf_counter() - started, error)
    else:
        seconds = time.perf_counter() - started
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row = _score(task, data, fitted, seconds)
    return {field: row[field] for field in FIELDS}
