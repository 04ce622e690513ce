"""Ranking dictionary terms by least squares next to the terms already found.

Every (primitive, argument, scale, factor) choice of the dictionary is a
column; each column is scored by the residual it leaves when added to the
intercept and the terms already chosen. This is the attention over primitives
evaluated exhaustively on a sample of rows: cheap (a few matrix products), and
it gives the refinement stage starts that are already near the answer, which a
random start of a periodic or saturating function seldom is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
import torch

from nalu_sr.functions.dictionary import (
    Dictionary,
    redundant,
    starts_of,
    term_complexity,
)
from nalu_sr.functions.refine import free_slots
from nalu_sr.functions.terms import ONE, Term, monomial
from nalu_sr.primitives import Primitive

_MAX_INNER = 60.0
#: Primitives that grow more slowly than their argument and absorb its scale
#: in the head: any argument magnitude is usable (``log(x)`` on [1, 100]).
_ANY_ARGUMENT = frozenset({"log", "sqrt"})
_MAX_VALUE = 1e12
_MAX_OWN_EXPONENT = 4


def _base_terms(
    dictionary: Dictionary, X: torch.Tensor
) -> tuple[list[Term], np.ndarray]:
    """Every ``u(a * g)`` with finite, bounded, non-constant values on ``X``."""
    terms: list[Term] = []
    blocks: list[torch.Tensor] = []
    no_factor = dictionary.factors[0]
    with torch.no_grad():
        values = torch.stack([a.values(X) for a in dictionary.arguments], dim=1)
        for primitive in dictionary.primitives:
            kept = [
                i
                for i, argument in enumerate(dictionary.arguments)
                if not redundant(primitive, argument)
            ]
            if not kept:
                continue
            starts = [
                (torch.full((len(kept),), float(scale)), offset_vector, scale, offset)
                for scale, offset in starts_of(primitive)
                for offset_vector in [torch.full((len(kept),), float(offset))]
            ]
            starts += _ranged_starts(primitive, values[:, kept])
            for scales, offsets, scale, offset in starts:
                inner = scales * values[:, kept] + offsets
                column = _apply(primitive, inner)
                usable = _usable(inner, column, primitive.name in _ANY_ARGUMENT)
                for k, (i, good) in enumerate(zip(kept, usable.tolist(), strict=True)):
                    if good:
                        terms.append(
                            Term(
                                no_factor,
                                primitive,
                                dictionary.arguments[i],
                                float(scales[k]) if scale is None else scale,
                                float(offsets[k]) if offset is None else offset,
                            )
                        )
                blocks.append(column[:, usable])
    if not terms:
        return [], np.zeros((X.shape[0], 0))
    return terms, torch.cat(blocks, dim=1).numpy()


#: Shifts, in spreads of the argument, above zero of the least argument of a
#: positive-domain primitive (``log(x + 3)`` on [-2, 2]).
_DOMAIN_SHIFTS = (0.25, 1.0)
#: Arguments larger than this in magnitude also get exponentials of scales
#: divided by it: ``exp(-x/30)`` for ``x`` up to 100. (A periodic or
#: saturating primitive at such a scale is a linear term in disguise.)
_WIDE_ARGUMENT = 20.0
_WIDE_EXP_SCALES = (-2.0, -1.0, 1.0, 2.0)


def _ranged_starts(
    primitive: Primitive, values: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor, sympy.Expr | None, None]]:
    """Return starts set by each argument's range, one value per column.

    Fixed starts assume arguments of order one. A ``log`` or ``sqrt`` of a
    signed argument needs an offset that lifts it above zero; an
    exponential of a wide argument (``exp(-x/40)`` for ``x`` up to 100)
    needs a scale near the inverse of its size.
    """
    _, offset_free = free_slots(primitive)
    low, high = values.amin(dim=0), values.amax(dim=0)
    starts: list[tuple[torch.Tensor, torch.Tensor, sympy.Expr | None, None]] = []
    ones = torch.ones_like(low)
    # NaN marks the columns a start is not for: their values are not usable.
    if offset_free and primitive.name in _ANY_ARGUMENT and bool((low <= 0).any()):
        for shift in _DOMAIN_SHIFTS:
            offsets = torch.where(low <= 0, shift * (high - low) - low, math.nan)
            starts.append((ones, offsets, ONE, None))
    size = torch.maximum(low.abs(), high.abs())
    if primitive.name == "exp" and bool((size > _WIDE_ARGUMENT).any()):
        wide = torch.where(size > _WIDE_ARGUMENT, size, math.nan)
        for scale in _WIDE_EXP_SCALES:
            starts.append((scale / wide, torch.zeros_like(low), None, None))
    return starts


def _apply(primitive: Primitive, inner: torch.Tensor) -> torch.Tensor:
    """Apply the primitive to every column at once (one by one if it must)."""
    try:
        result = primitive.exact_forward(inner)
        if result.shape == inner.shape:
            return result
    except (RuntimeError, ValueError, TypeError):
        pass  # a custom function written for one column only
    return torch.stack(
        [primitive.exact_forward(inner[:, j]) for j in range(inner.shape[1])], dim=1
    )


def _usable(
    inner: torch.Tensor, value: torch.Tensor, any_magnitude: bool
) -> torch.Tensor:
    """Columns whose value is finite and varies, and whose argument is bounded.

    The bound keeps ``exp`` from overflowing and ``sin`` from oscillating
    faster than the rows sample it; ``log`` and ``sqrt`` take any argument
    (``any_magnitude``: ``log(x)`` with ``x`` up to 100).
    """
    finite = torch.isfinite(value).all(dim=0)
    magnitude = value.abs().amax(dim=0) < _MAX_VALUE
    varies = torch.nan_to_num(value.std(dim=0, correction=0), nan=0.0) > 0
    usable = finite & magnitude & varies
    if any_magnitude:
        return usable
    return usable & (inner.abs() <= _MAX_INNER).all(dim=0)


class Ranker:
    """Scores dictionary terms on fixed rows; built once, asked many times.

    Parameters
    ----------
    dictionary : Dictionary
        The choices.
    X : torch.Tensor
        Inputs, float64, shape ``(n, n_features)``.
    """

    def __init__(self, dictionary: Dictionary, X: torch.Tensor) -> None:
        self.dictionary = dictionary
        self._base_terms, self._base = _base_terms(dictionary, X)
        self._factors = np.stack(
            [monomial(X, f).numpy() for f in dictionary.factors], axis=1
        )
        self._X = X
        self._plain = [Term(m) for m in dictionary.monomials]
        self._plain_columns = term_columns(self._plain, X)

    def rank(
        self,
        y: np.ndarray,
        fixed: np.ndarray,
        n_best: int,
        exclude: frozenset[str] = frozenset(),
        weights: np.ndarray | None = None,
    ) -> list[Term]:
        """Return the ``n_best`` terms that best fit ``y`` beside ``fixed``.

        See :func:`rank_terms`.
        """
        scaled = _WeightedRows.of(y, fixed, weights)
        base, factors = self._base, scaled.scale(self._factors)
        screen = slice(SCREEN_ROWS)
        scores = _score_table(
            base[screen], factors[screen], scaled.at(screen).residual_basis()
        )
        shortlist = _lowest(scores, SHORTLIST * n_best)
        if not shortlist:
            return []
        columns = np.stack([_column(j, k, base, factors) for k, j in shortlist], axis=1)
        final = _scores(columns, *scaled.residual_basis())
        entries = []
        for (k, j), score in zip(shortlist, final, strict=True):
            if math.isfinite(score):
                term = _term_at(j - 1, k, self._base_terms, self.dictionary)
                entries.append((_rounded(score), term_complexity(term), k, j, term))
        entries += self._plain_entries(y, fixed, scaled)
        entries.sort(key=lambda e: e[:4])
        chosen: list[Term] = []
        for *_, term in entries:
            if len(chosen) >= n_best:
                break
            if term.describe() not in exclude:
                chosen.append(term)
                exclude = exclude | {term.describe()}
        return chosen

    def _plain_entries(
        self, y: np.ndarray, fixed: np.ndarray, scaled: _WeightedRows
    ) -> list[tuple]:
        """Scored plain monomials: the extra ones, and the residual's own.

        The residual's own monomial is the log-log least-squares fit of what
        the fixed terms leave, rounded to halves: exact when that remainder
        is one monomial of any number of inputs (``-g*m*x/(kb*T)``).
        """
        terms = [*self._plain]
        own = residual_monomial(self._X, y, fixed)
        if own is not None:
            terms.append(Term(own))
        if not terms:
            return []
        columns = np.column_stack(
            [self._plain_columns, term_columns(terms[len(self._plain) :], self._X)]
        )
        scores = _scores(scaled.scale(columns), *scaled.residual_basis())
        return [
            (_rounded(score), term_complexity(term), -1, index, term)
            for index, (term, score) in enumerate(zip(terms, scores, strict=True))
            if math.isfinite(score)
        ]


def residual_monomial(
    X: torch.Tensor, y: np.ndarray, fixed: np.ndarray
) -> tuple[Fraction, ...] | None:
    """Exponents of the monomial that best matches what ``fixed`` leaves of ``y``.

    ``None`` when the remainder changes sign (no monomial of these inputs
    does) or an input is zero somewhere.
    """
    if not (np.all(np.isfinite(fixed)) and np.all(np.isfinite(y))):
        return None
    remainder = y
    if fixed.shape[1]:  # no intercept: a monomial's mean is part of it
        remainder = y - fixed @ np.linalg.lstsq(fixed, y, rcond=None)[0]
    values = X.numpy()
    if not (np.all(remainder > 0) or np.all(remainder < 0)) or np.any(values == 0):
        return None
    design = np.column_stack([np.log(np.abs(values)), np.ones(len(y))])
    solution = np.linalg.lstsq(design, np.log(np.abs(remainder)), rcond=None)[0]
    halves = np.round(2 * solution[:-1]) / 2
    if not np.all(np.isfinite(halves)) or np.all(halves == 0):
        return None
    if np.abs(halves).max() > _MAX_OWN_EXPONENT:
        return None  # a remainder that is no monomial fits wild exponents
    return tuple(Fraction(float(h)).limit_denominator(2) for h in halves)


def term_columns(terms: Sequence[Term], X: torch.Tensor) -> np.ndarray:
    """Columns of plain terms on ``X`` (shape ``(n, len(terms))``)."""
    if not terms:
        return np.zeros((X.shape[0], 0))
    return np.column_stack([monomial(X, t.factor).numpy() for t in terms])


def rank_terms(
    dictionary: Dictionary,
    X: torch.Tensor,
    y: np.ndarray,
    fixed: np.ndarray,
    n_best: int,
    exclude: frozenset[str] = frozenset(),
    weights: np.ndarray | None = None,
) -> list[Term]:
    """Return the ``n_best`` dictionary terms that best fit ``y`` beside ``fixed``.

    Every term is scored on the first :data:`SCREEN_ROWS` rows; the best
    :data:`SHORTLIST` per requested term are scored again on all rows.

    Parameters
    ----------
    dictionary : Dictionary
        The choices.
    X : torch.Tensor
        Inputs, float64, shape ``(n, n_features)``.
    y : numpy.ndarray
        Targets, shape ``(n,)``.
    fixed : numpy.ndarray
        Columns of the terms already chosen, shape ``(n, k)``.
    n_best : int
        How many terms to return.
    exclude : frozenset of str
        :meth:`Term.describe` keys not to return (the terms already chosen).
    weights : numpy.ndarray or None, default=None
        Row weights: terms are scored by the weighted least-squares residual.

    Returns
    -------
    list of Term
        Best first; plain monomials and function terms compete, and of two
        fits that agree to three digits the simpler term comes first.
    """
    return Ranker(dictionary, X).rank(y, fixed, n_best, exclude, weights)


#: Rows every dictionary term is scored on, and shortlisted terms per term asked.
SCREEN_ROWS = 128
SHORTLIST = 40


def _column(j: int, k: int, base: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Entry ``(k, j)`` of the score table: factor ``k`` alone (j=0) or times base."""
    return factors[:, k] if j == 0 else factors[:, k] * base[:, j - 1]


