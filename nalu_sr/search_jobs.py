"""Running a search's plan: training jobs on workers, results kept in order.

:func:`run_search` runs the closed-form linear candidate, then the plan's
training runs as jobs (train, snap and extract one entry: :func:`run_entry`)
on joblib workers (:mod:`nalu_sr._parallel`), and the function search's
rounds in this process at their place in the sequence. Results are kept in
plan order, so the candidates do not depend on ``n_jobs`` or the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy
import torch

from nalu_sr._parallel import (
    Workers,
    WorkersLostError,
    local_deadline,
    use_one_thread,
    wall_deadline,
)
from nalu_sr.architectures import GROWS_FROM_SMALLER
from nalu_sr.extraction.candidate import Candidate, Split
from nalu_sr.function_rounds import function_rounds, run_function_round
from nalu_sr.model import StackedModel
from nalu_sr.search import (
    PlanEntry,
    RunEvent,
    SearchConfig,
    SearchOutcome,
    _add,
    _Context,
    _event,
    _extract,
    _replacement,
    _should_stop,
    _stops,
    _train_entries,
    polynomial_candidate,
)


def run_search(
    split: Split,
    scale: float,
    symbols: Sequence[sympy.Symbol],
    config: SearchConfig,
    plan: Sequence[PlanEntry],
    callback: Callable[[RunEvent], None] | None = None,
    body_rows: np.ndarray | None = None,
    resume: SearchOutcome | None = None,
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
    resume : SearchOutcome or None, default=None
        A previous search of the same split and plan (``warm_start``): its
        candidates carry over, and the search continues with its first plan
        entry not passed and its first function round not run to the end.

    Returns
    -------
    SearchOutcome
        Candidates, with the trained module and loss history of each.
    """
    outcome = SearchOutcome() if resume is None else resume.resumed()
    started = time.perf_counter()
    deadline = None if config.max_time is None else started + config.max_time
    context = _Context(split, scale, symbols, config, deadline)
    if resume is None:
        _closed_form_candidates(outcome, context)
    rows = slice(None) if body_rows is None else body_rows
    X_rows = np.asarray(split.X_train[rows], dtype=np.float64)
    X_scaled = torch.as_tensor(X_rows / scale, device=config.device)
    y = torch.as_tensor(split.y_train[rows], device=config.device)
    weights = None
    if split.w_train is not None:
        weights = torch.as_tensor(split.w_train[rows], device=config.device)
    data = _JobData(context, X_scaled, y, weights)
    run = _PlanRun(plan, outcome, data, callback, started)
    try:
        with Workers(config.n_jobs, worker_timeout(config.max_time)) as workers:
            run.run(workers)
    except KeyboardInterrupt:
        # Ctrl-C ends the search, not the fit: the candidates so far are kept.
        outcome.interrupted = True
    except WorkersLostError as error:
        outcome.lost_workers = str(error)
    run.commit(every_done=True)
    outcome.n_kept = run.next
    return outcome


def _closed_form_candidates(outcome: SearchOutcome, context: _Context) -> None:
    """Add the linear candidate, and the polynomial one unless linear is exact."""
    config = context.config
    linear = PlanEntry("linear", 0, 0, 0)
    _add(outcome, _extract([], linear, context, seed=None), None, [])
    linear_stops = any(_stops(c, config) for c in outcome.candidates)
    if "power" in config.architectures and not linear_stops:
        _add(outcome, polynomial_candidate(context), None, [])


#: Seconds beyond ``max_time`` that the search waits for any one worker's
#: result: a job ends at the deadline after its current step and extraction,
#: so only workers that never start (a cluster without workers) or hang wait
#: longer, and they end the search with the best formula so far.
WORKER_GRACE_SECONDS = 30.0


def worker_timeout(max_time: float | None) -> float | None:
    """Seconds to wait for one worker's result; ``None`` (wait) without ``max_time``."""
    return None if max_time is None else max_time + WORKER_GRACE_SECONDS


@dataclass(frozen=True)
class _JobData:
    """What every training job reads: the search's context and the body rows."""

    context: _Context
    X_scaled: torch.Tensor
    y: torch.Tensor
    weights: torch.Tensor | None = None


