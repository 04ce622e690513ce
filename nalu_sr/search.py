"""The search: train candidate bodies, snap them, extract and keep formulas.

Data flows one way: the split data goes into training (one body per plan
entry), each trained and snapped body goes into extraction, and extraction
returns a :class:`~nalu_sr.extraction.candidate.Candidate`. This module
holds the settings, the plan and one run; :mod:`nalu_sr.search_jobs` runs
the plan (on joblib workers with ``n_jobs``). Selection among candidates
happens afterwards, in :mod:`nalu_sr.selection`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral
from typing import Any

import numpy as np
import sympy
import torch

from nalu_sr.architectures import (
    ARCHITECTURES,
    FUNCTIONS,
    BuildContext,
    data_driven_init_,
)
from nalu_sr.extraction.candidate import (
    Candidate,
    Split,
    extract_candidate,
    hidden_features,
)
from nalu_sr.functions import FunctionSearch
from nalu_sr.linalg import least_squares, relative_error
from nalu_sr.model import StackedModel
from nalu_sr.primitives import (
    DEFAULT_PRIMITIVES,
    PrimitiveSet,
    resolve_primitives,
)
from nalu_sr.training.stack import same_shape
from nalu_sr.training.varpro import BodyTrainConfig, train_bodies, train_body
from nalu_sr.units import SnappedUnit
from nalu_sr.units.snapped import ProductOutput


@dataclass(frozen=True)
class PlanEntry:
    """One training run: a body family, its width, a restart index and a seed."""

    architecture: str
    width: int
    restart: int
    seed: int


@dataclass(frozen=True)
class SearchConfig:
    """Resolved settings of a search (built from estimator parameters).

    ``tol`` bounds the loss that pruning and snapping may always reach;
    ``stop_loss`` is the loss at which a candidate ends the search.
    """

    architectures: tuple[str, ...]
    widths: tuple[int, ...] | None
    n_restarts: int
    train: BodyTrainConfig
    primitives: PrimitiveSet
    tol: float
    early_stopping: bool
    max_time: float | None
    max_samples: int | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    n_jobs: int | None = None
    restart_batch: int = 1
    stop_loss: float | None = None

    @property
    def early_stop_loss(self) -> float:
        """Validation loss at which a candidate ends the search: a law's.

        ``stop_loss`` (the data's precision floor, set by ``fit``), else ``tol``.
        """
        return self.tol if self.stop_loss is None else self.stop_loss


#: Relative loss that pruning and constant snapping may always reach when the
#: user sets no ``tol`` (a step of snapping may pass through such a loss on its
#: way to an exact law). Whether a formula is a law is judged apart, at the
#: data's precision floor (:mod:`nalu_sr.exactness`).
SNAP_TOL = 1e-16


def resolve_search_config(params: Mapping[str, Any]) -> SearchConfig:
    """Build the search settings from the estimator's (already checked) parameters.

    Parameters
    ----------
    params : mapping
        ``NALURegressor.get_params()``, after
        :func:`nalu_sr._params.check_parameters` accepted it.

    Returns
    -------
    SearchConfig
        The settings, with primitives and device resolved.
    """
    primitives = params["primitives"]
    architectures = params["architectures"]
    return SearchConfig(
        architectures=(architectures,)
        if isinstance(architectures, str)
        else tuple(architectures),
        widths=_widths(params["hidden_widths"]),
        n_restarts=int(params["n_restarts"]),
        train=BodyTrainConfig(
            max_iter=int(params["max_iter"]),
            learning_rate=float(params["learning_rate_init"]),
            batch_size=_optional_int(params["batch_size"]),
            penalty_weight=float(params["penalty_weight"]),
        ),
        primitives=resolve_primitives(
            DEFAULT_PRIMITIVES if primitives is None else primitives
        ),
        tol=SNAP_TOL if params["tol"] is None else float(params["tol"]),
        early_stopping=bool(params["early_stopping"]),
        max_time=None if params["max_time"] is None else float(params["max_time"]),
        max_samples=_optional_int(params["max_samples"]),
        device=torch.device(params["device"]),
        n_jobs=params["n_jobs"],
        restart_batch=int(params["restart_batch"]),
    )


def _widths(value: Any) -> tuple[int, ...] | None:
    """One width or several; ``None`` (or none given) means each family's own."""
    if value is None:
        return None
    widths = (value,) if isinstance(value, Integral) else tuple(value)
    return tuple(int(width) for width in widths) or None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class RunEvent:
    """What the search reports after each training run (see ``search_jobs.run_search``).

    Attributes
    ----------
    entry : PlanEntry
        The run that just ended.
    candidate : Candidate or None
        Its formula; ``None`` when it diverged or gave no usable formula.
    diverged : bool
        Whether its loss became non-finite (a replacement run is queued).
    n_done : int
        Training runs finished so far, this one included.
    n_planned : int
        Runs finished plus runs still queued (replacements included); the
        search may stop before reaching it (early stopping, ``max_time``).
    best_loss : float
        Lowest relative validation error of any candidate so far (the
        closed-form linear one included).
    """

    entry: PlanEntry
    candidate: Candidate | None
    diverged: bool
    n_done: int
    n_planned: int
    best_loss: float


@dataclass
class SearchOutcome:
    """Everything a search produced."""

    candidates: list[Candidate] = field(default_factory=list)
    modules: list[StackedModel | None] = field(default_factory=list)
    histories: list[list[float]] = field(default_factory=list)
    n_trained: int = 0
    n_diverged: int = 0
    """Runs whose loss became non-finite; each is replaced by a run with a new seed
    (at most ``search_jobs.MAX_REPLACEMENTS`` per planned run)."""
    stopped_early: bool = False
    timed_out: bool = False
    interrupted: bool = False
    lost_workers: str | None = None
    """Why the search's workers were lost (a worker died, the cluster went
    away); the search then ended with the candidates found so far."""
    n_kept: int = 0
    """Plan entries passed, in plan order (kept, or skipped as never finished):
    a warm restart (``warm_start``) continues with the next one."""
    n_rounds: int = 0
    """Rounds of the function search run to their end (before the deadline)."""
    paused_round: FunctionSearch | None = None
    """The next round, when the deadline cut it short: a warm restart resumes it."""

    def resumed(self) -> SearchOutcome:
        """Return a copy to continue the search in (``warm_start``).

        The candidates and counts carry over; the flags of how the search
        ended do not.
        """
        return SearchOutcome(
            candidates=list(self.candidates),
            modules=list(self.modules),
            histories=list(self.histories),
            n_trained=self.n_trained,
            n_diverged=self.n_diverged,
            n_kept=self.n_kept,
            n_rounds=self.n_rounds,
            paused_round=self.paused_round,
        )


def plan_search(
    config: SearchConfig, random_state: np.random.RandomState
) -> list[PlanEntry]:
    """Order the training runs and draw their seeds.

    First restarts come first, from the narrowest body to the widest, so that
    the data-driven starts of every width are tried before any random one.

    Seeds are drawn from ``random_state`` once per entry, in plan order, so the
    same random state always gives the same plan (gplearn's per-job seeds).
    """
    keyed = []
    for order, name in enumerate(config.architectures):
        if name == FUNCTIONS:
            continue  # searched after the trained bodies, see search_jobs.run_search
        widths = config.widths or ARCHITECTURES[name].default_widths
        for width in widths:
            for restart in range(config.n_restarts):
                keyed.append(((restart, width, order), name, width, restart))
    keyed.sort(key=lambda item: item[0])
    seeds = random_state.randint(np.iinfo(np.int32).max, size=len(keyed))
    return [
        PlanEntry(name, width, restart, int(seed))
        for (_, name, width, restart), seed in zip(keyed, seeds, strict=True)
    ]


def _train_entries(
    entries: Sequence[PlanEntry],
    config: SearchConfig,
    X_scaled: torch.Tensor,
    y: torch.Tensor,
    previous: Sequence[StackedModel | None],
    deadline: float | None = None,
    weights: torch.Tensor | None = None,
) -> list[tuple[StackedModel, list[float], bool]]:
    """Build, initialise and train bodies; return each one, its history, divergence.

    Bodies of one shape (restarts of one family and width) train together
    as one batched model; mini-batch rows come from the first entry's seed.
    """
    generators = [torch.Generator().manual_seed(entry.seed) for entry in entries]
    bodies = [
        _initial_body(entry, config, X_scaled, y, generator, start, weights)
        for entry, generator, start in zip(entries, generators, previous, strict=True)
    ]
    if len(bodies) > 1 and same_shape(bodies):
        results = train_bodies(
            bodies, X_scaled, y, config.train, generators[0], deadline, weights
        )
    else:
        results = [
            train_body(
                body, X_scaled, y, config.train, generator, deadline, weights=weights
            )
            for body, generator in zip(bodies, generators, strict=True)
        ]
    return [
        (body.cpu(), result.history, result.diverged)
        for body, result in zip(bodies, results, strict=True)
    ]


def _initial_body(
    entry: PlanEntry,
    config: SearchConfig,
    X_scaled: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
    previous: StackedModel | None,
    weights: torch.Tensor | None,
) -> StackedModel:
    """Build one entry's body on the data's device, with its data-driven start."""
    architecture = ARCHITECTURES[entry.architecture]
    context = BuildContext(X_scaled.shape[1], entry.width, generator, config.primitives)
    body = architecture.build(context)
    body = body.to(dtype=X_scaled.dtype, device=X_scaled.device)
    if previous is not None:
        previous = previous.to(dtype=X_scaled.dtype, device=X_scaled.device)
    data_driven_init_(
        body, entry.architecture, X_scaled, y, entry.restart, previous, weights
    )
    return body


@dataclass(frozen=True)
class _Context:
    """What every step of one search reads: data, symbols and settings."""

    split: Split
    scale: float
    symbols: Sequence[sympy.Symbol]
    config: SearchConfig
    deadline: float | None = None


def _event(
    outcome: SearchOutcome,
    entry: PlanEntry,
    candidate: Candidate | None,
    diverged: bool,
    n_queued: int,
) -> RunEvent:
    """Describe the search's state after a run."""
    return RunEvent(
        entry=entry,
        candidate=candidate,
        diverged=diverged,
        n_done=outcome.n_trained,
        n_planned=outcome.n_trained + n_queued,
        best_loss=min(
            (c.validation_loss for c in outcome.candidates), default=math.inf
        ),
    )


def _replacement(entry: PlanEntry) -> PlanEntry:
    """Return the same run with a new seed derived reproducibly from the old one."""
    seed = (entry.seed * 1_000_003 + 1) % np.iinfo(np.int32).max
    return PlanEntry(entry.architecture, entry.width, entry.restart, seed)


def polynomial_candidate(context: _Context) -> Candidate | None:
    """Return the sum of every low-degree monomial, fitted, when it is exact.

    A closed-form candidate next to the linear one: a polynomial law such as
    ``3*x - x**2 - 2*x*y`` is then exact before any body trains (the power
    family has to grow it one monomial at a time). Degree 3 for up to three
    inputs, 2 for up to six, none beyond; the full fit must be exact on the
    validation rows, and extraction then prunes the unused monomials.
    """
    split = context.split
    exponents = polynomial_exponents(split.X_train.shape[1])
    if not exponents:
        return None
    outputs = tuple(ProductOutput(row, signed=True) for row in exponents)
    record = SnappedUnit("realnpu", split.X_train.shape[1], outputs, 0.0)
    H_train = hidden_features([record], split.X_train)
    H_val = hidden_features([record], split.X_val)
    if not (np.all(np.isfinite(H_train)) and np.all(np.isfinite(H_val))):
        return None
    coefficients, intercept = least_squares(H_train, split.y_train, split.w_train)
    prediction = H_val @ coefficients + intercept
    if relative_error(prediction, split.y_val, split.w_val) > context.config.tol:
        return None
    entry = PlanEntry("polynomial", len(exponents), 0, 0)
    return _extract([record], entry, context, seed=None)


def polynomial_exponents(n_features: int) -> list[tuple[Fraction, ...]]:
    """Exponent rows of every monomial of degree 1 to 3 (<= 3 inputs) or 2 (<= 6)."""
    degree = 3 if n_features <= 3 else 2 if n_features <= 6 else 0
    rows = []
    for order in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n_features), order):
            row = [Fraction(0)] * n_features
            for i in combo:
                row[i] += 1
            rows.append(tuple(row))
    return rows