@dataclass(frozen=True)
class _WeightedRows:
    """Target and fixed columns with every row scaled by its root weight.

    Weighted least squares on the original rows is ordinary least squares on
    rows scaled by the square roots of their weights, with the intercept
    column replaced by those roots; ``root`` is ``None`` for equal weights.
    """

    y: np.ndarray
    fixed: np.ndarray
    root: np.ndarray | None

    @classmethod
    def of(
        cls, y: np.ndarray, fixed: np.ndarray, weights: np.ndarray | None
    ) -> _WeightedRows:
        if weights is None:
            return cls(y, fixed, None)
        root = np.sqrt(weights)
        return cls(y * root, fixed * root[:, None], root)

    def scale(self, columns: np.ndarray) -> np.ndarray:
        """Scale the rows of other columns like the target's."""
        return columns if self.root is None else columns * self.root[:, None]

    def at(self, rows: slice) -> _WeightedRows:
        root = None if self.root is None else self.root[rows]
        return _WeightedRows(self.y[rows], self.fixed[rows], root)

    def residual_basis(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Basis of the intercept and fixed columns, the residual, the total."""
        y = self.y
        intercept = np.ones(len(y)) if self.root is None else self.root
        basis = _orthonormal_basis(self.fixed, intercept)
        residual = y - basis @ (basis.T @ y)
        if self.root is None:
            centred = y - y.mean()
        else:
            centred = y - intercept * (intercept @ y) / (intercept @ intercept)
        return basis, residual, float(np.sum(centred**2)) or 1.0


def _score_table(
    base: np.ndarray,
    factors: np.ndarray,
    residual_basis: tuple[np.ndarray, np.ndarray, float],
) -> np.ndarray:
    """Scores of shape ``(n_factors, 1 + n_base)``: factor alone, then times base.

    No product column is formed: for column ``c = f * b`` the scores need
    ``r.c``, ``|c|**2`` and ``|Q^T c|**2``, and each is one matrix product of
    the factors (times the residual ``r``, themselves squared, or times a
    basis vector of ``Q``) with the base columns, for all factors at once.
    """
    basis, residual, total = residual_basis
    columns = np.column_stack([np.ones(len(residual)), base])
    with np.errstate(all="ignore"):
        dots = (factors * residual[:, None]).T @ columns
        norms = (factors**2).T @ (columns**2)
        projected = sum(
            (((factors * q[:, None]).T @ columns) ** 2 for q in basis.T),
            start=np.zeros_like(norms),
        )
    return _score_values(dots, norms, projected, float(residual @ residual), total)


def _score_values(
    dots: np.ndarray,
    norms: np.ndarray,
    projected: np.ndarray,
    residual_norm: float,
    total: float,
) -> np.ndarray:
    """Relative residual after adding a column, from its three inner products.

    ``dots`` is the column's product with the residual (orthogonal to the
    basis already), ``norms`` its squared length and ``projected`` the squared
    length of its part in the basis; a column (nearly) inside the basis, or
    non-finite, scores infinity.
    """
    with np.errstate(all="ignore"):
        length = norms - projected
        score = (residual_norm - dots**2 / length) / total
        valid = np.isfinite(score) & (norms > 0) & (length > 1e-10 * norms)
    return np.where(valid, np.maximum(score, 0.0), math.inf)


def _lowest(table: np.ndarray, count: int) -> list[tuple[int, int]]:
    """Positions of the ``count`` lowest finite entries of ``table``."""
    flat = table.ravel()
    count = min(count, int(np.isfinite(flat).sum()))
    if count == 0:
        return []
    order = np.argpartition(flat, count - 1)[:count]
    order = order[np.argsort(flat[order], kind="stable")]
    width = table.shape[1]
    return [(int(i) // width, int(i) % width) for i in order]


def _rounded(score: float) -> float:
    return float(f"{max(score, 1e-12):.3g}")


def _term_at(j: int, k: int, base_terms: list[Term], dictionary: Dictionary) -> Term:
    factor = dictionary.factors[k]
    if j < 0:
        return Term(factor)
    base = base_terms[j]
    return Term(factor, base.primitive, base.argument, base.scale, base.offset)


def _orthonormal_basis(fixed: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning the intercept and the finite fixed columns."""
    design = np.column_stack([intercept, fixed])
    q, r = np.linalg.qr(design)
    keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, float(np.abs(r).max()))
    return q[:, keep]


def _scores(
    columns: np.ndarray, basis: np.ndarray, residual: np.ndarray, total: float
) -> np.ndarray:
    """Relative residual sum of squares of ``y`` after adding each column."""
    with np.errstate(all="ignore"):
        dots = residual @ columns
        norms = np.sum(columns**2, axis=0)
        projected = np.sum((basis.T @ columns) ** 2, axis=0)
    return _score_values(dots, norms, projected, float(residual @ residual), total)
