"""The table of candidate formulas, ``NALURegressor.equations_``.

With pandas installed the table is a DataFrame (one row per candidate, the
candidate number as index), otherwise a list of dicts with the same keys. The
helpers here read either form, so the rest of the package never checks which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np

from nalu_sr.export.text import sympy_to_string
from nalu_sr.extraction.candidate import Candidate

#: Columns of ``equations_``, in order.
COLUMNS = (
    "complexity",
    "loss",
    "score",
    "equation",
    "sympy_format",
    "exact",
    "extrapolation_loss",
    "train_loss",
    "architecture",
    "width",
    "seed",
    "chosen",
)
#: Significant digits of an approximation's floats in the ``equation`` column
#: (a law's are printed in full; ``sympy_format`` always holds every digit).
APPROXIMATION_DIGITS = 6
#: Relative errors below the square of float64's epsilon are rounding noise;
#: scores and log-scale plots treat them as this value instead of 0.
LOSS_FLOOR = float(np.finfo(np.float64).eps) ** 2
# Pandas would turn a column of ints and None into floats with NaN.
_DTYPES = {
    "complexity": "int64",
    "loss": "float64",
    "score": "float64",
    "exact": "bool",
    "train_loss": "float64",
    "width": "int64",
    "chosen": "bool",
}


def pareto_scores(complexities: Sequence[int], losses: Sequence[float]) -> list[float]:
    """Score each candidate by its drop in log loss per extra node.

    The drop is measured from the best simpler candidate: among those of
    strictly lower complexity, the lowest loss (then the lowest complexity).
    That candidate is the point of the complexity-loss front just before this
    one, so on the front this is PySR's score. A candidate with no simpler one
    scores 0; one worse than a simpler one scores below 0.

    Parameters
    ----------
    complexities : sequence of int
        Complexity of each candidate.
    losses : sequence of float
        Relative validation error of each candidate, floored at
        :data:`LOSS_FLOOR`.

    Returns
    -------
    list of float
        One score per candidate.

    Examples
    --------
    >>> [round(s, 4) for s in pareto_scores([1, 3, 3, 5], [0.1, 1e-3, 1e-2, 1e-3])]
    [0.0, 2.3026, 1.1513, 0.0]
    """
    floored = [max(loss, LOSS_FLOOR) for loss in losses]
    scores = []
    for complexity, loss in zip(complexities, floored, strict=True):
        simpler = [
            (other_loss, other)
            for other, other_loss in zip(complexities, floored, strict=True)
            if other < complexity
        ]
        if not simpler:
            scores.append(0.0)
            continue
        best_loss, best_complexity = min(simpler)
        scores.append(
            (math.log(best_loss) - math.log(loss)) / (complexity - best_complexity)
        )
    return scores


def build_table(candidates: Sequence[Candidate], chosen: int) -> Any:
    """Tabulate candidates: a DataFrame with pandas, else a list of dicts.

    Parameters
    ----------
    candidates : sequence of Candidate
        The candidates, in the order of their candidate numbers.
    chosen : int
        Number of the chosen candidate.

    Returns
    -------
    pandas.DataFrame or list of dict
        One row per candidate with the keys in :data:`COLUMNS`.
    """
    scores = pareto_scores(
        [c.complexity for c in candidates], [c.validation_loss for c in candidates]
    )
    rows = [
        _row(candidate, number == chosen, score)
        for number, (candidate, score) in enumerate(
            zip(candidates, scores, strict=True)
        )
    ]
    try:
        import pandas as pd
    except ImportError:
        return rows
    columns = {name: [row[name] for row in rows] for name in COLUMNS}
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=_DTYPES.get(name, object))
            for name, values in columns.items()
        }
    )


def formula_text(expression: Any, exact: bool) -> str:
    """Return a formula as the table prints it: a law in full, else 6 digits.

    Parameters
    ----------
    expression : sympy.Expr
        The formula.
    exact : bool
        Whether it is a law; an approximation's floats are rounded to
        :data:`APPROXIMATION_DIGITS` significant digits.

    Returns
    -------
    str

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> formula_text(0.123456789 * x, exact=False), formula_text(0.5 * x, exact=True)
    ('0.123457*x', '0.5*x')
    """
    return sympy_to_string(expression, None if exact else APPROXIMATION_DIGITS)


def _row(candidate: Candidate, chosen: bool, score: float) -> dict[str, Any]:
    """One row of the table."""
    return {
        "complexity": candidate.complexity,
        "loss": candidate.validation_loss,
        "score": score,
        "equation": formula_text(candidate.expression, candidate.exact),
        "sympy_format": candidate.expression,
        "exact": candidate.exact,
        "extrapolation_loss": candidate.extrapolation_loss,
        "train_loss": candidate.train_loss,
        "architecture": candidate.architecture,
        "width": candidate.width,
        "seed": candidate.seed,
        "chosen": chosen,
    }


def table_rows(table: Any) -> list[dict[str, Any]]:
    """Return every row of a table, in either form, as plain dicts in order."""
    if isinstance(table, list):
        return [dict(row) for row in table]
    records: list[dict[str, Any]] = table.to_dict("records")
    return records


def table_cell(table: Any, index: Any, column: str) -> Any:
    """Return ``column`` of candidate number ``index`` (negative counts back).

    Raises
    ------
    TypeError
        If ``index`` is not an integer.
    IndexError
        If there is no candidate ``index``.
    """
    n_rows = len(table)
    if isinstance(index, bool) or not isinstance(index, Integral):
        raise TypeError(f"a candidate index must be an int, got {index!r}")
    number = int(index)
    if not -n_rows <= number < n_rows:
        raise IndexError(
            f"candidate index {number} is out of range: equations_ has {n_rows} rows"
        )
    number %= n_rows
    if isinstance(table, list):
        return table[number][column]
    return table.at[number, column]


def table_candidates(table: Any) -> list[Candidate]:
    """Rebuild the candidates of a table, in either form, in row order."""
    return [
        Candidate(
            expression=row["sympy_format"],
            complexity=int(row["complexity"]),
            train_loss=float(row["train_loss"]),
            validation_loss=float(row["loss"]),
            architecture=str(row["architecture"]),
            width=int(row["width"]),
            seed=None if row["seed"] is None else int(row["seed"]),
            extrapolation_loss=_optional_loss(row["extrapolation_loss"]),
            exact=bool(row["exact"]),
        )
        for row in table_rows(table)
    ]


def _optional_loss(value: Any) -> float | None:
    """Read an extrapolation loss: ``None`` (or pandas' NaN) when unchecked."""
    return None if value is None or math.isnan(float(value)) else float(value)
