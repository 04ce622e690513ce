"""Beam search over sums of function terms, for each transform of the target."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import sympy
import torch

from nalu_sr.extraction.candidate import (
    Candidate,
    Head,
    Split,
    expression_complexity,
    fit_head,
    symbolic_fit,
)
from nalu_sr.extraction.simplify import simplify_checked
from nalu_sr.functions.dictionary import Dictionary, build_dictionary, restricted
from nalu_sr.functions.ranking import Ranker
from nalu_sr.functions.refine import (
    cancellation,
    degenerate,
    fitted_slots,
    head_prediction,
    refine,
    simpler_terms,
    snap_constants,
)
from nalu_sr.functions.terms import Term, term_matrix
from nalu_sr.functions.transforms import (
    TargetTransform,
    noise_weights,
    target_transforms,
    tempered_weights,
)
from nalu_sr.linalg import relative_error
from nalu_sr.primitives import PrimitiveSet
from nalu_sr.units.snapped import to_sympy_number

_SIMPLIFY_CHECK_ROWS = 64
_SIMPLIFY_MAX_OPS = 200
#: Sums whose terms exceed the target's spread by more than this are dropped.
MAX_CANCELLATION = 1e3
#: Most inputs the function search takes on: its dictionary (and one ranking's
#: cost) grows with the square of the number of inputs.
MAX_FEATURES = 20
_BACKFIT_SWEEPS = 2
_MAX_ADDITIVE_FEATURES = 6


@dataclass(frozen=True)
class FunctionSearchConfig:
    """Settings of :func:`search_functions`.

    Attributes
    ----------
    primitives : PrimitiveSet
        Functions the terms may apply (its unary, non-structural members).
    tol : float
        Relative loss that snapping and simplifying may always reach.
    max_terms : int, default=3
        Most terms in a sum.
    beam_width : int, default=3
        Partial sums kept at each depth.
    n_children : int, default=5
        Ranked terms refined for each kept sum.
    n_rank_rows, n_refine_rows : int, default=400, 1000
        Training rows used to rank and to refine.
    transforms : tuple of str
        Target transforms searched, in order; by default all of them,
        ``("identity", "inverse", "log", "square", "inverse_square")``.
    stop_loss : float or None, default=None
        Relative validation loss at or below which a formula is a law and the
        search stops; ``None`` means ``tol``.
    """

    primitives: PrimitiveSet
    tol: float
    max_terms: int = 3
    beam_width: int = 3
    n_children: int = 5
    n_rank_rows: int = 400
    n_refine_rows: int = 1000
    transforms: tuple[str, ...] = (
        "identity",
        "inverse",
        "log",
        "square",
        "inverse_square",
    )
    stop_loss: float | None = None

    @property
    def law_loss(self) -> float:
        """``stop_loss``, or ``tol`` when it is not set."""
        return self.tol if self.stop_loss is None else self.stop_loss


@dataclass(frozen=True)
class _State:
    terms: tuple[Term, ...]
    loss: float

    def key(self) -> tuple[str, ...]:
        return tuple(sorted(term.describe() for term in self.terms))


def search_functions(
    split: Split,
    symbols: Sequence[sympy.Symbol],
    config: FunctionSearchConfig,
    deadline: float | None = None,
) -> list[Candidate]:
    """Search sums of function terms; return one candidate per transform and depth.

    Sums grow one term at a time for every transform of the target together
    (see :func:`_schedule`), so a simple formula under one transform is found
    before a longer approximation under another.

    Parameters
    ----------
    split : Split
        Training and validation rows.
    symbols : sequence of sympy.Symbol
        One symbol per feature.
    config : FunctionSearchConfig
        Settings.
    deadline : float or None, default=None
        A :func:`time.perf_counter` time after which no new step starts.

    Returns
    -------
    list of Candidate
        Verified formulas; the search ends at the first exact one. Empty for
        more than :data:`MAX_FEATURES` inputs.
    """
    if split.X_train.shape[1] > MAX_FEATURES:
        return []  # the dictionary grows with the square of the inputs
    y_all = np.concatenate([split.y_train, split.y_val])
    dictionary = build_dictionary(config.primitives, split.X_train)
    beams = [
        _Beam(split, transform, dictionary, config)
        for transform in target_transforms(y_all, config.transforms)
    ]
    candidates: list[Candidate] = []
    for beam in _schedule(beams, config.max_terms):
        if _past(deadline):
            return candidates
        state = beam.grow(deadline)
        if state is None:
            continue
        candidate = _to_candidate(
            state, beam.transform, split, symbols, config.tol, deadline
        )
        if candidate is not None:
            candidates.append(candidate)
            if candidate.validation_loss <= config.law_loss:
                return candidates
    return candidates


def _schedule(beams: list[_Beam], max_terms: int) -> list[_Beam]:
    """Order in which the beams grow by one term.

    The untransformed target's sums of one and two terms come first (most
    laws, and every sum of two monomials, are found there at once); then
    every other transform's sums of one and two terms; then the longer sums
    of all transforms. A short formula under any transform is thus tried
    before a long one under another.
    """
    first, others = beams[:1], beams[1:]
    order = [*first, *first, *others, *others]
    for _ in range(2, max_terms):
        order += beams
    return order


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


class _Rows(NamedTuple):
    """The first rows of the inputs, the transformed target and the weights."""

    X: torch.Tensor
    z: np.ndarray
    weights: np.ndarray | None

    @classmethod
    def first(
        cls, X: torch.Tensor, z: np.ndarray, weights: np.ndarray | None, count: int
    ) -> _Rows:
        return cls(X[:count], z[:count], None if weights is None else weights[:count])


class _Beam:
    """Sums of terms for one transform of the target, grown one term at a time."""

    def __init__(
        self,
        split: Split,
        transform: TargetTransform,
        dictionary: Dictionary,
        config: FunctionSearchConfig,
    ) -> None:
        z_split = transformed(split, transform)
        n_rows = max(config.n_rank_rows, config.n_refine_rows)
        X = torch.as_tensor(split.X_train[:n_rows], dtype=torch.float64)
        z, weights = z_split.y_train, z_split.w_train
        self.transform = transform
        self._dictionary = dictionary
        self._config = config
        rank = _Rows.first(X, z, weights, config.n_rank_rows)
        # Terms are chosen under tempered noise weights and fitted under the
        # full ones: see tempered_weights.
        self._rank = rank._replace(weights=tempered_weights(rank.weights))
        self._refine = _Rows.first(X, z, weights, config.n_refine_rows)
        self._states = [_State((), math.inf)]
        self._rankers: dict[int | None, Ranker] = {}
        self._additive = 1 < X.shape[1] <= _MAX_ADDITIVE_FEATURES

    def _ranker(self, feature: int | None = None) -> Ranker:
        """Return the ranker of the whole dictionary, or of one input's part."""
        if feature not in self._rankers:
            dictionary = self._dictionary
            if feature is not None:
                dictionary = restricted(dictionary, feature)
            self._rankers[feature] = Ranker(dictionary, self._rank.X)
        return self._rankers[feature]

    def grow(self, deadline: float | None) -> _State | None:
        """Add one term to each kept sum; return the best new sum, if any."""
        if self._states and self._states[0].loss <= self._config.law_loss:
            return None  # already exact
        children: dict[tuple[str, ...], _State] = {}
        for state in self._states:
            if _past(deadline):
                break
            for child in self._children(state):
                known = children.get(child.key())
                if known is None or child.loss < known.loss:
                    children[child.key()] = child
        ranked = sorted(children.values(), key=lambda s: s.loss)
        self._states = ranked[: self._config.beam_width]
        return self._states[0] if self._states else None

    def _children(self, state: _State) -> list[_State]:
        rows, fit = self._rank, self._refine
        exclude = frozenset(t.describe() for t in state.terms)
        fixed = term_matrix(state.terms, rows.X)
        ranked = self._ranker().rank(
            rows.z, fixed, self._config.n_children, exclude, rows.weights
        )
        children = []
        for term in ranked:
            terms, _ = refine([*state.terms, term], fit.X, fit.z, weights=fit.weights)
            child = self._checked(terms)
            if child is not None:
                children.append(child)
        if not state.terms and self._additive:
            child = self._checked(self._additive_start())
            if child is not None:
                children.append(child)
        return children

    def _checked(self, terms: Sequence[Term]) -> _State | None:
        """Simplify refined terms; ``None`` when they fit only by a numerical trick."""
        X, z, weights = self._refine
        terms, loss = simpler_terms(terms, X, z, self._config.tol, weights)
        if not terms or any(degenerate(t, X) for t in terms):
            return None
        if cancellation(terms, X, z, weights) > MAX_CANCELLATION:
            return None
        return _State(tuple(terms), loss)

    def _additive_start(self) -> list[Term]:
        """One term per input, by backfitting: ``g0(x0) + g1(x1) + ...``.

        Greedy growth misses additive laws whose parts are alike in size
        (``sin(x0) + cos(x1)``): a single term mixing both inputs explains
        more than either part. Each sweep refits each input's term to what
        the other inputs' terms leave.
        """
        rows, fit = self._rank, self._refine
        chosen: dict[int, Term] = {}
        for _ in range(_BACKFIT_SWEEPS):
            for feature in range(rows.X.shape[1]):
                others = [t for i, t in sorted(chosen.items()) if i != feature]
                fixed = term_matrix(others, rows.X)
                ranked = self._ranker(feature).rank(
                    rows.z, fixed, 1, weights=rows.weights
                )
                if ranked:
                    terms, _ = refine(
                        [*others, ranked[0]], fit.X, fit.z, weights=fit.weights
                    )
                    chosen[feature] = terms[-1]
        return [chosen[i] for i in sorted(chosen)]


