"""Several targets in one fit: one search per column of ``y``, one time budget.

``NALURegressor.fit`` searches each target column in turn, with the same
inputs, row weights and parameters, and shares ``max_time`` between them:
each column gets an equal share of what is left, so time that an early exact
column leaves over goes to the later ones. The warnings of a column's search
name the column, and each column's formula is the one a fit of that column
alone gives.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from sklearn.base import clone
from sklearn.utils import check_random_state

from nalu_sr._fit_data import rows_needed
from nalu_sr._warm_start import data_fingerprint
from nalu_sr.diagnostics import insufficient_data_message, poor_fit_message
from nalu_sr.exactness import free_constants
from nalu_sr.exceptions import InsufficientDataWarning, PoorFitWarning
from nalu_sr.export.numpy import CallableExpression
from nalu_sr.search import SearchOutcome
from nalu_sr.selection import FittedFormulas

#: A column whose share of ``max_time`` would be smaller still searches this
#: long (seconds): its closed-form candidates need no more.
MIN_OUTPUT_SECONDS = 1e-3

#: ``NALURegressor`` attributes that hold one value per target, and the
#: :class:`~nalu_sr.selection.FittedFormulas` field each comes from.
PER_OUTPUT_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("equations_", "table"),
    ("best_index_", "best_index"),
    ("expression_", "expression"),
    ("loss_", "loss"),
    ("exact_", "exact"),
    ("precision_floor_", "precision_floor"),
    ("module_", "module"),
    ("history_", "history"),
    ("n_iter_", "n_iter"),
)


@dataclass(frozen=True)
class OutputData:
    """The validated data of one target column's search.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs (rows of weight zero dropped).
    y : ndarray of shape (n_samples,)
        The column's targets.
    weights : ndarray or None
        Row weights (mean 1), or ``None`` for equal weights.
    precision : numpy.dtype
        The coarser of the inputs' and targets' dtypes.
    symbols : list of sympy.Symbol
        One symbol per feature.
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    precision: np.dtype
    symbols: list[sympy.Symbol]

    def fingerprint(self) -> str:
        """Return the digest a warm restart recognises the data by."""
        return data_fingerprint(self.X, self.y, self.weights)


def store_outputs(
    estimator: Any, fitted: Sequence[FittedFormulas], multi_output: bool
) -> None:
    """Store every fitted attribute (after a fit, or from a model file).

    One-dimensional targets give one value per attribute; a target matrix
    gives a list per attribute, one entry per column, and ``estimators_``:
    one fitted single-target copy of ``estimator`` per column.

    Parameters
    ----------
    estimator : NALURegressor
        The estimator to store them on.
    fitted : sequence of FittedFormulas
        The formulas of each target column.
    multi_output : bool
        Whether the targets were a matrix.
    """
    estimator.feature_symbols_ = fitted[0].symbols
    estimator.n_outputs_ = len(fitted)
    for attribute, field_name in PER_OUTPUT_ATTRIBUTES:
        values = [getattr(formulas, field_name) for formulas in fitted]
        setattr(estimator, attribute, values if multi_output else values[0])
    estimator.__dict__.pop("estimators_", None)
    if not multi_output:
        formulas = fitted[0]
        estimator._predictors = [
            CallableExpression(formulas.expression, formulas.symbols)
        ]
        return
    estimator.estimators_ = [_column_estimator(estimator, f) for f in fitted]
    # Each column's function is built once, in its own estimator.
    estimator._predictors = [column._predictors[0] for column in estimator.estimators_]


def _column_estimator(estimator: Any, formulas: FittedFormulas) -> Any:
    """Return a fitted single-target copy of ``estimator``: one column's formulas."""
    column = clone(estimator)
    store_outputs(column, [formulas], multi_output=False)
    column.n_features_in_ = len(formulas.symbols)
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        column.feature_names_in_ = names
    return column


def target_columns(y: np.ndarray) -> list[np.ndarray]:
    """Split validated targets into the columns searched one by one.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Targets.

    Returns
    -------
    list of ndarray of shape (n_samples,)
        ``[y]`` for one-dimensional targets, else one contiguous array per column.
    """
    if y.ndim == 1:
        return [y]
    return [np.ascontiguousarray(y[:, k]) for k in range(y.shape[1])]


