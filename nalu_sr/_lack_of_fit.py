"""Whether a formula's residuals are noise or a smooth function of the inputs.

A law fitted to noisy data leaves residuals that are the noise: the residual
on one row says nothing of the residual on the nearest row. An approximation
leaves its own error, a smooth function of the inputs: rows close together
miss by about the same amount. The correlation between each row's residual
and its nearest neighbour's tells them apart (a nearest-neighbour lack-of-fit
test), with no assumption on the size of the noise.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

#: Above this correlation between neighbours' residuals, they are not noise.
MAX_NEIGHBOUR_CORRELATION = 0.5
#: Fewer rows than this say nothing either way (the test passes).
MIN_ROWS = 20


def neighbour_correlation(X: np.ndarray, residuals: np.ndarray) -> float:
    """Correlation of each row's residual with that of its nearest other row.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs; each column is scaled to unit spread first (constant columns
        are left out).
    residuals : ndarray of shape (n_samples,)
        ``y - prediction``, finite.

    Returns
    -------
    float
        Pearson correlation in [-1, 1]; 0 when it is undefined (fewer than
        :data:`MIN_ROWS` rows, no varying column, or constant residuals).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, (500, 1))
    >>> bool(abs(neighbour_correlation(X, rng.normal(size=500))) < 0.2)
    True
    >>> round(neighbour_correlation(X, np.sin(6 * X[:, 0])), 3)
    1.0
    """
    X = np.asarray(X, dtype=np.float64)
    spread = X.std(axis=0) if len(X) else np.zeros(X.shape[1])
    varying = spread > 0
    if len(X) < MIN_ROWS or not varying.any():
        return 0.0
    Z = X[:, varying] / spread[varying]
    _, nearest = cKDTree(Z).query(Z, k=2)
    own, neighbour = residuals, residuals[nearest[:, 1]]
    if own.std() == 0 or neighbour.std() == 0:
        return 0.0
    return float(np.corrcoef(own, neighbour)[0, 1])


def residuals_are_noise(X: np.ndarray, residuals: np.ndarray) -> bool:
    """Whether neighbouring rows' residuals are at most weakly correlated."""
    if not np.all(np.isfinite(residuals)):
        return False
    return neighbour_correlation(X, residuals) <= MAX_NEIGHBOUR_CORRELATION