@dataclass
class EntryResult:
    """What one job returns: its runs (replacements included), the last one's output.

    ``body``, ``history`` and ``candidate`` belong to the last run; they are
    empty when every run diverged.
    """

    runs: list[PlanEntry]
    diverged: bool
    body: StackedModel | None = None
    history: list[float] = field(default_factory=list)
    candidate: Candidate | None = None


#: Replacement runs, each with a new seed, that one plan entry may get when its
#: runs diverge.
MAX_REPLACEMENTS = 2


def run_entries(
    entries: Sequence[PlanEntry],
    data: _JobData,
    previous: Sequence[StackedModel | None],
    deadline: float | None,
    optional: bool,
) -> list[EntryResult] | None:
    """Train plan entries together, snap them and extract their candidates (one job).

    The entries are restarts of one family and width (see
    ``SearchConfig.restart_batch``); they train as one batched model. A run
    whose loss becomes non-finite is replaced by a run with a seed derived
    from its own, at most :data:`MAX_REPLACEMENTS` times, inside the job, so
    that which seeds run never depends on the workers.

    Parameters
    ----------
    entries : sequence of PlanEntry
        The runs.
    data : _JobData
        Data, settings and symbols.
    previous : sequence of StackedModel or None
        For each entry, the best body one width smaller, for the data-driven
        start.
    deadline : float or None
        End of the time budget as a :func:`time.time` value (clocks of
        another machine agree on it, ``perf_counter`` values do not).
    optional : bool
        Whether to skip the job, returning ``None``, when it starts after
        ``deadline``.

    Returns
    -------
    list of EntryResult or None
        For each entry, its runs and the last run's body, history and candidate.
    """
    context = replace(data.context, deadline=local_deadline(deadline))
    if context.config.device.type == "cpu":
        use_one_thread()
    if optional and _past(context.deadline):
        return None
    trained = _train_entries(
        entries,
        context.config,
        data.X_scaled,
        data.y,
        previous,
        context.deadline,
        data.weights,
    )
    return [
        _finish_entry(entry, start, run, data, context)
        for entry, start, run in zip(entries, previous, trained, strict=True)
    ]


def _finish_entry(
    entry: PlanEntry,
    previous: StackedModel | None,
    trained: tuple[StackedModel, list[float], bool],
    data: _JobData,
    context: _Context,
) -> EntryResult:
    """Replace a diverged run (at most :data:`MAX_REPLACEMENTS` times), then extract."""
    runs = [entry]
    body, history, diverged = trained
    while diverged and len(runs) <= MAX_REPLACEMENTS:
        entry = _replacement(entry)
        runs.append(entry)
        ((body, history, diverged),) = _train_entries(
            [entry],
            context.config,
            data.X_scaled,
            data.y,
            [previous],
            context.deadline,
            data.weights,
        )
    if diverged:
        return EntryResult(runs, True)
    # Snapped on the scaled rows it trained on: a copy of every training row
    # would double the memory of a large table.
    records = body.snap(data.X_scaled.cpu())
    candidate = _extract(records, entry, context, seed=entry.seed)
    return EntryResult(runs, False, body, history, candidate)


#: Share of the search's wall time that the function rounds may take before
#: the trained bodies' next restart, once the first round has run: laws with
#: functions (every function and stacked law) come from the rounds, while
#: most purely arithmetic laws are found by the first restart, before them.
FUNCTION_SHARE = 2 / 3


def function_turn(round_seconds: float, elapsed: float) -> bool:
    """Whether the function rounds are owed time: under their share so far.

    Parameters
    ----------
    round_seconds : float
        Wall time the function rounds have taken so far.
    elapsed : float
        Wall time since the search started.

    Returns
    -------
    bool
        ``True`` while ``round_seconds < FUNCTION_SHARE * elapsed``.

    Examples
    --------
    >>> function_turn(4.0, 10.0), function_turn(7.0, 10.0)
    (True, False)
    """
    return round_seconds < FUNCTION_SHARE * elapsed


