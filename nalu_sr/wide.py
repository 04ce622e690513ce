"""Wide dense inputs: find the few sums of many inputs that a target depends on.

A law such as ``(x3 + x7 + ... + x27) * (x15 + ... + x40)`` over 100 inputs
is a function of two sums. Gradient descent on a sum-then-product body sees
each input's share of the signal only weakly, but the structure can be read
off the data directly:

1. The coefficients of a linear fit of ``y`` on ``x`` take one value per
   *class* of inputs (inputs that enter the same sums), so inputs with equal
   coefficients form first groups.
2. A group is a class when ``y`` is a smooth function of the group sums: a
   quadratic polynomial in the group sums fits ``y`` almost exactly over the
   narrow range of a sum of many inputs. While it does not, groups are split
   along the leading eigenvector of the residual's interaction with the inputs
   (the residual's Hessian and its first-order profile, both computed in one
   pass), then single inputs move between groups when that lowers the
   polynomial's residual.
3. Every product of powers of one or two unions of relevant groups (signed,
   such as ``a - b``, when there are at most three groups) is scored by its
   least-squares fit of ``y``, best first; among exact fits the shortest sums
   come first.

The ranked products seed the sum-power and sum-product bodies (see
:func:`nalu_sr.architectures.data_driven_init_`) with exact 0/1 sums, so a
correct start snaps, and is extracted, as the exact formula.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from nalu_sr.linalg import least_squares

#: Fewest inputs for which the wide analysis runs: narrower data keep the
#: initialisations tuned for small laws.
MIN_FEATURES = 8
#: Most groups the partition may reach (two sums give at most four classes).
MAX_GROUPS = 8
#: Degree of the polynomial in the group sums that tests a partition.
POLYNOMIAL_DEGREE = 2
#: A split is kept only if it removes at least this share of the polynomial's
#: residual (a split by chance removes about ``n_groups / n_rows`` of it).
SPLIT_MIN_DROP = 0.2
#: A single input moves to another group if that removes this share.
MOVE_MIN_DROP = 0.1
#: Inputs whose residual profile is largest are tried in each refinement sweep.
N_SUSPECTS = 12
#: Most relevant groups: more is not a law of a few sums.
MAX_RELEVANT_GROUPS = 4
#: Sums of up to this many relevant groups are also tried with signs (``a - b``).
MAX_SIGNED_GROUPS = 3
#: Relative residual at which a partition explains the target exactly.
EXACT_LOSS = 1e-12
#: Coefficients closer than this many standard errors belong to one group.
COEFFICIENT_GAP = 8.0
#: Exponents tried on each sum (multiples of 1/2, as the power unit snaps).
EXPONENTS: tuple[float, ...] = (1.0, -1.0, 2.0, -2.0, 0.5, -0.5)
_REFINE_SWEEPS = 2

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SumGroups:
    """A partition of the inputs into classes that enter the same sums.

    Attributes
    ----------
    labels : numpy.ndarray
        Group index of each input, shape ``(n_features,)``.
    relevant : tuple of int
        Groups the target depends on.
    loss : float
        Relative residual of the polynomial in the group sums.
    """

    labels: IntArray
    relevant: tuple[int, ...]
    loss: float


@dataclass(frozen=True)
class SumPower:
    """A product of powers of sums of inputs: ``prod_k (sum_i w_ki x_i)**e_k``.

    Attributes
    ----------
    sums : tuple of numpy.ndarray
        One weight vector over the inputs per sum, each weight -1, 0 or 1.
    exponents : tuple of float
        One exponent per sum.
    loss : float
        Relative residual of the least-squares fit ``y ~ c0 + c1 * term``.
    """

    sums: tuple[FloatArray, ...]
    exponents: tuple[float, ...]
    loss: float


def sum_power_starts(X: FloatArray, y: FloatArray) -> list[SumPower]:
    """Rank products of powers of input sums by how well they fit ``y``.

    Parameters
    ----------
    X : numpy.ndarray
        Inputs, shape ``(n, n_features)``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.

    Returns
    -------
    list of SumPower
        Best first; empty when the data are not wide (fewer than
        :data:`MIN_FEATURES` inputs) or no relevant group holds two inputs or
        more, so a plain product of inputs is the better start.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 2, size=(400, 12))
    >>> y = X[:, :4].sum(axis=1) * X[:, 4:8].sum(axis=1)
    >>> best = sum_power_starts(X, y)[0]
    >>> [np.flatnonzero(s).tolist() for s in best.sums], best.exponents
    ([[0, 1, 2, 3], [4, 5, 6, 7]], (1.0, 1.0))
    """
    if X.shape[1] < MIN_FEATURES:
        return []  # checked first: small laws pay nothing, not even the limits
    # Hundreds of small least-squares fits: BLAS threads only add overhead.
    with threadpool_limits(limits=1, user_api="blas"):
        groups = find_sum_groups(X, y)
        return [] if groups is None else rank_sum_powers(X, y, groups)


def find_sum_groups(X: FloatArray, y: FloatArray) -> SumGroups | None:
    """Partition the inputs into classes such that ``y`` depends on class sums.

    Parameters
    ----------
    X : numpy.ndarray
        Inputs, shape ``(n, n_features)``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.

    Returns
    -------
    SumGroups or None
        ``None`` when the data are too narrow or too few rows, the target is
        constant or not finite, or no relevant group has two inputs or more.
    """
    n, p = X.shape
    if p < MIN_FEATURES or n <= p + 10 or not _finite(X, y) or np.ptp(y) == 0:
        return None
    coefficients, errors = _linear_coefficients(X, y)
    labels = _first_order_groups(coefficients, errors)
    if not _has_relevant_sum(labels, coefficients):
        return None  # every relevant coefficient is distinct: no sums to find
    labels, loss = _split_until_smooth(X, y, labels)
    relevant = _relevant_groups(X, y, labels, loss)
    if len(relevant) > MAX_RELEVANT_GROUPS or not any(
        np.count_nonzero(labels == g) > 1 for g in relevant
    ):
        return None
    return SumGroups(labels, relevant, loss)


def rank_sum_powers(
    X: FloatArray, y: FloatArray, groups: SumGroups, max_sums: int = 2
) -> list[SumPower]:
    """Score every product of powers of at most ``max_sums`` group unions.

    Parameters
    ----------
    X : numpy.ndarray
        Inputs, shape ``(n, n_features)``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    groups : SumGroups
        The partition from :func:`find_sum_groups`.
    max_sums : int, default=2
        Most sums in one product.

    Returns
    -------
    list of SumPower
        Every candidate, best fit first; equal fits (both within
        :data:`EXACT_LOSS`, or equal to six significant digits) are ties,
        broken by the fewest summed inputs and minus signs.
    """
    vectors = _sum_vectors(groups)
    sums = X @ np.stack(vectors, axis=1)
    scored: list[SumPower] = []
    for size in range(1, max_sums + 1):
        for chosen in itertools.combinations(range(len(vectors)), size):
            for powers in itertools.product(EXPONENTS, repeat=size):
                with np.errstate(all="ignore"):
                    term = np.prod(sums[:, chosen] ** np.array(powers), axis=1)
                loss = _single_term_loss(term, y)
                chosen_sums = tuple(vectors[k] for k in chosen)
                scored.append(SumPower(chosen_sums, tuple(powers), loss))
    return sorted(scored, key=_rank_key)


def _rank_key(candidate: SumPower) -> tuple[float, int]:
    """Sort by loss; among equal fits, fewest summed inputs and minus signs.

    ``a / b`` and ``1 + (a - b) / b`` fit equally well, exactly or under noise
    (up to rounding): the first is kept. Losses are equal when both are below
    :data:`EXACT_LOSS` or when they agree to six significant digits.
    """
    size = sum(
        int(np.count_nonzero(w) + np.count_nonzero(w < 0)) for w in candidate.sums
    )
    return float(f"{max(candidate.loss, EXACT_LOSS):.6g}"), size


def _finite(X: FloatArray, y: FloatArray) -> bool:
    return bool(np.all(np.isfinite(X)) and np.all(np.isfinite(y)))


def _sum_vectors(groups: SumGroups) -> list[FloatArray]:
    """Weights of every union of relevant groups, smallest first.

    With at most :data:`MAX_SIGNED_GROUPS` relevant groups, every sign pattern
    is included too, the first group of a union always positive (a sum and
    its negative give the same fit up to the sign of the coefficient).
    """
    relevant = groups.relevant
    signs = (1.0, -1.0) if len(relevant) <= MAX_SIGNED_GROUPS else (1.0,)
    vectors = []
    for size in range(1, len(relevant) + 1):
        for chosen in itertools.combinations(relevant, size):
            for tail in itertools.product(signs, repeat=size - 1):
                weights = np.zeros(len(groups.labels))
                for group, sign in zip(chosen, (1.0, *tail), strict=True):
                    weights[groups.labels == group] = sign
                vectors.append(weights)
    return vectors


def _single_term_loss(term: FloatArray, y: FloatArray) -> float:
    """Relative residual of ``y ~ c0 + c1 * term``: ``1 - corr(term, y)**2``."""
    if not np.all(np.isfinite(term)):
        return math.inf
    centred = term - term.mean()
    target = y - y.mean()
    denominator = float(centred @ centred) * float(target @ target)
    if denominator <= 0:
        return 1.0
    return max(1.0 - float(centred @ target) ** 2 / denominator, 0.0)


def _linear_coefficients(X: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Least-squares coefficients of ``y`` on ``X`` and their standard errors."""
    n = len(y)
    solution, intercept = least_squares(X, y)
    residual = y - X @ solution - intercept
    spread = np.maximum(X.std(axis=0), np.finfo(float).tiny)
    error = math.sqrt(float(residual @ residual) / n) / (spread * math.sqrt(n))
    floor = 1e-9 * float(np.max(np.abs(solution), initial=0.0))
    return solution, np.maximum(error, floor)


