"""Least squares with an intercept, and the relative error every stage reports.

Training (torch, on the scaled inputs), extraction (numpy, float64 on the raw
inputs) and the data-driven initialisations of the architectures all fit a
target as a linear combination of features plus a constant and score a fit
relative to the spread of the target. They share these helpers so that the
design matrix (features first, the intercept column last) and the rule for a
constant target are written once.

The relative error is the mean squared error divided by the variance of the
target; for a constant target (variance 0, a single row included) it is
divided by the target's mean square instead, and for an all-zero target it
is the plain mean squared error. See :func:`error_scale`.

Every helper takes optional non-negative row ``weights`` (scikit-learn's
``sample_weight``): means become weighted means and least squares minimises
the weighted sum of squares. ``None`` means equal weights and computes
exactly what the unweighted formulas do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def error_scale(variance: float, mean_square: float) -> float:
    """Return what a squared error is divided by to make it relative.

    The rule for every relative error in nalu_sr: the target's variance; for
    a constant target, whose variance is 0, its mean square; for an all-zero
    target, 1.

    Parameters
    ----------
    variance : float
        Population variance of the target.
    mean_square : float
        Mean of the squared target.

    Returns
    -------
    float
        A positive scale.

    Examples
    --------
    >>> error_scale(4.0, 9.0), error_scale(0.0, 9.0), error_scale(0.0, 0.0)
    (4.0, 9.0, 1.0)
    """
    if variance > 0:
        return variance
    return mean_square if mean_square > 0 else 1.0


def weighted_mean(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean of ``values``, weighted by ``weights`` when given.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(n,)``.
    weights : numpy.ndarray or None, default=None
        Non-negative row weights with a positive sum; ``None``: equal.

    Returns
    -------
    float
        ``sum(weights * values) / sum(weights)``.

    Examples
    --------
    >>> weighted_mean(np.array([1.0, 4.0]), np.array([2.0, 1.0]))
    2.0
    """
    if weights is None:
        return float(np.mean(values))
    return float(np.sum(weights * values) / np.sum(weights))


