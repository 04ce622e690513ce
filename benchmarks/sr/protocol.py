"""SRBench's ground-truth protocol: rows, split, target noise, extrapolation set.

For one (problem, seed): sample ``rows`` rows from the problem's ranges (or
take its fixed rows), split them 75/25 into training and test rows, keep at
most 10,000 training rows, and add Gaussian noise of standard deviation
``gamma * RMS(y_train)`` to the training targets only. The extrapolation set
draws each variable from ``[high, high + (high - low)]``, the band just past
its training range; rows where the truth is not finite are dropped there.

The rows, the split and the noise depend only on the problem and the seed, so
that every tool (and every noise level) sees the same inputs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from benchmarks.sr.problems import Problem

#: SRBench's target noise levels (fractions of RMS(y_train)).
NOISE_LEVELS = (0.0, 0.001, 0.01, 0.1)
#: Share of rows used for training.
TRAIN_FRACTION = 0.75
#: SRBench subsamples larger training sets to this many rows.
MAX_TRAIN_ROWS = 10_000
#: Default number of sampled rows before the split (SRBench's cap, not PMLB's 100k).
DEFAULT_ROWS = 10_000

# Independent random streams for one (problem, seed).
_SAMPLE, _SPLIT, _NOISE, _EXTRAPOLATE = range(4)


@dataclass(frozen=True, eq=False)
class Dataset:
    """One realisation of the protocol for a (problem, noise, seed).

    ``dropped`` counts the extrapolation rows removed because the truth was
    not finite there; ``y_train`` carries the noise, ``y_test`` does not.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_extrapolation: np.ndarray
    y_extrapolation: np.ndarray
    dropped: int


def generator(problem: Problem, seed: int, stream: int) -> np.random.Generator:
    """A generator fixed by the problem's name, the seed and a stream number."""
    name_hash = zlib.crc32(f"{problem.suite}/{problem.name}".encode())
    return np.random.default_rng([name_hash, seed, stream])


def sample_inputs(
    ranges: tuple[tuple[float, float], ...], n_rows: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_rows`` rows with column ``j`` drawn uniformly from ``ranges[j]``."""
    lows = np.array([low for low, _ in ranges])
    highs = np.array([high for _, high in ranges])
    return rng.uniform(lows, highs, size=(n_rows, len(ranges)))


def finite_rows(problem: Problem, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows of ``X`` where the truth is finite, their targets, and how many went."""
    y = problem.evaluate(X)
    keep = np.isfinite(y)
    return X[keep], y[keep], int((~keep).sum())


def all_rows(problem: Problem, n_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The problem's fixed rows, or ``n_rows`` rows sampled from its ranges."""
    if problem.X is not None and problem.y is not None:
        return problem.X, problem.y
    X = sample_inputs(problem.ranges, n_rows, generator(problem, seed, _SAMPLE))
    X, y, _ = finite_rows(problem, X)
    return X, y


def split_rows(n_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled training and test indices: 75/25, at most 10,000 for training."""
    order = rng.permutation(n_rows)
    n_train = round(TRAIN_FRACTION * n_rows)
    train, test = order[:n_train], order[n_train:]
    return train[:MAX_TRAIN_ROWS], test


def add_target_noise(
    y: np.ndarray, gamma: float, rng: np.random.Generator
) -> np.ndarray:
    """``y`` plus Gaussian noise of standard deviation ``gamma * RMS(y)``."""
    if gamma == 0:
        return y.copy()
    rms = float(np.sqrt(np.mean(np.square(y))))
    return y + rng.normal(0.0, gamma * rms, size=y.shape)


def extrapolation_ranges(
    ranges: tuple[tuple[float, float], ...],
) -> tuple[tuple[float, float], ...]:
    """Each range ``[low, high]`` moved to ``[high, high + (high - low)]``."""
    return tuple((high, high + (high - low)) for low, high in ranges)


def extrapolation_set(
    problem: Problem, n_rows: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows past the training ranges where the truth is finite, and the drop count."""
    rng = generator(problem, seed, _EXTRAPOLATE)
    X = sample_inputs(extrapolation_ranges(problem.ranges), n_rows, rng)
    return finite_rows(problem, X)


def make_dataset(problem: Problem, noise: float, seed: int, rows: int) -> Dataset:
    """The training, test and extrapolation data of one (problem, noise, seed)."""
    X, y = all_rows(problem, rows, seed)
    train, test = split_rows(len(y), generator(problem, seed, _SPLIT))
    y_train = add_target_noise(y[train], noise, generator(problem, seed, _NOISE))
    X_far, y_far, dropped = extrapolation_set(problem, len(test), seed)
    return Dataset(X[train], y_train, X[test], y[test], X_far, y_far, dropped)
