"""The search: train candidate bodies, snap them, extract and keep formulas.

Data flows one way: the split data goes into training (one body per plan
entry), each trained and snapped body goes into extraction, and extraction
returns a :class:`~nalu_sr.extraction.candidate.Candidate`. Selection among
candidates happens afterwards, in :mod:`nalu_sr.selection`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from nalu_sr.extraction.candidate import Candidate, Split, extract_candidate
from nalu_sr.functions import FunctionSearchConfig, search_functions
from nalu_sr.model import StackedModel
from nalu_sr.primitives import (
    DEFAULT_PRIMITIVES,
    PrimitiveSet,
    resolve_primitives,
)
from nalu_sr.training.varpro import BodyTrainConfig, train_body
from nalu_sr.units import SnappedUnit


@dataclass(frozen=True)
class PlanEntry:
    """One training run: a body family, its width, a restart index and a seed."""

    architecture: str
    width: int
    restart: int
    seed: int


@dataclass(frozen=True)
class SearchConfig:
    """Resolved settings of a search (built from estimator parameters)."""

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
        tol=float(params["tol"]),
        early_stopping=bool(params["early_stopping"]),
        max_time=None if params["max_time"] is None else float(params["max_time"]),
        max_samples=_optional_int(params["max_samples"]),
        device=torch.device(params["device"]),
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
    """What the search reports after each training run (see :func:`run_search`).

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
    (at most as many replacements as planned runs)."""
    stopped_early: bool = False
    timed_out: bool = False
    interrupted: bool = False


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
            continue  # searched after the trained bodies, see run_search
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


def _train_entry(
    entry: PlanEntry,
    config: SearchConfig,
    X_scaled: torch.Tensor,
    y: torch.Tensor,
    previous: StackedModel | None,
    deadline: float | None = None,
    weights: torch.Tensor | None = None,
) -> tuple[StackedModel, list[float], bool]:
    """Build, initialise and train one body; return it, its history, divergence."""
    generator = torch.Generator().manual_seed(entry.seed)
    architecture = ARCHITECTURES[entry.architecture]
    context = BuildContext(X_scaled.shape[1], entry.width, generator, config.primitives)
    body = architecture.build(context)
    body = body.to(dtype=X_scaled.dtype, device=X_scaled.device)
    if previous is not None:
        previous = previous.to(dtype=X_scaled.dtype, device=X_scaled.device)
    data_driven_init_(
        body, entry.architecture, X_scaled, y, entry.restart, previous, weights
    )
    result = train_body(
        body, X_scaled, y, config.train, generator, deadline, weights=weights
    )
    return body.cpu(), result.history, result.diverged


def run_search(
    split: Split,
    scale: float,
    symbols: Sequence[sympy.Symbol],
    config: SearchConfig,
    plan: Sequence[PlanEntry],
    callback: Callable[[RunEvent], None] | None = None,
    body_rows: np.ndarray | None = None,
) -> SearchOutcome:
    """Run the plan: a closed-form linear candidate first, then each training run.

    Parameters
    ----------
    split : Split
        Raw training and validation data.
    scale : float
        Positive constant the inputs are divided by for training; products and
        powers are unchanged up to constants, which the refitted head absorbs.
    symbols : sequence of sympy.Symbol
        One symbol per feature.
    config : SearchConfig
        Settings.
    plan : sequence of PlanEntry
        Training runs, in order.
    callback : callable or None, default=None
        Called with a :class:`RunEvent` after each training run; the search
        itself prints nothing.
    body_rows : numpy.ndarray or None, default=None
        Indices of the training rows that network bodies are trained on
        (``None``: all). Extraction, constants and selection always use every
        row: the structure is found on a sample, the numbers on all the data.

    Returns
    -------
    SearchOutcome
        Candidates, with the trained module and loss history of each.
    """
    outcome = SearchOutcome()
    started = time.perf_counter()
    deadline = None if config.max_time is None else started + config.max_time
    context = _Context(split, scale, symbols, config, deadline)
    linear = PlanEntry("linear", 0, 0, 0)
    _add(outcome, _extract([], linear, context, seed=None), None, [])
    rows = slice(None) if body_rows is None else body_rows
    X_scaled = torch.as_tensor(split.X_train[rows] / scale, device=config.device)
    y = torch.as_tensor(split.y_train[rows], device=config.device)
    weights = None
    if split.w_train is not None:
        weights = torch.as_tensor(split.w_train[rows], device=config.device)
    best: dict[tuple[str, int], tuple[float, StackedModel]] = {}
    queue = list(plan)
    rounds = _function_rounds(config)
    try:
        while (queue or rounds) and not _should_stop(outcome, config, started):
            if rounds and (not queue or _first_pass_done(queue, rounds)):
                _function_round(outcome, context, rounds.pop(0), deadline)
                continue
            entry = queue.pop(0)
            smaller = best.get((entry.architecture, entry.width - 1))
            body, history, diverged = _train_entry(
                entry,
                config,
                X_scaled,
                y,
                None if smaller is None else smaller[1],
                deadline,
                weights,
            )
            outcome.n_trained += 1
            candidate = None
            if diverged:
                outcome.n_diverged += 1
                if outcome.n_diverged <= len(plan):
                    queue.insert(0, _replacement(entry))
            else:
                candidate = _keep(
                    outcome, best, entry, body, history, context, X_scaled
                )
            if callback is not None:
                callback(_event(outcome, entry, candidate, diverged, len(queue)))
    except KeyboardInterrupt:
        # Ctrl-C ends the search, not the fit: the candidates so far are kept.
        outcome.interrupted = True
    return outcome


def _function_rounds(config: SearchConfig) -> list[FunctionRound]:
    """Return the rounds of the function search this configuration runs.

    Without ``max_time`` only the first round runs (the documented stopping
    rule); with it, wider rounds follow while time is left.
    """
    if FUNCTIONS not in config.architectures:
        return []
    return list(FUNCTION_ROUNDS if config.max_time is not None else FUNCTION_ROUNDS[:1])


def _first_pass_done(
    queue: Sequence[PlanEntry], rounds: Sequence[FunctionRound]
) -> bool:
    """Whether the first function round is due: every first restart has run.

    First restarts start from the data and find arithmetic laws at once; the
    function search comes next, before the random restarts, so that a law
    with functions does not wait for every body to train.
    """
    return rounds[0] is FUNCTION_ROUNDS[0] and queue[0].restart > 0


def _function_round(
    outcome: SearchOutcome,
    context: _Context,
    width: FunctionRound,
    deadline: float | None,
) -> None:
    """Search sums of function terms at one width; keep their candidates."""
    config = context.config
    settings = FunctionSearchConfig(
        config.primitives,
        tol=config.tol,
        max_terms=width.max_terms,
        beam_width=width.beam_width,
        n_children=width.n_children,
    )
    for candidate in search_functions(
        context.split, context.symbols, settings, deadline
    ):
        _add(outcome, candidate, None, [])


@dataclass(frozen=True)
class FunctionRound:
    """How wide one round of the function search is (see FUNCTION_ROUNDS)."""

    max_terms: int
    beam_width: int
    n_children: int


#: Rounds of the function search: the first always runs, the wider ones only
#: while ``max_time`` leaves time.
FUNCTION_ROUNDS: tuple[FunctionRound, ...] = (
    FunctionRound(3, 3, 5),
    FunctionRound(3, 6, 10),
    FunctionRound(4, 10, 16),
    FunctionRound(4, 16, 24),
)


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


def _keep(
    outcome: SearchOutcome,
    best: dict[tuple[str, int], tuple[float, StackedModel]],
    entry: PlanEntry,
    body: StackedModel,
    history: list[float],
    context: _Context,
    reference: torch.Tensor,
) -> Candidate | None:
    """Extract a trained body's candidate, record it, and remember the best body.

    The body is snapped on ``reference``, the scaled rows it trained on: a
    copy of every training row would double the memory of a large table.
    """
    records = body.snap(reference.cpu())
    candidate = _extract(records, entry, context, seed=entry.seed)
    _add(outcome, candidate, body, history)
    if candidate is None:
        return None
    key = (entry.architecture, entry.width)
    if key not in best or candidate.validation_loss < best[key][0]:
        best[key] = (candidate.validation_loss, body)
    return candidate


def _replacement(entry: PlanEntry) -> PlanEntry:
    """Return the same run with a new seed derived reproducibly from the old one."""
    seed = (entry.seed * 1_000_003 + 1) % np.iinfo(np.int32).max
    return PlanEntry(entry.architecture, entry.width, entry.restart, seed)


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
    if config.early_stopping and any(
        c.validation_loss <= config.tol for c in outcome.candidates
    ):
        outcome.stopped_early = True
        return True
    if config.max_time is not None and outcome.n_trained > 0:
        if time.perf_counter() - started > config.max_time:
            outcome.timed_out = True
            return True
    return False
