"""Training a network body under a least-squares linear head.

The head ``y = H w + b`` on top of the body's hidden features ``H`` is solved in
closed form at every step (variable projection), so gradient descent only has
to find the body's discrete structure. Training runs in three phases, as the
literature recommends: a free fit; a linear ramp of a pull towards the snapped
values; and progressive snapping, which freezes the most certain parameters on
their snapped values first and lets the rest re-fit around them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import torch

from nalu_sr.linalg import (
    least_squares_torch,
    relative_error_torch,
    ridge_fitted_values,
)
from nalu_sr.model import StackedModel
from nalu_sr.training.config import BodyTrainConfig
from nalu_sr.training.loop import (
    Objective,
    StepHooks,
    TrainResult,
    batch_rows,
    run_steps,
)
from nalu_sr.training.stack import BodyStack, stack_bodies


class _ProgressiveSnapper:
    """Freezes snappable parameter entries on their snapped values, in rounds.

    Works on a :class:`~nalu_sr.training.stack.BodyStack`: every member
    freezes the most certain entries of its own parameters.
    """

    def __init__(self, stack: BodyStack) -> None:
        self._views = stack.discrete_views()
        self._masks = [torch.zeros_like(v, dtype=torch.bool) for v in self._views]
        self._targets = [target.clone() for target in stack.snap_targets()]

    def freeze_fraction(
        self, fraction: float, fresh_targets: list[torch.Tensor]
    ) -> None:
        """Freeze each member's surest ``fraction`` of entries, and earlier ones."""
        if not self._views:
            return
        distances = torch.cat(
            [
                torch.abs(v.detach() - t).flatten(1)
                for v, t in zip(self._views, fresh_targets, strict=True)
            ],
            dim=1,
        )
        if distances.shape[1] == 0:
            return
        n_frozen = math.ceil(fraction * distances.shape[1])
        order = torch.argsort(distances, dim=1, stable=True)[:, :n_frozen]
        flat = torch.zeros_like(distances, dtype=torch.bool)
        flat.scatter_(1, order, True)
        offset = 0
        for i, view in enumerate(self._views):
            size = view[0].numel()
            chosen = flat[:, offset : offset + size].view_as(view)
            newly = chosen & ~self._masks[i]
            self._targets[i] = torch.where(newly, fresh_targets[i], self._targets[i])
            self._masks[i] |= chosen
            offset += size
        self.project()

    def project(self) -> None:
        """Put frozen entries back on their snapped values."""
        with torch.no_grad():
            for view, mask, target in zip(
                self._views, self._masks, self._targets, strict=True
            ):
                view.copy_(torch.where(mask, target, view))


def _snap_steps(config: BodyTrainConfig) -> dict[int, float]:
    """Map each step that starts a snapping round to the fraction it freezes."""
    rounds = config.n_snap_rounds
    start = 0.6 * config.max_iter
    span = 0.4 * config.max_iter
    return {int(start + span * r / rounds): (r + 1) / rounds for r in range(rounds)}


def train_body(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    config: BodyTrainConfig,
    generator: torch.Generator | None = None,
    deadline: float | None = None,
    weights: torch.Tensor | None = None,
) -> TrainResult:
    """Train ``body`` under a least-squares head, ending fully snapped.

    A run never ends worse than its own starting point snapped: when training
    made the snapped fit worse (a good data-driven start that drifted), the
    snapped start is kept instead.

    Parameters
    ----------
    body : StackedModel
        The network body; its outputs are the head's features.
    X : torch.Tensor
        Inputs, shape ``(n, n_features)``.
    y : torch.Tensor
        Targets, shape ``(n,)``.
    config : BodyTrainConfig
        Settings.
    generator : torch.Generator or None, default=None
        Source of randomness for mini-batches.
    deadline : float or None, default=None
        A :func:`time.perf_counter` time after which training stops early; the
        body is still snapped, so a run cut short yields a formula.
    weights : torch.Tensor or None, default=None
        Row weights (``sample_weight``) of every loss and head fit.

    Returns
    -------
    TrainResult
        ``loss`` is the relative MSE on all rows after the last snapping round.
    """
    return train_bodies([body], X, y, config, generator, deadline, weights)[0]