def _to_candidate(
    state: _State,
    transform: TargetTransform,
    split: Split,
    symbols: Sequence[sympy.Symbol],
    tol: float,
    deadline: float | None = None,
) -> Candidate | None:
    """Snap a state's constants, refit its head on all rows, verify, emit.

    Constants may become simple numbers (multiples of pi or e included)
    only in an exact formula or in one whose every constant is then simple
    (a law under noise): when a formula that is not exact keeps fitted
    floats (an approximation), its constants are snapped again without
    them, since a ``21*E/35`` or an ``8/11`` in a fitted series means nothing.
    """
    symbolic = _symbolic_start(state, transform, split)
    fitted = _fit_terms(state.terms, transform, split, tol, symbolic)
    if symbolic and fitted is not None and _approximate(fitted, tol):
        fitted = _fit_terms(state.terms, transform, split, tol, symbolic=False)
    if fitted is None:
        return None
    terms, head, train_loss, val_loss = fitted
    expression = transform.inverse_sympy(_head_expression(head, terms, symbols))
    # An approximation (float constants) is only tidied: SymPy's polynomial
    # steps on its fitted powers and functions filled 24 GB on one Feynman law.
    expression = simplify_checked(
        expression,
        symbols,
        split.X_val[:_SIMPLIFY_CHECK_ROWS],
        max_ops=0 if expression.atoms(sympy.Float) else _SIMPLIFY_MAX_OPS,
        deadline=deadline,
    )
    return Candidate(
        expression=expression,
        complexity=expression_complexity(expression),
        train_loss=train_loss,
        validation_loss=val_loss,
        architecture=f"function/{transform.name}",
        width=len(head.columns),
        seed=None,
    )