def relative_error(
    prediction: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Mean squared error of ``prediction`` relative to the spread of ``y``.

    Parameters
    ----------
    prediction : numpy.ndarray
        Predicted values, shape ``(n,)``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    weights : numpy.ndarray or None, default=None
        Row weights: every mean (error, variance, mean square) is weighted.

    Returns
    -------
    float
        ``mean((prediction - y)**2) / error_scale(var(y), mean(y**2))``;
        ``inf`` when any prediction is not finite.

    Examples
    --------
    >>> relative_error(np.array([1.0, 3.0]), np.array([0.0, 2.0]))
    1.0
    """
    if not np.all(np.isfinite(prediction)):
        return math.inf
    if weights is None:
        scale = error_scale(float(np.var(y)), float(np.mean(y**2)))
        return float(np.mean((prediction - y) ** 2) / scale)
    centre = weighted_mean(y, weights)
    scale = error_scale(
        weighted_mean((y - centre) ** 2, weights), weighted_mean(y**2, weights)
    )
    return weighted_mean((prediction - y) ** 2, weights) / scale


def relative_error_torch(
    prediction: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Torch version of :func:`relative_error`, differentiable w.r.t. ``prediction``.

    Parameters
    ----------
    prediction : torch.Tensor
        Predicted values, shape ``(n,)``.
    y : torch.Tensor
        Targets, shape ``(n,)``.
    weights : torch.Tensor or None, default=None
        Row weights, as in :func:`relative_error`.

    Returns
    -------
    torch.Tensor
        The scalar relative error; unlike :func:`relative_error`, a
        non-finite prediction gives a non-finite value (training detects
        divergence from it).
    """
    if weights is None:
        variance = float(torch.var(y, correction=0))
        scale = error_scale(variance, float(y.pow(2).mean()))
        return torch.mean((prediction - y) ** 2) / scale
    share = weights / weights.sum()
    centre = torch.sum(share * y)
    scale = error_scale(
        float(torch.sum(share * (y - centre) ** 2)), float(torch.sum(share * y**2))
    )
    return torch.sum(share * (prediction - y) ** 2) / scale


def least_squares(
    features: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    columns: Sequence[int] | None = None,
) -> tuple[np.ndarray, float]:
    """Fit ``y ~ features @ coefficients + intercept`` by least squares.

    Parameters
    ----------
    features : numpy.ndarray
        Shape ``(n, k)``; ``k`` may be 0 (only the intercept is fitted).
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    weights : numpy.ndarray or None, default=None
        Row weights: the weighted sum of squared residuals is minimised.
    columns : sequence of int or None, default=None
        Use only these columns of ``features`` (without copying them all).

    Notes
    -----
    Above :data:`BLOCK_ROWS` rows the fit is a blockwise QR factorisation
    (each block of rows is stacked under the running ``R`` and factored
    again), so memory stays bounded by a block however tall the data;
    the least-squares solution is the same.

    Returns
    -------
    coefficients : numpy.ndarray
        Shape ``(k,)``.
    intercept : float
        The constant term.

    Examples
    --------
    >>> coefficients, intercept = least_squares(
    ...     np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    ... )
    >>> np.round(coefficients, 12).tolist(), round(intercept, 12)
    ([2.0], 1.0)
    """
    if len(y) > BLOCK_ROWS:
        solution = _blockwise_solution(features, y, weights, columns)
    else:
        design, target = _design(features, y, weights, columns)
        solution = np.linalg.lstsq(design, target, rcond=None)[0]
    return solution[:-1], float(solution[-1])


#: Rows above which :func:`least_squares` factors the design block by block.
BLOCK_ROWS = 65_536


def _design(
    features: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    columns: Sequence[int] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the design (intercept last) and target, rows scaled by root weights."""
    chosen = features if columns is None else features[:, list(columns)]
    design = np.column_stack([chosen, np.ones(len(y))])
    if weights is None:
        return design, y
    root = np.sqrt(weights)
    return design * root[:, None], y * root


def _blockwise_solution(
    features: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    columns: Sequence[int] | None,
) -> np.ndarray:
    """Least squares of a tall design through a running QR factorisation."""
    R: np.ndarray | None = None
    projected: np.ndarray | None = None
    for start in range(0, len(y), BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        block_weights = None if weights is None else weights[rows]
        design, target = _design(features[rows], y[rows], block_weights, columns)
        if R is not None and projected is not None:
            design = np.vstack([R, design])
            target = np.concatenate([projected, target])
        q, R = np.linalg.qr(design)
        projected = q.T @ target
    assert R is not None and projected is not None
    solution: np.ndarray = np.linalg.lstsq(R, projected, rcond=None)[0]
    return solution


def least_squares_torch(
    features: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torch version of :func:`least_squares` (``torch.linalg.lstsq``).

    Parameters
    ----------
    features : torch.Tensor
        Shape ``(n, k)``, finite.
    y : torch.Tensor
        Targets, shape ``(n,)``.
    weights : torch.Tensor or None, default=None
        Row weights, as in :func:`least_squares`.

    Returns
    -------
    coefficients : torch.Tensor
        Shape ``(k,)``.
    intercept : torch.Tensor
        The constant term, a 0-dimensional tensor.
    """
    design = torch.cat([features, torch.ones_like(y).unsqueeze(1)], dim=1)
    if weights is not None:
        root = weights.sqrt()
        design, y = design * root[:, None], y * root
    solution = torch.linalg.lstsq(design, y.unsqueeze(1)).solution[:, 0]
    return solution[:-1], solution[-1]


def ridge_fitted_values(
    features: torch.Tensor,
    y: torch.Tensor,
    ridge: float = 1e-9,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fitted values of a slightly damped least-squares fit with an intercept.

    Solves the normal equations with a ridge term so that they stay solvable
    when features are collinear, and so that the result is differentiable
    with respect to ``features`` (variable projection trains through it).

    Parameters
    ----------
    features : torch.Tensor
        Shape ``(n, k)``.
    y : torch.Tensor
        Targets, shape ``(n,)``.
    ridge : float, default=1e-9
        Ridge term relative to the mean diagonal of the normal matrix.
    weights : torch.Tensor or None, default=None
        Row weights of the fit (the fitted values are those of every row).

    Returns
    -------
    torch.Tensor
        The fitted values, shape ``(n,)``.

    Raises
    ------
    RuntimeError
        From ``torch.linalg.solve`` when the damped system is still singular.
    """
    design = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
    weighted = design if weights is None else design * weights[:, None]
    gram = weighted.T @ design
    eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    damping = ridge * torch.trace(gram).detach() / gram.shape[0] + 1e-30
    solution = torch.linalg.solve(gram + damping * eye, weighted.T @ y)
    fitted: torch.Tensor = design @ solution
    return fitted