def train_bodies(
    bodies: Sequence[StackedModel],
    X: torch.Tensor,
    y: torch.Tensor,
    config: BodyTrainConfig,
    generator: torch.Generator | None = None,
    deadline: float | None = None,
    weights: torch.Tensor | None = None,
) -> list[TrainResult]:
    """Train bodies of one shape together, as :func:`train_body` trains one.

    Several bodies train as one batched model (their parameters stacked, see
    :mod:`nalu_sr.training.stack`): one optimiser step advances every body,
    each on its own loss, so each follows the path it would follow alone up
    to floating-point rounding, except that all bodies see the same
    mini-batch rows (drawn from ``generator``). A body that converges or
    diverges stops changing while the others train on.

    Parameters
    ----------
    bodies : sequence of StackedModel
        Bodies with parameters of the same shapes; trained in place.
    X, y, config, generator, deadline, weights
        As for :func:`train_body`.

    Returns
    -------
    list of TrainResult
        One result per body, in order.
    """
    starts = [_snapped_state(body, X, y, weights) for body in bodies]
    run = _StackRun(stack_bodies(bodies), X, y, config, generator, deadline, weights)
    objective = Objective(run.data_loss, config.penalty_at, run.pull)
    for body in bodies:
        body.train()
    run_steps(
        run.stack.parameters(),
        objective,
        config.max_iter,
        config.learning_rate,
        StepHooks(run.before, run.after),
    )
    run.snapper.freeze_fraction(1.0, run.stack.snap_targets())
    run.stack.sync_to_bodies()
    return [
        _finish(body, start, run.members, k, X, y, config, weights)
        for k, (body, start) in enumerate(zip(bodies, starts, strict=True))
    ]


class _StackRun:
    """The per-step work of :func:`train_bodies` on one stack of bodies."""

    def __init__(
        self,
        stack: BodyStack,
        X: torch.Tensor,
        y: torch.Tensor,
        config: BodyTrainConfig,
        generator: torch.Generator | None,
        deadline: float | None,
        weights: torch.Tensor | None,
    ) -> None:
        self.stack = stack
        self.members = _Members(stack)
        self.snapper = _ProgressiveSnapper(stack)
        self.snap_at = _snap_steps(config)
        self.X, self.y, self.weights = X, y, weights
        self.config = config
        self.generator = generator
        self.deadline = deadline

    def before(self, step: int) -> None:
        """Start a snapping round where one is due."""
        if step in self.snap_at:
            self.snapper.freeze_fraction(self.snap_at[step], self.stack.snap_targets())

    def data_loss(self, step: int) -> torch.Tensor:
        """Sum of the active members' head errors on this step's rows."""
        rows = batch_rows(len(self.X), self.config.batch_size, self.generator)
        weights = None if self.weights is None else self.weights[rows]
        errors = self.stack.errors(
            self.X[rows], self.y[rows], self.config.ridge, weights, self.members.active
        )
        return self.members.record(errors)

    def pull(self) -> torch.Tensor:
        """Every member's pull towards its snapped values, summed."""
        return self.stack.pull().sum()

    def after(self, step: int) -> bool:
        """Project and hold; now and then retire exact members. True ends the run."""
        self.stack.constrain_()
        self.snapper.project()
        self.members.hold()
        if step % _CONVERGENCE_CHECK_EVERY == 0:
            if _past(self.deadline):
                return True
            self.members.finish_exact(self.X, self.y, self.weights)
        return not self.members.active