def transformed(split: Split, transform: TargetTransform) -> Split:
    """Return the rows with the target transformed, weighted by its noise."""
    with np.errstate(all="ignore"):
        z_train = transform.forward(split.y_train)
        z_val = transform.forward(split.y_val)
    return Split(
        split.X_train,
        z_train,
        split.X_val,
        z_val,
        noise_weights(transform, split.y_train, split.w_train),
        noise_weights(transform, split.y_val, split.w_val),
    )


#: Share of the training rows on which an unsnapped fit may have no inverse
#: (the square root of a sum fitted slightly below zero, at a distance near
#: zero under noise) and still be judged on the others by :func:`_symbolic_start`.
MAX_UNDEFINED_SHARE = 0.01


def _symbolic_start(state: _State, transform: TargetTransform, split: Split) -> bool:
    """Whether the state's unsnapped fit is close enough for symbolic constants.

    It is judged on the rows where it has an inverse: snapping the fitted
    intercept to zero usually gives back the few others.
    """
    X_train = torch.as_tensor(split.X_train, dtype=torch.float64)
    z_split = transformed(split, transform)
    with np.errstate(all="ignore"):
        H_start = term_matrix(state.terms, X_train)
        fitted = head_prediction(H_start, z_split.y_train, z_split.w_train)
        prediction = transform.inverse(fitted)
    rows = np.isfinite(prediction)
    if np.mean(rows) < 1 - MAX_UNDEFINED_SHARE:
        return False
    weights = None if split.w_train is None else split.w_train[rows]
    return symbolic_fit(prediction[rows], split.y_train[rows], weights)


