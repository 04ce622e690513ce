"""The data side of a fit: validation split, training sample, input scale.

Each helper draws from the fit's random state in a fixed order (split, then
the search plan, then the sample of rows), so that a seed gives one result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from nalu_sr.extraction.candidate import Split

#: Below this many rows, every row both trains and validates.
MIN_ROWS_TO_SPLIT = 10


def split_rows(
    X: np.ndarray,
    y: np.ndarray,
    validation_fraction: float,
    random_state: np.random.RandomState,
) -> Split:
    """Shuffle and hold out validation rows (or validate on all rows if few).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.
    validation_fraction : float
        Share of the rows held out, in (0, 1).
    random_state : numpy.random.RandomState
        Draws the permutation (nothing is drawn below
        :data:`MIN_ROWS_TO_SPLIT` rows).

    Returns
    -------
    Split
        Training and validation rows.
    """
    if len(y) < MIN_ROWS_TO_SPLIT:
        return Split(X, y, X, y)
    order = random_state.permutation(len(y))
    n_val = max(1, round(validation_fraction * len(y)))
    val, train = order[:n_val], order[n_val:]
    return Split(X[train], y[train], X[val], y[val])


def sample_rows(
    n_rows: int, max_samples: int | None, random_state: np.random.RandomState
) -> np.ndarray | None:
    """Training rows that bodies train on: all (``None``) or a sorted sample.

    Parameters
    ----------
    n_rows : int
        Training rows.
    max_samples : int or None
        Most rows to train bodies on; ``None`` means all.
    random_state : numpy.random.RandomState
        Draws the sample, when one is needed.

    Returns
    -------
    ndarray or None
        Sorted row indices, or ``None`` for every row.
    """
    if max_samples is None or n_rows <= max_samples:
        return None
    return np.sort(random_state.choice(n_rows, max_samples, replace=False))


def input_scale(X: np.ndarray) -> float:
    """Return a positive constant of the inputs' order: their root mean square."""
    scale = float(np.sqrt(np.mean(X**2))) if X.size else 1.0
    return scale if np.isfinite(scale) and scale > 0 else 1.0


@contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set torch's intra-op threads; tiny problems run fastest on one."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
