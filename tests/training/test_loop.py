import math

import pytest
import torch

from nalu_sr import NAU
from nalu_sr.training import (
    Objective,
    StepHooks,
    TrainConfig,
    linear_ramp,
    run_steps,
    train_module,
)


def test_linear_ramp_values():
    assert [linear_ramp(s, 10, 20, 2.0) for s in (0, 10, 15, 20, 30)] == [
        0.0,
        0.0,
        1.0,
        2.0,
        2.0,
    ]
    assert linear_ramp(4, 5, 5, 3.0) == 0.0
    assert linear_ramp(5, 5, 5, 3.0) == 3.0


def test_config_penalty_schedule_uses_fractions_of_max_iter():
    config = TrainConfig(
        max_iter=100, penalty_weight=4.0, penalty_start=0.5, penalty_end=0.75
    )
    assert config.penalty_at(0) == 0.0
    assert config.penalty_at(50) == 0.0
    assert config.penalty_at(60) == pytest.approx(1.6)
    assert config.penalty_at(99) == 4.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_iter": 0}, "max_iter must be >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"penalty_start": 0.8, "penalty_end": 0.2}, "penalty_start <= penalty_end"),
    ],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_history_has_one_entry_per_step_and_decreases():
    X = torch.rand(64, 2) + 1
    y = X[:, :1] + X[:, 1:]
    unit = NAU(2, 1, generator=torch.Generator().manual_seed(0))
    result = train_module(unit, X, y, TrainConfig(max_iter=50, learning_rate=0.05))
    assert len(result.history) == 50
    assert result.history[-1] < result.history[0]
    assert result.loss == pytest.approx(float(torch.mean((unit(X).detach() - y) ** 2)))


def test_minibatches_are_reproducible_with_a_generator():
    X = torch.rand(64, 2) + 1
    y = X[:, :1] - X[:, 1:]
    config = TrainConfig(max_iter=30, learning_rate=0.05, batch_size=8)
    weights = []
    for _ in range(2):
        unit = NAU(2, 1, generator=torch.Generator().manual_seed(0))
        train_module(unit, X, y, config, torch.Generator().manual_seed(5))
        weights.append(unit.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])


def test_divergence_is_reported_not_raised():
    X = torch.tensor([[1.0, 2.0]])
    y = torch.tensor([[math.inf]])
    unit = NAU(2, 1)
    result = train_module(unit, X, y, TrainConfig(max_iter=5))
    assert result.diverged
    assert result.loss == math.inf


def _quadratic_objective(parameter, calls):
    def data_loss(step):
        calls.append(("loss", step))
        return (parameter - 3.0).pow(2).sum()

    def penalty():
        calls.append(("penalty", None))
        return parameter.abs().sum()

    return Objective(data_loss, lambda step: 1.0 if step >= 2 else 0.0, penalty)


def test_run_steps_calls_hooks_in_order_and_stops_when_asked():
    parameter = torch.nn.Parameter(torch.zeros(1))
    calls = []

    def after(step):
        calls.append(("after", step))
        return step == 3

    hooks = StepHooks(before=lambda step: calls.append(("before", step)), after=after)
    objective = _quadratic_objective(parameter, calls)
    result = run_steps([parameter], objective, 10, 0.1, hooks)
    assert len(result.history) == 4
    assert result.history[0] == 9.0
    assert result.loss == result.history[-1]
    assert not result.diverged
    # The penalty is evaluated only once its weight is positive (steps 2, 3).
    assert calls == [
        ("before", 0),
        ("loss", 0),
        ("after", 0),
        ("before", 1),
        ("loss", 1),
        ("after", 1),
        ("before", 2),
        ("loss", 2),
        ("penalty", None),
        ("after", 2),
        ("before", 3),
        ("loss", 3),
        ("penalty", None),
        ("after", 3),
    ]


def test_run_steps_stops_at_a_non_finite_loss_without_stepping():
    parameter = torch.nn.Parameter(torch.ones(1))

    def data_loss(step):
        return parameter.sum() * (math.inf if step == 2 else 1.0)

    seen = []

    def after(step):
        seen.append(parameter.item())
        return False

    objective = Objective(data_loss, lambda step: 0.0)
    result = run_steps([parameter], objective, 10, 0.5, StepHooks(after=after))
    assert result.diverged
    assert result.loss == math.inf
    assert len(result.history) == 2
    assert result.history[0] == 1.0
    assert result.history[1] == seen[0]
    assert parameter.item() == seen[1]  # no step was taken at the third loss


def test_run_steps_without_steps_reports_nan():
    parameter = torch.nn.Parameter(torch.ones(1))
    objective = Objective(lambda step: parameter.sum(), lambda step: 0.0)
    result = run_steps([parameter], objective, 0, 0.1)
    assert result.history == []
    assert math.isnan(result.loss)
    assert not result.diverged