class _PlanRun:
    """One run of the plan: which entries started, finished and were kept.

    Entries start in waves of entries whose parents (the runs one width
    smaller that a ``"power"`` body starts from) have finished, and never past
    the function search's place in the sequence (a barrier). Results are kept
    in plan order, and none after the first exact one under early stopping,
    so the candidates, and hence the formula, are those of a sequential run
    whatever the number of workers and the order in which they finish.
    """

    def __init__(
        self,
        plan: Sequence[PlanEntry],
        outcome: SearchOutcome,
        data: _JobData,
        callback: Callable[[RunEvent], None] | None,
        started: float,
    ) -> None:
        self.plan = list(plan)
        self.outcome = outcome
        self.data = data
        self.callback = callback
        self.started = started
        # A warm restart skips the rounds run to their end and the entries passed.
        self.rounds = function_rounds(data.context.config)[outcome.n_rounds :]
        # Round k runs before the runs of restart k + 1 at the latest (and
        # earlier while the rounds are under FUNCTION_SHARE of the time): the
        # two searches take turns, so a law with functions does not wait for
        # every random restart.
        self.barriers = [
            i
            for i in range(1, len(self.plan))
            if self.plan[i].restart > self.plan[i - 1].restart
        ][outcome.n_rounds :]
        self.barrier = self._next_barrier()
        self.round_seconds = 0.0  # wall time the function rounds have taken
        self.results: dict[int, EntryResult | None] = {}
        self.bodies: dict[int, tuple[float, StackedModel]] = {}
        self.dispatched: set[int] = set()
        self.done: set[int] = set()
        self.next = outcome.n_kept  # first entry not yet kept (or skipped)
        self.limit = len(self.plan)  # entries from here on are never kept
        self.parents = [_parents(self.plan, i) for i in range(len(self.plan))]
        self.heights = _heights(self.parents)
        self.groups = _groups(self.plan, data.context.config.restart_batch)

    def run(self, workers: Workers) -> None:
        """Run waves and function rounds until the plan ends or the search stops.

        A function round that is due runs here while the next wave trains on
        the workers; with one worker, jobs run only once their results are
        asked for, that is after the round.
        """
        config = self.data.context.config
        while not _should_stop(self.outcome, config, self.started):
            wave = self._wave(workers.size)
            if not wave and not self._round_due():
                return
            with closing(self._start(workers, wave)) as results:
                if self._round_due() and not self._function_round():
                    if workers.size == 1:
                        return  # the wave has not run: skip it
                for group, group_results in zip(wave, results, strict=True):
                    for k, i in enumerate(group):
                        self._record(i, group_results and group_results[k])
                    self.commit()

    def _round_due(self) -> bool:
        """Whether the next function round runs now.

        It does once every run before it has been kept, and also, after the
        first round, while the rounds have had less than their share of the
        time (:func:`function_turn`).
        """
        if not self.rounds:
            return False
        if self.next >= self.barrier:
            return True
        elapsed = time.perf_counter() - self.started
        return self.outcome.n_rounds > 0 and function_turn(self.round_seconds, elapsed)

    def _function_round(self) -> bool:
        """Run the function rounds due here; return whether the search goes on."""
        context = self.data.context
        while self._round_due():
            start = time.perf_counter()
            round_ = self.rounds.pop(0)
            run_function_round(self.outcome, context, round_, context.deadline)
            self.round_seconds += time.perf_counter() - start
            self.barrier = self._next_barrier()
            if _should_stop(self.outcome, context.config, self.started):
                self.limit = self.next  # as if no later run had started
                return False
        self.commit()  # results that waited for these rounds, up to the next one
        return True

    def _next_barrier(self) -> int:
        """Where the next function round goes: before the next restart, or last."""
        if self.rounds and self.barriers:
            return self.barriers.pop(0)
        return len(self.plan)

    def _wave(self, size: int) -> list[list[int]]:
        """Up to ``size`` jobs ready to start, each a group of entries.

        A group (restarts of one family and width that train together, see
        :func:`_groups`) is ready once every member's parents have finished;
        members that could never be kept are left out. Groups past the
        function search's place start too (the workers train them while this
        process searches); they are kept only after it. Ready groups start in
        plan order, so that an exact one is kept as early as possible, except
        without early stopping on several workers, where the groups that head
        the longest chains of wider bodies start first.
        """
        ready = []
        for group in self.groups:
            if group[-1] < self.next or self.dispatched.intersection(group):
                continue
            members = [i for i in group if self.next <= i < self.limit]
            parents = [j for i in members for j in self.parents[i]]
            if members and all(j in self.done for j in parents):
                ready.append(members)
        if size > 1 and not self.data.context.config.early_stopping:
            # Nothing stops the search early: start the longest chains first.
            ready.sort(key=lambda group: -max(self.heights[i] for i in group))
        return ready[:size]

    def _start(
        self, workers: Workers, wave: list[list[int]]
    ) -> Generator[Any, None, None]:
        """Start the wave's jobs; return their results, in wave order."""
        for group in wave:
            self.dispatched.update(group)
        deadline = wall_deadline(self.data.context.deadline)
        calls = [
            (
                [self.plan[i] for i in group],
                self.data,
                [self._previous(i) for i in group],
                deadline,
                group[0] > 0,
            )
            for group in wave
        ]
        return workers.map(run_entries, calls)

    def _record(self, i: int, result: EntryResult | None) -> None:
        """Store a finished job's result; an exact one ends the plan after it."""
        self.results[i] = result
        self.done.add(i)
        if result is None or result.body is None or result.candidate is None:
            return
        self.bodies[i] = (result.candidate.validation_loss, result.body)
        if _stops(result.candidate, self.data.context.config):
            self.limit = min(self.limit, i + 1)

    def _previous(self, index: int) -> StackedModel | None:
        """Best body among the entry's parents (the first one on ties)."""
        best: tuple[float, StackedModel] | None = None
        for j in self.parents[index]:
            if j in self.bodies and (best is None or self.bodies[j][0] < best[0]):
                best = self.bodies[j]
        return None if best is None else best[1]

    def commit(self, every_done: bool = False) -> None:
        """Keep finished results in plan order; with ``every_done``, skip gaps."""
        while self.next < self.limit:
            if self.next == self.barrier and self.rounds and not every_done:
                return  # the function round comes first (see run)
            if self.next not in self.results and not (every_done and self.results):
                return
            result = self.results.pop(self.next, None)
            self.next += 1
            if result is not None:
                self._keep(result)

    def _keep(self, result: EntryResult) -> None:
        """Record a job's runs and candidate, and report each run."""
        outcome = self.outcome
        for k, entry in enumerate(result.runs):
            last = k == len(result.runs) - 1
            diverged = result.diverged or not last
            outcome.n_trained += 1
            outcome.n_diverged += diverged
            if last and not diverged:
                _add(outcome, result.candidate, result.body, result.history)
            if self.callback is not None:
                n_queued = len(self.plan) - self.next + (not last)
                candidate = None if diverged else result.candidate
                self.callback(_event(outcome, entry, candidate, diverged, n_queued))


