"""Beam search over sums of function terms, for each transform of the target."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import sympy
import torch

from nalu_sr.extraction.candidate import (
    Candidate,
    Split,
    expression_complexity,
)
from nalu_sr.extraction.simplify import simplify_found
from nalu_sr.functions.dictionary import Dictionary, build_dictionary, restricted
from nalu_sr.functions.polish import polished
from nalu_sr.functions.ranking import Ranker
from nalu_sr.functions.refine import (
    cancellation,
    degenerate,
    refine,
    simpler_terms,
)
from nalu_sr.functions.stacking import with_features
from nalu_sr.functions.terms import Term, term_matrix
from nalu_sr.functions.transforms import (
    TargetTransform,
    target_transforms,
    tempered_weights,
)
from nalu_sr.functions.verify import to_candidate, transformed
from nalu_sr.primitives import PrimitiveSet

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
    return FunctionSearch(split, symbols, config).run(deadline)


class FunctionSearch:
    """A function search that a deadline can pause and a later call resume.

    :func:`search_functions` runs one to its end or its deadline; a warm
    restart (``NALURegressor(warm_start=True)``) keeps the object of a round
    the deadline cut short and calls :meth:`run` again: the dictionary, the
    beams and the place in the schedule carry over, and the step the deadline
    cut runs again from the sums it started from.

    Parameters
    ----------
    split : Split
        Training and validation rows.
    symbols : sequence of sympy.Symbol
        One symbol per feature.
    config : FunctionSearchConfig
        Settings.
    features : sequence of sympy.Expr, default=()
        Features over ``symbols`` that a level below found (see
        :mod:`nalu_sr.functions.stacking`): this level searches over the
        inputs and them, and its formulas are rewritten over the inputs.
    """

    def __init__(
        self,
        split: Split,
        symbols: Sequence[sympy.Symbol],
        config: FunctionSearchConfig,
        features: Sequence[sympy.Expr] = (),
    ) -> None:
        self.inputs = _Inputs.of(split, symbols, features)
        self.split, self.symbols = self.inputs.widened()
        self.config = config
        self.schedule: list[_Beam] | None = None  # built on the first run
        self.position = 0
        self.finished = self.split.X_train.shape[1] > MAX_FEATURES
        self._cut: tuple[_Beam, list[_State]] | None = None

    def run(self, deadline: float | None = None) -> list[Candidate]:
        """Search on until the end, an exact sum or ``deadline``.

        Parameters
        ----------
        deadline : float or None, default=None
            A :func:`time.perf_counter` time after which no new step starts.

        Returns
        -------
        list of Candidate
            The formulas found in this call (a resumed search returns only
            the new ones); :attr:`finished` tells whether the search ended.
        """
        if self.finished:
            return []
        if self.schedule is None:
            self.schedule = self._build()
        if self._cut is not None:
            beam, states = self._cut
            beam.restore(states)  # the cut step runs again, whole
            self._cut = None
        candidates: list[Candidate] = []
        while self.position < len(self.schedule):
            if _past(deadline):
                return candidates
            beam = self.schedule[self.position]
            before = beam.states()
            state = beam.grow(deadline)
            if _past(deadline):
                self._cut = (beam, before)
            else:
                self.position += 1
            if state is None:
                continue
            candidate = to_candidate(
                state.terms, beam.transform, self.split, self.symbols, self.config.tol,
                deadline,
            )  # fmt: skip
            if candidate is not None:
                candidate = self.inputs.over_inputs(
                    candidate, self.config.law_loss, deadline
                )
                candidates.append(candidate)
                if candidate.validation_loss <= self.config.law_loss:
                    self.finished = True
                    return candidates
        self.finished = self._cut is None
        return candidates

    def _build(self) -> list[_Beam]:
        """Build the dictionary, one beam per target transform, and their schedule."""
        split, config = self.split, self.config
        y_all = np.concatenate([split.y_train, split.y_val])
        dictionary = build_dictionary(config.primitives, split.X_train)
        beams = [
            _Beam(split, transform, dictionary, config)
            for transform in target_transforms(y_all, config.transforms)
        ]
        return _schedule(beams, config.max_terms)


@dataclass(frozen=True)
class _Inputs:
    """The search's own rows and symbols, and the features it adds to them."""

    split: Split
    symbols: list[sympy.Symbol]
    features: tuple[sympy.Expr, ...]
    names: tuple[sympy.Symbol, ...]

    @classmethod
    def of(
        cls,
        split: Split,
        symbols: Sequence[sympy.Symbol],
        features: Sequence[sympy.Expr],
    ) -> _Inputs:
        names = tuple(sympy.Dummy(f"f{i}") for i in range(len(features)))
        return cls(split, list(symbols), tuple(features), names)

    def widened(self) -> tuple[Split, list[sympy.Symbol]]:
        """Rows and symbols with one more column per feature."""
        if not self.features:
            return self.split, self.symbols
        split = with_features(self.split, self.symbols, self.features)
        return split, [*self.symbols, *self.names]

    def over_inputs(
        self, candidate: Candidate, law_loss: float, deadline: float | None
    ) -> Candidate:
        """Rewrite a formula over the features as one over the inputs.

        The features' constants, frozen at the level below, are then refitted
        with the formula's own (:func:`~nalu_sr.functions.polish.polished`)
        unless the formula is already a law.
        """
        if not self.features:
            return candidate
        substituted = candidate.expression.subs(
            dict(zip(self.names, self.features, strict=True))
        )
        substituted = simplify_found(
            substituted, self.symbols, self.split.X_val, deadline
        )
        candidate = replace(
            candidate,
            expression=substituted,
            complexity=expression_complexity(substituted),
            architecture=candidate.architecture.replace("function/", "stacked/", 1),
        )
        if candidate.validation_loss <= law_loss or _past(deadline):
            return candidate
        return polished(candidate, self.symbols, self.split, law_loss, deadline)


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

    def states(self) -> list[_State]:
        """Return the kept sums (to restore them if a step is cut short)."""
        return list(self._states)

    def restore(self, states: list[_State]) -> None:
        """Put back sums that :meth:`states` returned."""
        self._states = list(states)

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