class _Members:
    """Which members of a stack still train, and each one's loss history.

    A member leaves when its loss becomes non-finite (diverged) or when it
    snaps exactly; from then on its values are held where they were.
    """

    def __init__(self, stack: BodyStack) -> None:
        self.stack = stack
        self.active = list(range(stack.size))
        self.diverged = [False] * stack.size
        self.histories: list[list[float]] = [[] for _ in range(stack.size)]
        self._held: dict[int, list[torch.Tensor]] = {}

    def record(self, errors: torch.Tensor) -> torch.Tensor:
        """Record the active members' losses (in order); return the finite ones' sum.

        The sum is NaN when no member is left, which ends the steps.
        """
        values = errors.detach().tolist()
        finite = [math.isfinite(value) for value in values]
        for k, value, ok in zip(list(self.active), values, finite, strict=True):
            if ok:
                self.histories[k].append(value)
            else:
                self.diverged[k] = True
                self._leave(k)
        if not self.active:
            return torch.tensor(math.nan)
        if all(finite):
            return errors.sum()
        return errors[torch.tensor(finite, device=errors.device)].sum()

    def hold(self) -> None:
        """Put the members that left back on their values."""
        for k, values in self._held.items():
            self.stack.restore(k, values)

    def finish_exact(
        self, X: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None
    ) -> None:
        """Snap and retire every active member that snaps exactly."""
        self.stack.sync_to_bodies(self.active)
        for k in list(self.active):
            if _snaps_exactly(self.stack.bodies[k], X, y, weights):
                self.stack.sync_from_body(k)
                self._leave(k)

    def _leave(self, k: int) -> None:
        self.active.remove(k)
        self._held[k] = self.stack.snapshot(k)


def _finish(
    body: StackedModel,
    start: tuple[float, dict[str, torch.Tensor]],
    members: _Members,
    k: int,
    X: torch.Tensor,
    y: torch.Tensor,
    config: BodyTrainConfig,
    weights: torch.Tensor | None,
) -> TrainResult:
    """Member ``k``'s result; its snapped start wins if training made it worse."""
    history = members.histories[k]
    if members.diverged[k]:
        return TrainResult(math.inf, history, diverged=True)
    start_loss, start_state = start
    if start_loss < _snapped_state(body, X, y, weights)[0]:
        body.load_state_dict(start_state)  # training made the snapped start worse
    body.eval()
    return _final_result(body, X, y, config, history, weights)


def _snap_targets(body: StackedModel) -> list[torch.Tensor]:
    """Return the values every snappable parameter of ``body`` would snap to now."""
    return [target for _, target in body.discrete_parameters()]


_CONVERGENCE_CHECK_EVERY = 25
_EXACT_LOSS = 1e-14


def _past(deadline: float | None) -> bool:
    """Whether the time budget of the search is spent."""
    return deadline is not None and time.perf_counter() > deadline


def _snapped_state(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> tuple[float, dict[str, torch.Tensor]]:
    """Return the least-squares loss and the parameters of ``body`` snapped now.

    The body itself is left as it was.
    """
    pairs = body.discrete_parameters()
    saved = [p.detach().clone() for p, _ in pairs]
    with torch.no_grad():
        for p, target in pairs:
            p.copy_(target)
        state = {k: v.clone() for k, v in body.state_dict().items()}
        hidden = body(X)
        loss = math.inf
        if torch.isfinite(hidden).all():
            coefficients, intercept = least_squares_torch(hidden, y, weights)
            fitted = hidden @ coefficients + intercept
            loss = float(relative_error_torch(fitted, y, weights))
        for (p, _), value in zip(pairs, saved, strict=True):
            p.copy_(value)
    return loss, state


def _snaps_exactly(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> bool:
    """Snap every parameter if that fits exactly; report whether it did.

    Lets a run that already has the right structure (a data-driven start, or
    an early convergence) stop instead of spending its remaining steps.
    """
    if not body.discrete_parameters():
        return False
    loss, state = _snapped_state(body, X, y, weights)
    if loss < _EXACT_LOSS:
        body.load_state_dict(state)
        return True
    return False


def _final_result(
    body: StackedModel,
    X: torch.Tensor,
    y: torch.Tensor,
    config: BodyTrainConfig,
    history: list[float],
    weights: torch.Tensor | None = None,
) -> TrainResult:
    """Relative MSE of the snapped body on all rows."""
    with torch.no_grad():
        try:
            fitted = ridge_fitted_values(body(X), y, config.ridge, weights)
            loss = float(relative_error_torch(fitted, y, weights))
        except RuntimeError:  # a singular head system: the body has collapsed
            loss = math.inf
    return TrainResult(loss, history, diverged=not math.isfinite(loss))
