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


class _ProgressiveSnapper:
    """Freezes snappable parameter entries on their snapped values, in rounds."""

    def __init__(self, body: StackedModel) -> None:
        self._pairs = body.discrete_parameters()
        self._masks = [torch.zeros_like(p, dtype=torch.bool) for p, _ in self._pairs]
        self._targets = [target.clone() for _, target in self._pairs]

    def freeze_fraction(
        self, fraction: float, fresh_targets: list[torch.Tensor]
    ) -> None:
        """Freeze the most certain ``fraction`` of all entries, keeping earlier ones."""
        if not self._pairs:
            return
        distances = torch.cat(
            [
                torch.abs(p.detach() - t).flatten()
                for (p, _), t in zip(self._pairs, fresh_targets, strict=True)
            ]
        )
        if distances.numel() == 0:
            return
        n_frozen = math.ceil(fraction * distances.numel())
        order = torch.argsort(distances, stable=True)[:n_frozen]
        flat = torch.zeros(distances.numel(), dtype=torch.bool)
        flat[order] = True
        offset = 0
        for i, (p, _) in enumerate(self._pairs):
            chosen = flat[offset : offset + p.numel()].view_as(p)
            newly = chosen & ~self._masks[i]
            self._targets[i] = torch.where(newly, fresh_targets[i], self._targets[i])
            self._masks[i] |= chosen
            offset += p.numel()
        self.project()

    def project(self) -> None:
        """Put frozen entries back on their snapped values."""
        with torch.no_grad():
            for (p, _), mask, target in zip(
                self._pairs, self._masks, self._targets, strict=True
            ):
                p.copy_(torch.where(mask, target, p))


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
    start_loss, start_state = _snapped_state(body, X, y, weights)
    snapper = _ProgressiveSnapper(body)
    snap_at = _snap_steps(config)

    def before(step: int) -> None:
        if step in snap_at:
            snapper.freeze_fraction(snap_at[step], _snap_targets(body))

    def data_loss(step: int) -> torch.Tensor:
        rows = batch_rows(len(X), config.batch_size, generator)
        batch_weights = None if weights is None else weights[rows]
        fitted = ridge_fitted_values(
            body(X[rows]), y[rows], config.ridge, batch_weights
        )
        return relative_error_torch(fitted, y[rows], batch_weights)

    def after(step: int) -> bool:
        body.constrain_()
        snapper.project()
        return step % _CONVERGENCE_CHECK_EVERY == 0 and (
            _past(deadline) or _snaps_exactly(body, X, y, weights)
        )

    objective = Objective(data_loss, config.penalty_at, lambda: _pull(body))
    body.train()
    result = run_steps(
        body.parameters(),
        objective,
        config.max_iter,
        config.learning_rate,
        StepHooks(before, after),
    )
    if result.diverged:
        return result
    snapper.freeze_fraction(1.0, _snap_targets(body))
    if start_loss < _snapped_state(body, X, y, weights)[0]:
        body.load_state_dict(start_state)  # training made the snapped start worse
    body.eval()
    return _final_result(body, X, y, config, result.history, weights)


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


def _pull(body: StackedModel) -> torch.Tensor:
    """Mean distance of snappable parameters from their snapped values."""
    pairs = body.discrete_parameters()
    if not pairs:
        return body.penalty()
    return torch.stack([torch.abs(p - target).mean() for p, target in pairs]).sum()


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