def _first_order_groups(coefficients: FloatArray, errors: FloatArray) -> IntArray:
    """Group inputs whose linear coefficients differ by less than a few errors."""
    order = np.argsort(coefficients, kind="stable")
    labels = np.empty(len(coefficients), dtype=np.intp)
    group = 0
    labels[order[0]] = 0
    for before, after in itertools.pairwise(order):
        gap = coefficients[after] - coefficients[before]
        if gap > COEFFICIENT_GAP * max(errors[before], errors[after]):
            group += 1
        labels[after] = group
    return labels


def _has_relevant_sum(labels: IntArray, coefficients: FloatArray) -> bool:
    """Whether a group of two inputs or more has a clearly non-zero coefficient.

    A group of zero coefficients may still hide a sum (``a / b`` puts the
    inputs shared by ``a`` and ``b`` at zero), but then some other group of
    several inputs carries the signal.
    """
    scale = float(np.max(np.abs(coefficients), initial=0.0))
    for group in np.unique(labels):
        members = labels == group
        typical = float(np.median(np.abs(coefficients[members])))
        if np.count_nonzero(members) > 1 and typical > 1e-3 * scale:
            return True
    return False


def _group_sums(X: FloatArray, labels: IntArray) -> FloatArray:
    """Sum of the inputs of each group, shape ``(n, n_groups)``."""
    n_groups = int(labels.max()) + 1
    one_hot = np.zeros((len(labels), n_groups), dtype=X.dtype)
    one_hot[np.arange(len(labels)), labels] = 1.0
    return X @ one_hot


