"""Candidate terms, and their ranking by least squares next to the terms found.

Every (primitive, argument, scale, factor) choice in a small dictionary is a
column; each column is scored by the residual it leaves when added to the
intercept and the terms already chosen. This is the attention over primitives
evaluated exhaustively on a sample of rows: cheap (a few matrix products), and
it gives the refinement stage starts that are already near the answer, which a
random start of a periodic or saturating function seldom is.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
import torch

from nalu_sr.functions.refine import free_slots
from nalu_sr.functions.terms import ONE, ZERO, Argument, Term, monomial
from nalu_sr.primitives import (
    BUILTIN_PRIMITIVES,
    Primitive,
    PrimitiveSet,
    resolve_primitives,
)

_PERIODIC_SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, math.pi / 2, math.pi)
_MONOTONE_SCALES = (-2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0)
_ODD_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Primitives whose scale is absorbed by the head (``log(a*g) = log a + log g``).
_SCALE_FREE = frozenset({"log", "sqrt", "inv", "identity", "abs", "square", "cube"})
_SCALES = {"sin": _PERIODIC_SCALES, "cos": _PERIODIC_SCALES, "tanh": _ODD_SCALES}
#: Primitives the structure already provides (sums, products, powers).
_STRUCTURAL = frozenset({"add", "sub", "mul", "div", "neg", "square", "cube"})
_CUSTOM_OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_MAX_INNER = 60.0
_MAX_VALUE = 1e12
_MAX_PAIR_FEATURES = 12
_MAX_PAIR_FACTOR_FEATURES = 6
_MAX_TRIPLE_FEATURES = 6
_MAX_TRIPLE_ARGUMENT_FEATURES = 4


@dataclass(frozen=True)
class Dictionary:
    """The choices one ranking scores.

    Attributes
    ----------
    primitives : tuple of Primitive
        Unary primitives the terms apply.
    arguments : tuple of Argument
        Arguments ``g``.
    factors : tuple of tuple of Fraction
        Exponents of the monomial factors ``P``, the constant factor first.
    monomials : tuple of tuple of Fraction
        Further monomials offered as plain terms only (products of three
        inputs), too many to multiply every function by.
    """

    primitives: tuple[Primitive, ...]
    arguments: tuple[Argument, ...]
    factors: tuple[tuple[Fraction, ...], ...]
    monomials: tuple[tuple[Fraction, ...], ...] = ()


def restricted(dictionary: Dictionary, feature: int) -> Dictionary:
    """Return the part of ``dictionary`` whose terms depend on ``feature`` alone."""

    def alone(exponents: Sequence[object]) -> bool:
        return all(e == 0 for i, e in enumerate(exponents) if i != feature)

    arguments = tuple(
        a for a in dictionary.arguments if alone(a.exponents or a.weights or ())
    )
    factors = tuple(f for f in dictionary.factors if alone(f))
    monomials = tuple(m for m in dictionary.monomials if alone(m))
    return Dictionary(dictionary.primitives, arguments, factors, monomials)


def build_dictionary(primitives: PrimitiveSet, X: np.ndarray) -> Dictionary:
    """Make the dictionary for ``X`` from the unary, non-structural primitives.

    Fractional powers are offered only for inputs positive in every row, so a
    term's formula and its values agree for every row.
    """
    positive = tuple(bool(v) for v in np.all(X > 0, axis=0))
    unary = tuple(p for p in primitives if p.arity == 1 and p.name not in _STRUCTURAL)
    if not any(p.name == "identity" for p in unary):
        # (x0 - x1)*x2 and (x1 - x2)**2 are products and powers of sums
        unary = (*unary, resolve_primitives(("identity",))[0])
    return Dictionary(
        unary, _arguments(positive), _factors(positive), _triples(len(positive))
    )


def _all_pairs(n: int, powers: Sequence[Fraction]) -> list[tuple[Fraction, ...]]:
    """Monomials of two inputs with both exponents from ``powers``."""
    rows = []
    for i, j in itertools.combinations(range(n), 2):
        for a, b in itertools.product(powers, repeat=2):
            row = [Fraction(0)] * n
            row[i], row[j] = a, b
            rows.append(tuple(row))
    return rows


def _triples(n: int) -> tuple[tuple[Fraction, ...], ...]:
    """Monomials of two or three inputs, exponents in {-2, -1, 1, 2}.

    Plain terms such as ``v**2/(c**2*m)``; those of three inputs with
    exponents in {-1, 1} are also function arguments, for up to
    :data:`_MAX_TRIPLE_ARGUMENT_FEATURES` inputs.
    """
    if n > _MAX_TRIPLE_FEATURES:
        return ()
    powers = (Fraction(-2), Fraction(-1), Fraction(1), Fraction(2))
    rows = list(_all_pairs(n, powers))
    for chosen in itertools.combinations(range(n), 3):
        for exponents in itertools.product(powers, repeat=3):
            row = [Fraction(0)] * n
            for i, e in zip(chosen, exponents, strict=True):
                row[i] = e
            rows.append(tuple(row))
    return tuple(rows)


def _redundant(primitive: Primitive, argument: Argument) -> bool:
    """Whether ``primitive(argument)`` is another dictionary term in disguise.

    ``log(x**2)`` is ``2*log(x)`` and ``inv`` of a monomial is a monomial
    factor: keeping one form keeps formulas simple and the ranking free of
    ties. (``identity`` of a monomial is kept: with its offset it is the
    factored sum ``P*(g + b)``, as in ``(1 - v**2/c**2)/m**2``.)
    """
    name = primitive.name
    if argument.exponents is None:
        return name == "log" and argument.power != 1
    if name == "inv":
        return True
    if name in ("log", "sqrt"):
        nonzero = [e for e in argument.exponents if e != 0]
        return nonzero[0] < 0 or any(abs(e) != 1 for e in nonzero)
    return False


def term_complexity(term: Term) -> int:
    """Return a rough size of a term, to prefer the simpler of two equal fits."""
    size = sum(1 for e in term.factor if e != 0)
    if term.primitive is not None and term.argument is not None:
        argument = term.argument.exponents or term.argument.weights or ()
        size += 1 + sum(1 for e in argument if e != 0) + int(term.primitive.complexity)
    return size


def _unit(n: int, i: int, value: Fraction) -> list[Fraction]:
    row = [Fraction(0)] * n
    row[i] = value
    return row


def _single_powers(positive: Sequence[bool], powers: Sequence[Fraction]) -> list:
    n = len(positive)
    rows = []
    for i in range(n):
        for power in powers:
            if power.denominator == 1 or positive[i]:
                rows.append(tuple(_unit(n, i, power)))
    return rows


def _pairs(n: int, signs: Sequence[tuple[int, int]]) -> list[tuple[Fraction, ...]]:
    rows = []
    for i, j in itertools.combinations(range(n), 2):
        for a, b in signs:
            row = [Fraction(0)] * n
            row[i], row[j] = Fraction(a), Fraction(b)
            rows.append(tuple(row))
    return rows


def _arguments(positive: Sequence[bool]) -> tuple[Argument, ...]:
    n = len(positive)
    half = Fraction(1, 2)
    monomials = _single_powers(positive, (Fraction(1), Fraction(2), Fraction(-1), half))
    if n <= _MAX_PAIR_FEATURES:
        monomials += _pairs(n, ((1, 1), (1, -1), (-1, 1)))
    if n <= _MAX_PAIR_FACTOR_FEATURES:  # theta**2/sigma**2, x0**2*x1
        monomials += _pairs(n, ((2, -2), (-2, 2), (2, 2), (2, -1), (1, -2)))
    if n <= _MAX_TRIPLE_ARGUMENT_FEATURES:
        monomials += [
            row
            for row in _triples(n)
            if sum(e != 0 for e in row) == 3
            and all(abs(e) <= 1 for e in row)
            and sum(e > 0 for e in row) >= 1
        ]
    arguments = [Argument(exponents=row) for row in monomials]
    pairs = itertools.combinations(range(n), 2) if n <= _MAX_PAIR_FEATURES else ()
    for i, j in pairs:
        for sign in (1, -1):
            weights = [0] * n
            weights[i], weights[j] = 1, sign
            for power in (1, 2):
                arguments.append(Argument(weights=tuple(weights), power=power))
    return tuple(arguments)


def _factors(positive: Sequence[bool]) -> tuple[tuple[Fraction, ...], ...]:
    n = len(positive)
    powers = (Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2))
    factors = [tuple([Fraction(0)] * n), *_single_powers(positive, powers)]
    if n <= _MAX_PAIR_FACTOR_FEATURES:
        factors += _pairs(n, ((1, 1), (1, -1), (-1, 1), (2, -1), (1, -2)))
    return tuple(factors)


def scales_of(primitive: Primitive) -> tuple[float, ...]:
    """Inner scales tried for ``primitive`` before refinement."""
    if primitive.name in _SCALE_FREE:
        return (1.0,)
    return _SCALES.get(primitive.name, _MONOTONE_SCALES)


def starts_of(primitive: Primitive) -> list[tuple[sympy.Expr | float, ...]]:
    """Return the starting ``(scale, offset)`` pairs tried for ``primitive``.

    Fixed constants are exact (``1`` and ``0``). A custom primitive has no
    known symmetry, so it is also tried shifted: ``softplus(x - 3)`` needs an
    offset that a start at 0 may not reach.
    """
    scale_free, offset_free = free_slots(primitive)
    scales: tuple[sympy.Expr | float, ...] = (ONE,)
    if scale_free:
        scales = scales_of(primitive)
    offsets: tuple[sympy.Expr | float, ...] = (ZERO,)
    if offset_free:
        custom = primitive.name not in BUILTIN_PRIMITIVES.names
        offsets = _CUSTOM_OFFSETS if custom else (0.0,)
        if primitive.name == "identity":
            offsets = (-1.0, 0.0, 1.0)
    return [(scale, offset) for scale in scales for offset in offsets]


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
                if not _redundant(primitive, argument)
            ]
            if not kept:
                continue
            for scale, offset in starts_of(primitive):
                inner = float(scale) * values[:, kept] + float(offset)
                column = _apply(primitive, inner)
                usable = _usable(inner, column)
                for i, good in zip(kept, usable.tolist(), strict=True):
                    if good:
                        argument = dictionary.arguments[i]
                        terms.append(
                            Term(no_factor, primitive, argument, scale, offset)
                        )
                blocks.append(column[:, usable])
    if not terms:
        return [], np.zeros((X.shape[0], 0))
    return terms, torch.cat(blocks, dim=1).numpy()


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


def _usable(inner: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Columns whose argument is bounded and whose value is finite and varies."""
    bounded = (inner.abs() <= _MAX_INNER).all(dim=0)
    finite = torch.isfinite(value).all(dim=0)
    magnitude = value.abs().amax(dim=0) < _MAX_VALUE
    varies = torch.nan_to_num(value.std(dim=0, correction=0), nan=0.0) > 0
    return bounded & finite & magnitude & varies


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
    ) -> list[Term]:
        """Return the ``n_best`` terms that best fit ``y`` beside ``fixed``.

        See :func:`rank_terms`.
        """
        base, factors = self._base, self._factors
        screen = slice(SCREEN_ROWS)
        scores = _score_table(base[screen], factors[screen], y[screen], fixed[screen])
        shortlist = _lowest(scores, SHORTLIST * n_best)
        if not shortlist:
            return []
        columns = np.stack([_column(j, k, base, factors) for k, j in shortlist], axis=1)
        final = _scores(columns, *_residual_basis(y, fixed))
        entries = []
        for (k, j), score in zip(shortlist, final, strict=True):
            if math.isfinite(score):
                term = _term_at(j - 1, k, self._base_terms, self.dictionary)
                entries.append((_rounded(score), term_complexity(term), k, j, term))
        entries += self._plain_entries(y, fixed)
        entries.sort(key=lambda e: e[:4])
        chosen: list[Term] = []
        for *_, term in entries:
            if len(chosen) >= n_best:
                break
            if term.describe() not in exclude:
                chosen.append(term)
                exclude = exclude | {term.describe()}
        return chosen

    def _plain_entries(self, y: np.ndarray, fixed: np.ndarray) -> list[tuple]:
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
        scores = _scores(columns, *_residual_basis(y, fixed))
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

    Returns
    -------
    list of Term
        Best first; plain monomials and function terms compete, and of two
        fits that agree to three digits the simpler term comes first.
    """
    return Ranker(dictionary, X).rank(y, fixed, n_best, exclude)


#: Rows every dictionary term is scored on, and shortlisted terms per term asked.
SCREEN_ROWS = 128
SHORTLIST = 40


def _column(j: int, k: int, base: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Entry ``(k, j)`` of the score table: factor ``k`` alone (j=0) or times base."""
    return factors[:, k] if j == 0 else factors[:, k] * base[:, j - 1]


def _residual_basis(
    y: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    basis = _orthonormal_basis(fixed)
    residual = y - basis @ (basis.T @ y)
    total = float(np.sum((y - y.mean()) ** 2)) or 1.0
    return basis, residual, total


def _score_table(
    base: np.ndarray, factors: np.ndarray, y: np.ndarray, fixed: np.ndarray
) -> np.ndarray:
    """Scores of shape ``(n_factors, 1 + n_base)``: factor alone, then times base.

    No product column is formed: for column ``c = f * b`` the scores need
    ``r.c``, ``|c|**2`` and ``|Q^T c|**2``, and each is one matrix product of
    the factors (times the residual ``r``, themselves squared, or times a
    basis vector of ``Q``) with the base columns, for all factors at once.
    """
    basis, residual, total = _residual_basis(y, fixed)
    columns = np.column_stack([np.ones(len(y)), base])
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


def _orthonormal_basis(fixed: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning the intercept and the finite fixed columns."""
    design = np.column_stack([np.ones(fixed.shape[0]), fixed])
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
