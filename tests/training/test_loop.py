import math

import pytest
import torch

from nalu_sr import NAU
from nalu_sr.training import TrainConfig, linear_ramp, train_module


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