def _polynomial_design(Z: FloatArray, degree: int = POLYNOMIAL_DEGREE) -> FloatArray:
    """All monomials of the standardised columns of ``Z`` up to ``degree``."""
    spread = Z.std(axis=0)
    standard = (Z - Z.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    columns = [np.ones(len(Z))]
    for order in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(Z.shape[1]), order):
            columns.append(np.prod(standard[:, combo], axis=1))
    return np.stack(columns, axis=1)


def _polynomial_residual(Z: FloatArray, y: FloatArray) -> tuple[FloatArray, float]:
    """Residual of the polynomial fit of ``y`` on sums ``Z``, and its relative size."""
    features = _polynomial_design(Z)[:, 1:]  # least_squares adds the intercept
    coefficients, intercept = least_squares(features, y)
    residual = y - features @ coefficients - intercept
    return residual, float(residual @ residual) / float(np.sum((y - y.mean()) ** 2))


def _partition_loss(X: FloatArray, y: FloatArray, labels: IntArray) -> float:
    return _polynomial_residual(_group_sums(X, labels), y)[1]


def _split_until_smooth(
    X: FloatArray, y: FloatArray, labels: IntArray
) -> tuple[IntArray, float]:
    """Split groups while that makes ``y`` a smoother function of the group sums."""
    residual, loss = _polynomial_residual(_group_sums(X, labels), y)
    while loss > EXACT_LOSS and int(labels.max()) + 1 < MAX_GROUPS:
        best_loss, best = loss, labels
        for members in _split_candidates(X, residual, labels):
            trial = labels.copy()
            trial[members] = int(labels.max()) + 1
            trial_loss = _partition_loss(X, y, trial)
            if trial_loss < best_loss:
                best_loss, best = trial_loss, trial
        if best_loss > (1.0 - SPLIT_MIN_DROP) * loss:
            break
        labels = _refine(X, y, best, best_loss)
        residual, loss = _polynomial_residual(_group_sums(X, labels), y)
    return labels, loss