def _extract(
    records: Sequence[SnappedUnit],
    entry: PlanEntry,
    context: _Context,
    seed: int | None,
) -> Candidate | None:
    return extract_candidate(
        records,
        context.symbols,
        context.split,
        architecture=entry.architecture,
        width=entry.width,
        seed=seed,
        tol=context.config.tol,
        deadline=context.deadline,
    )


def _add(
    outcome: SearchOutcome,
    candidate: Candidate | None,
    module: StackedModel | None,
    history: list[float],
) -> None:
    if candidate is None or not math.isfinite(candidate.validation_loss):
        return
    outcome.candidates.append(candidate)
    outcome.modules.append(module)
    outcome.histories.append(history)


def _should_stop(outcome: SearchOutcome, config: SearchConfig, started: float) -> bool:
    """Stop once an exact formula is known (early stopping) or time is up."""
    if any(_stops(c, config) for c in outcome.candidates):
        outcome.stopped_early = True
        return True
    if config.max_time is not None and outcome.n_trained > 0:
        if time.perf_counter() - started > config.max_time:
            outcome.timed_out = True
            return True
    return False


def _stops(candidate: Candidate, config: SearchConfig) -> bool:
    """Whether this candidate ends the search (early stopping on an exact fit)."""
    return config.early_stopping and candidate.validation_loss <= config.early_stop_loss