class _FittedTerms(NamedTuple):
    """Snapped terms, their head, and the losses on the original target."""

    terms: list[Term]
    head: Head
    train_loss: float
    validation_loss: float


def _fit_terms(
    start: Sequence[Term],
    transform: TargetTransform,
    split: Split,
    tol: float,
    symbolic: bool,
) -> _FittedTerms | None:
    """Snap inner constants, fit the head on the transformed target, score it."""
    X_train = torch.as_tensor(split.X_train, dtype=torch.float64)
    X_val = torch.as_tensor(split.X_val, dtype=torch.float64)
    z_split = transformed(split, transform)
    with np.errstate(all="ignore"):
        terms, _ = snap_constants(
            start, X_train, z_split.y_train, tol, symbolic, z_split.w_train
        )
        if any(degenerate(t, X_train) for t in terms):
            terms = list(start)  # snapping refits; keep a sound start
        H_train, H_val = term_matrix(terms, X_train), term_matrix(terms, X_val)
    if not np.all(np.isfinite(z_split.y_val)):
        return None
    finite = np.all(np.isfinite(H_train), axis=0) & np.all(np.isfinite(H_val), axis=0)
    columns = [int(j) for j in np.flatnonzero(finite)]
    # Whether the fit is within the noise was judged on y (_symbolic_start):
    # a transform changes the scale of the residuals, and z alone misjudges it.
    head = fit_head(H_train, H_val, z_split, columns, tol, symbolic)
    with np.errstate(all="ignore"):
        val_loss = relative_error(
            transform.inverse(head.predict(H_val)), split.y_val, split.w_val
        )
        train_loss = relative_error(
            transform.inverse(head.predict(H_train)), split.y_train, split.w_train
        )
    if not math.isfinite(val_loss):
        return None
    return _FittedTerms(terms, head, train_loss, val_loss)


def _approximate(fitted: _FittedTerms, tol: float) -> bool:
    """Whether a fit is not exact and still holds a fitted float somewhere."""
    if fitted.validation_loss <= tol:
        return False
    head = fitted.head
    numbers = [*head.coefficients, head.intercept]
    return bool(fitted_slots(fitted.terms)) or any(
        isinstance(number, float) for number in numbers
    )


def _head_expression(
    head: Head, terms: Sequence[Term], symbols: Sequence[sympy.Symbol]
) -> sympy.Expr:
    total = to_sympy_number(head.intercept)
    for column, coefficient in zip(head.columns, head.coefficients, strict=True):
        total = total + to_sympy_number(coefficient) * terms[column].to_sympy(symbols)
    return total