def _split_candidates(
    X: FloatArray, residual: FloatArray, labels: IntArray
) -> list[IntArray]:
    """List inputs to split off each group, from the residual's interactions.

    For each group, two matrices over its inputs: the residual's Hessian
    estimate ``M_ij = mean(e x_i x_j)`` (centred inputs, diagonal dropped) and
    the Gram matrix of first-order profiles ``mean(e x_i z_k)`` with the group
    sums ``z``. Their leading eigenvector separates the classes a group mixes;
    the cut is the best two-means split of its values or of their magnitudes.
    """
    centred = X - X.mean(axis=0)
    sums = _group_sums(X, labels)
    multipliers = np.column_stack([np.ones(len(residual)), sums - sums.mean(axis=0)])
    profile = centred.T @ (residual[:, None] * multipliers)
    hessian = centred.T @ (residual[:, None] * centred)
    np.fill_diagonal(hessian, 0.0)
    candidates = []
    for group in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == group)
        if len(members) < 2:
            continue
        rows = profile[members] / np.maximum(np.linalg.norm(profile, axis=0), 1e-300)
        for matrix in (rows @ rows.T, hessian[np.ix_(members, members)]):
            values, vectors = np.linalg.eigh(matrix)
            leading = vectors[:, int(np.argmax(np.abs(values)))]
            for scores in (leading, np.abs(leading)):
                candidates.append(members[_two_means(scores)])
    return candidates


def _two_means(values: FloatArray) -> BoolArray:
    """Mark the upper part of the best split of ``values`` into two intervals."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    n = len(ordered)
    total, squares = np.cumsum(ordered), np.cumsum(ordered**2)
    left = np.arange(1, n)
    within = (
        squares[:-1]
        - total[:-1] ** 2 / left
        + (squares[-1] - squares[:-1])
        - (total[-1] - total[:-1]) ** 2 / (n - left)
    )
    cut = int(np.argmin(within)) + 1
    upper = np.zeros(n, dtype=bool)
    upper[order[cut:]] = True
    return upper


def _refine(X: FloatArray, y: FloatArray, labels: IntArray, loss: float) -> IntArray:
    """Move single inputs to the group that most lowers the residual, in sweeps.

    Each sweep tries only the :data:`N_SUSPECTS` inputs with the largest
    residual profile (see :func:`_suspects`), every other group for each.
    """
    labels = labels.copy()
    n_groups = int(labels.max()) + 1
    for _ in range(_REFINE_SWEEPS):
        if loss <= EXACT_LOSS:
            break
        residual, _ = _polynomial_residual(_group_sums(X, labels), y)
        moved = False
        for i in _suspects(X, residual, labels):
            own = labels[i]
            if np.count_nonzero(labels == own) == 1:
                continue
            for group in range(n_groups):
                if group == own:
                    continue
                labels[i] = group
                trial_loss = _partition_loss(X, y, labels)
                if trial_loss < (1.0 - MOVE_MIN_DROP) * loss:
                    loss, own, moved = trial_loss, group, True
                labels[i] = own
        if not moved:
            break
    return labels


def _suspects(X: FloatArray, residual: FloatArray, labels: IntArray) -> IntArray:
    """Return the inputs whose residual profile stands out most, largest first.

    The profile of input ``i`` holds the t-statistics of ``mean(e x_i w)``
    for the multipliers ``w`` = 1 and each group sum: an input in the wrong
    group leaves its share of ``y``, a product of ``x_i`` with sums, in ``e``.
    """
    centred = X - X.mean(axis=0)
    sums = _group_sums(X, labels)
    multipliers = np.column_stack([np.ones(len(residual)), sums - sums.mean(axis=0)])
    weighted = residual[:, None] * multipliers
    statistic = (centred.T @ weighted) / np.sqrt(
        np.maximum((centred**2).T @ (weighted**2), np.finfo(float).tiny)
    )
    score = np.sum(statistic**2, axis=1)
    return np.argsort(-score, kind="stable")[:N_SUSPECTS]


def _relevant_groups(
    X: FloatArray, y: FloatArray, labels: IntArray, loss: float
) -> tuple[int, ...]:
    """Return the groups whose sum the polynomial cannot do without."""
    sums = _group_sums(X, labels)
    relevant = []
    for group in range(sums.shape[1]):
        _, without = _polynomial_residual(np.delete(sums, group, axis=1), y)
        if without > max(loss / (1.0 - SPLIT_MIN_DROP), EXACT_LOSS):
            relevant.append(group)
    return tuple(relevant)
