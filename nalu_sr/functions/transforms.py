"""Invertible transforms of the target: a second level of nesting for free.

``y = 1/(exp(x0/x1) - 1)`` is a sum of terms after ``1/y``; ``sqrt(x0**2 +
x1**2)`` after ``y**2``; ``x0*exp(-x1/x2)`` after ``log y``. Searching the
transformed target and inverting the formula finds such laws with the same
one-level terms (the trick of AI Feynman, Udrescu & Tegmark 2020).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

#: Smallest ``|y|`` relative to the largest for which ``1/y`` is searched.
_INVERSE_MIN_RATIO = 1e-3


@dataclass(frozen=True)
class TargetTransform:
    """A transform ``z = forward(y)`` with its numeric and symbolic inverses.

    Attributes
    ----------
    name : str
        ``"identity"``, ``"inverse"``, ``"log"``, ``"square"`` or
        ``"inverse_square"`` (``1/y**2``: ``m/sqrt(1 - v**2/c**2)`` becomes a
        sum of monomials).
    forward, inverse : callable
        ``numpy.ndarray -> numpy.ndarray``.
    inverse_sympy : callable
        ``sympy.Expr -> sympy.Expr``: the formula for ``y`` from one for ``z``.
    slope : callable or None
        ``dz/dy`` as a function of ``y``, up to a constant factor (``None``
        for the identity): it sets the rows' weights in :func:`noise_weights`.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    inverse_sympy: Callable[[sympy.Expr], sympy.Expr]
    slope: Callable[[np.ndarray], np.ndarray] | None = None