class OutputBudget:
    """Share a fit's ``max_time`` between its target columns.

    Parameters
    ----------
    max_time : float or None
        The whole fit's budget in seconds; ``None`` for no limit.
    n_outputs : int
        Target columns to search.
    """

    def __init__(self, max_time: float | None, n_outputs: int) -> None:
        self.max_time = max_time
        self.n_left = n_outputs
        self.started: float | None = None

    def next_output(self) -> float | None:
        """Return the next column's budget: an equal share of the time left.

        The clock starts with the first column, whose share is exact.
        """
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        share = None
        if self.max_time is not None:
            left = self.max_time - (now - self.started)
            share = max(left / max(self.n_left, 1), MIN_OUTPUT_SECONDS)
        self.n_left -= 1
        return share


def column_random_state(
    random_state: int | np.random.RandomState | None, n_outputs: int
) -> np.random.RandomState:
    """Return the random state one target column's search draws from.

    Every column of a target matrix starts from the same state (a copy of a
    ``RandomState`` instance), so that its formula is the one a fit of that
    column alone gives, whatever the other columns; one-dimensional targets
    draw from ``random_state`` itself, as scikit-learn estimators do.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The estimator's ``random_state``.
    n_outputs : int
        Target columns of the fit (1 for one-dimensional targets).

    Returns
    -------
    numpy.random.RandomState
        The state to draw the split, plan and samples from.
    """
    if n_outputs > 1 and isinstance(random_state, np.random.RandomState):
        return copy.deepcopy(random_state)
    state: np.random.RandomState = check_random_state(random_state)
    return state


def output_label(index: int, n_outputs: int, target_ndim: int) -> str:
    """Prefix of a column's warnings: empty for one-dimensional targets."""
    if target_ndim == 1:
        return ""
    return f"target column {index} of {n_outputs}: "


def fit_warnings(
    outcome: SearchOutcome,
    formulas: FittedFormulas,
    n_rows: int,
    n_held_out: int,
    validation_fraction: float,
) -> list[tuple[str, type[Warning]]]:
    """Warnings of one column's search: interrupted, poor fit, too few rows.

    Parameters
    ----------
    outcome : SearchOutcome
        What the search produced.
    formulas : FittedFormulas
        The chosen formula.
    n_rows : int
        Rows the column was fitted on.
    n_held_out : int
        Of them, rows held out to validate.
    validation_fraction : float
        The estimator's ``validation_fraction``.

    Returns
    -------
    list of (str, Warning subclass)
        Each message with its category, in the order they are issued.
    """
    messages: list[tuple[str, type[Warning]]] = []
    if outcome.interrupted:
        messages.append(
            ("search interrupted: keeping the best formula found so far", UserWarning)
        )
    if outcome.lost_workers is not None:
        message = (
            f"search stopped: {outcome.lost_workers}; keeping the best "
            "formula found so far"
        )
        messages.append((message, UserWarning))
    poor_fit = poor_fit_message(formulas)
    if poor_fit is not None:
        messages.append((poor_fit, PoorFitWarning))
    n_needed = rows_needed(free_constants(formulas.expression), validation_fraction)
    unconfirmed = insufficient_data_message(formulas, n_rows, n_held_out, n_needed)
    if unconfirmed is not None:
        messages.append((unconfirmed, InsufficientDataWarning))
    return messages


def output_indices(
    index: int | Sequence[int] | None, n_outputs: int
) -> list[int | None]:
    """One candidate number per target column, from a method's ``index``.

    Parameters
    ----------
    index : int, sequence of int or None
        ``None`` (each column's chosen formula) or one candidate number per
        column; one int is refused, as candidate numbers differ per column.
    n_outputs : int
        Target columns of the model.

    Returns
    -------
    list of int or None
        The candidate number of each column.

    Raises
    ------
    ValueError
        If ``index`` is an int or does not hold one number per column.
    """
    if index is None:
        return [None] * n_outputs
    if isinstance(index, int | np.integer) or len(index) != n_outputs:
        raise ValueError(
            f"this model has {n_outputs} target columns: pass index=None or a "
            f"list of {n_outputs} candidate numbers, one per column; got {index!r}"
        )
    return [int(i) for i in index]
