"""A warm restart: a second ``fit`` on the same data continues the first search.

With ``warm_start=True``, ``NALURegressor.fit`` keeps, per target column, what
its search needs to go on: the validation split, the plan of training runs,
the rows bodies train on, and the search's outcome (its candidates, the plan
entries passed, the function rounds run to their end). A later ``fit`` on the
same data and search parameters reuses the split and plan and continues from
there, with a fresh ``max_time``; on other data or parameters it starts over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nalu_sr._fit_data import sample_rows, split_rows
from nalu_sr.extraction.candidate import Split
from nalu_sr.search import PlanEntry, SearchConfig, SearchOutcome, plan_search

#: Parameters that may change between a fit and its warm restart: the budget,
#: the seed (the kept plan is continued), and how the search is run or shown.
RESTART_PARAMETERS = frozenset(
    {"max_time", "random_state", "warm_start", "verbose", "n_jobs"}
)


@dataclass(frozen=True)
class SearchState:
    """What one column's search leaves for a warm restart.

    Attributes
    ----------
    fingerprint : str
        Digest of the column's data (inputs, targets, weights).
    params : dict
        The search parameters, without :data:`RESTART_PARAMETERS`.
    split : Split
        The validation split the search ran on.
    plan : list of PlanEntry
        Its training runs, in order.
    body_rows : ndarray or None
        The training rows bodies train on (``None``: all).
    outcome : SearchOutcome
        The search's candidates and progress, before selection.
    """

    fingerprint: str
    params: dict[str, Any]
    split: Split
    plan: list[PlanEntry]
    body_rows: np.ndarray | None
    outcome: SearchOutcome


def start_search(
    prior: SearchState | None,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    validation_fraction: float,
    config: SearchConfig,
    random_state: np.random.RandomState,
) -> tuple[Split, list[PlanEntry], np.ndarray | None, SearchOutcome | None]:
    """Return the split, plan, body rows and outcome a column's search starts from.

    Without a ``prior`` state they are drawn from ``random_state`` (split,
    then plan, then rows: a seed gives one search) and there is no outcome to
    continue; with one, they are the prior search's.

    Parameters
    ----------
    prior : SearchState or None
        The previous fit's state of this column (see :func:`resumable`).
    X, y : ndarray
        The column's data, at the search's scale.
    weights : ndarray or None
        Row weights.
    validation_fraction : float
        Share of rows held out.
    config : SearchConfig
        The search's settings.
    random_state : numpy.random.RandomState
        Draws a new split, plan and sample.

    Returns
    -------
    split : Split
    plan : list of PlanEntry
    body_rows : ndarray or None
    resume : SearchOutcome or None
    """
    if prior is not None:
        return prior.split, prior.plan, prior.body_rows, prior.outcome
    split = split_rows(X, y, validation_fraction, random_state, weights)
    plan = plan_search(config, random_state)
    body_rows = sample_rows(len(split.y_train), config.max_samples, random_state)
    return split, plan, body_rows, None


def data_fingerprint(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None) -> str:
    """Return a digest of a column's data: the same rows give the same digest.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    weights : ndarray or None
        Row weights.

    Returns
    -------
    str
        A SHA-256 hex digest of the shapes, dtypes and values.
    """
    digest = hashlib.sha256()
    for array in (X, y, weights):
        if array is None:
            digest.update(b"none")
            continue
        values = np.ascontiguousarray(array)
        digest.update(f"{values.shape}{values.dtype}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def search_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parameters a warm restart must share with the first fit."""
    return {k: v for k, v in params.items() if k not in RESTART_PARAMETERS}


def resumable(
    states: Sequence[SearchState] | None,
    index: int,
    fingerprint: str,
    params: Mapping[str, Any],
) -> SearchState | None:
    """Return the state of column ``index`` if its search can go on, else None.

    Parameters
    ----------
    states : sequence of SearchState or None
        What the previous fit left (``None``: no warm state).
    index : int
        The target column.
    fingerprint : str
        :func:`data_fingerprint` of this fit's column.
    params : mapping
        :func:`search_params` of this fit.

    Returns
    -------
    SearchState or None
        The previous state, when the data and search parameters are the same.
    """
    if states is None or index >= len(states):
        return None
    state = states[index]
    if state.fingerprint != fingerprint:
        return None
    try:
        same = bool(state.params == dict(params))
    except (TypeError, ValueError):  # parameters that do not compare
        same = False
    return state if same else None