def noise_weights(
    transform: TargetTransform, y: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray | None:
    """Row weights under which least squares on ``z`` approximates it on ``y``.

    Noise added to ``y`` reaches ``z = forward(y)`` scaled by the slope
    ``dz/dy``: under ``1/y`` a row with a small ``y`` carries far more noise
    than one with a large ``y``, and an unweighted fit of ``z`` follows those
    rows (biased constants, and a noise floor in ``z`` that hides a true
    law). Weighting each row by ``1 / slope(y)**2`` (the delta method) makes
    the fit of ``z`` the first-order equivalent of the fit of ``y``; exact
    data fit exactly under any weights.

    Parameters
    ----------
    transform : TargetTransform
        The transform of the target.
    y : numpy.ndarray
        Untransformed targets of the rows.
    weights : numpy.ndarray or None, default=None
        The rows' own weights (``sample_weight``), multiplied in.

    Returns
    -------
    numpy.ndarray or None
        Positive weights with mean 1 (times ``weights``), or ``weights`` for
        the identity or where the slope is zero or not finite.
    """
    if transform.slope is None or len(y) == 0:
        return weights
    with np.errstate(all="ignore"):
        inverse_variance = 1.0 / transform.slope(y) ** 2
        inverse_variance = inverse_variance / np.mean(inverse_variance)
    if not np.all(np.isfinite(inverse_variance) & (inverse_variance > 0)):
        return weights
    return inverse_variance if weights is None else inverse_variance * weights


#: Bisection steps of :func:`tempered_weights` (the exponent to about 1e-9).
_TEMPER_STEPS = 30


def effective_share(weights: np.ndarray) -> float:
    """Kish's effective sample size of the weights, as a share of the rows.

    ``(sum w)**2 / sum(w**2) / n``: 1 for equal weights, ``k/n`` when ``k``
    rows share all the weight.
    """
    total = float(np.sum(weights))
    return total * total / float(np.sum(weights * weights)) / len(weights)


def tempered_weights(
    weights: np.ndarray | None, min_share: float = 0.5
) -> np.ndarray | None:
    """Raise the weights to the largest power ``a <= 1`` that keeps enough rows.

    Noise weights of ``1/y`` are ``y**4``: over a range of a few decades a
    handful of rows take all the weight. That is right for fitting constants
    under noise, but choosing *which* terms to fit from a handful of rows
    picks terms that only fit there (on exact data any weights fit, so the
    choice is the only thing they can spoil). ``w**a`` with the largest ``a``
    whose effective share (:func:`effective_share`) is at least ``min_share``
    keeps the weights' order and as much of their strength as that allows.

    Parameters
    ----------
    weights : numpy.ndarray or None
        Positive row weights; ``None`` for none.
    min_share : float, default=0.5
        Smallest effective share of the rows, in ``(0, 1]``.

    Returns
    -------
    numpy.ndarray or None
        The tempered weights with mean 1, ``weights`` itself when they
        already keep the share, or ``None`` for ``None``.
    """
    if weights is None or len(weights) == 0 or effective_share(weights) >= min_share:
        return weights
    low, high = 0.0, 1.0  # the share falls as the exponent grows
    for _ in range(_TEMPER_STEPS):
        middle = (low + high) / 2
        if effective_share(weights**middle) >= min_share:
            low = middle
        else:
            high = middle
    tempered = weights**low
    return tempered / np.mean(tempered)


def _same_sign(y: np.ndarray) -> float | None:
    if np.all(y > 0):
        return 1.0
    if np.all(y < 0):
        return -1.0
    return None


def target_transforms(y: np.ndarray, names: tuple[str, ...]) -> list[TargetTransform]:
    """Return the transforms among ``names`` defined on every value of ``y``.

    ``log``, ``square`` and ``inverse_square`` need targets of one sign (the
    sign is kept as a factor), ``square`` only apart from values near zero
    (a distance under noise, see :data:`NEAR_ZERO`); ``inverse`` and
    ``inverse_square`` need targets bounded away from zero.
    """
    sign = _same_sign(y)
    nearly = _sign_within_noise(y)
    magnitude = np.abs(y)
    inverse_ok = bool(magnitude.min() > _INVERSE_MIN_RATIO * magnitude.max())
    found = []
    for name in names:
        if name == "identity":
            found.append(_identity())
        elif name == "inverse" and inverse_ok:
            found.append(_inverse())
        elif name == "log" and sign is not None:
            found.append(_log(sign))
        elif name == "square" and nearly is not None:
            found.append(_square(nearly))
        elif name == "inverse_square" and sign is not None and inverse_ok:
            found.append(_inverse_square(sign))
    return found


#: Largest ``|y|``, as a share of RMS(y), that may have the other sign than
#: the rest for ``y**2`` to be searched: a few standard deviations of noise of
#: 1% of RMS(y), which carries a distance near zero below it.
NEAR_ZERO = 0.05


def _sign_within_noise(y: np.ndarray) -> float | None:
    """Return the sign of ``y``, ignoring values within :data:`NEAR_ZERO` of 0."""
    large = y[np.abs(y) > NEAR_ZERO * np.sqrt(np.mean(y**2))]
    return _same_sign(large) if len(large) else None


def _identity() -> TargetTransform:
    return TargetTransform("identity", lambda y: y, lambda z: z, lambda e: e)


def _inverse() -> TargetTransform:
    return TargetTransform(
        "inverse",
        lambda y: 1.0 / y,
        lambda z: 1.0 / z,
        lambda e: 1 / e,
        slope=lambda y: 1.0 / y**2,
    )


def _log(sign: float) -> TargetTransform:
    s = int(sign)
    return TargetTransform(
        "log",
        lambda y: np.log(sign * y),
        lambda z: sign * np.exp(z),
        lambda e: s * sympy.exp(e),
        slope=lambda y: 1.0 / y,
    )


def _square(sign: float) -> TargetTransform:
    s = int(sign)
    return TargetTransform(
        "square",
        lambda y: y**2,
        lambda z: sign * np.sqrt(z),
        lambda e: s * sympy.sqrt(e),
        slope=_floored,
    )


def _floored(y: np.ndarray) -> np.ndarray:
    """``|y|``, at least :data:`NEAR_ZERO` of RMS(y): the slope of ``y**2``.

    Near ``y = 0`` the noise on ``y**2`` is the square of the noise, not the
    slope times it; a zero slope would give a row unbounded weight.
    """
    floor = NEAR_ZERO * float(np.sqrt(np.mean(y**2)))
    slope: np.ndarray = np.maximum(np.abs(y), floor)
    return slope


def _inverse_square(sign: float) -> TargetTransform:
    s = int(sign)
    return TargetTransform(
        "inverse_square",
        lambda y: 1.0 / y**2,
        lambda z: sign / np.sqrt(z),
        lambda e: s / sympy.sqrt(e),
        slope=lambda y: 1.0 / y**3,
    )