def _groups(plan: Sequence[PlanEntry], size: int) -> list[list[int]]:
    """Partition the plan into groups of restarts that train together.

    Restart 0 of each family and width trains alone: it starts from the
    data-driven initialisation and often snaps exactly at once, which must
    end the search without waiting for other runs. Restarts ``1..size``,
    ``size + 1..2 * size`` and so on form the following groups. Groups are
    ordered by their first entry.
    """
    keyed: dict[tuple[str, int, int], list[int]] = {}
    for i, entry in enumerate(plan):
        block = 0 if entry.restart == 0 else 1 + (entry.restart - 1) // size
        keyed.setdefault((entry.architecture, entry.width, block), []).append(i)
    return sorted(keyed.values(), key=lambda group: group[0])


def _heights(parents: Sequence[Sequence[int]]) -> list[int]:
    """Length of the longest chain of entries that each entry starts."""
    heights = [1] * len(parents)
    for i in reversed(range(len(parents))):
        for j in parents[i]:
            heights[j] = max(heights[j], heights[i] + 1)
    return heights


def _parents(plan: Sequence[PlanEntry], index: int) -> list[int]:
    """Earlier entries one width smaller that this entry may start from."""
    entry = plan[index]
    if entry.architecture not in GROWS_FROM_SMALLER:
        return []
    return [
        j
        for j in range(index)
        if plan[j].architecture == entry.architecture
        and plan[j].width == entry.width - 1
    ]


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline
