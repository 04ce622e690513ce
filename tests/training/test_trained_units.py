"""Trained smoke tests: single units learn exact arithmetic with a fixed seed."""

import pytest
import torch

from nalu_sr import NAC, NAU, NMU
from nalu_sr.training import TrainConfig, train_module


@pytest.fixture(scope="module")
def inputs():
    generator = torch.Generator().manual_seed(0)
    return torch.rand(256, 2, generator=generator) * 4 + 1


def _train(unit, X, y, config):
    result = train_module(unit, X, y, config, torch.Generator().manual_seed(1))
    assert not result.diverged
    return result


@pytest.mark.parametrize(("sign", "expected"), [(1.0, [1.0, 1.0]), (-1.0, [1.0, -1.0])])
def test_nac_learns_sum_and_difference(inputs, sign, expected):
    unit = NAC(2, 1, generator=torch.Generator().manual_seed(0))
    y = inputs[:, :1] + sign * inputs[:, 1:]
    # The tanh * sigmoid weight saturates slowly, hence the large step size.
    _train(unit, inputs, y, TrainConfig(max_iter=2000, learning_rate=0.5))
    torch.testing.assert_close(
        unit.weight.detach(), torch.tensor([expected]), atol=1e-3, rtol=0
    )
    assert unit.discreteness_error() < 1e-3


def test_nau_learns_difference(inputs):
    unit = NAU(2, 1, generator=torch.Generator().manual_seed(0))
    y = inputs[:, :1] - inputs[:, 1:]
    config = TrainConfig(max_iter=1000, learning_rate=0.05, penalty_weight=0.1)
    result = _train(unit, inputs, y, config)
    torch.testing.assert_close(
        unit.weight.detach(), torch.tensor([[1.0, -1.0]]), atol=1e-3, rtol=0
    )
    assert result.loss < 1e-8


def test_nmu_learns_product(inputs):
    unit = NMU(2, 1, generator=torch.Generator().manual_seed(0))
    y = inputs[:, :1] * inputs[:, 1:]
    config = TrainConfig(max_iter=1000, learning_rate=0.05, penalty_weight=1.0)
    result = _train(unit, inputs, y, config)
    torch.testing.assert_close(
        unit.weight.detach(), torch.tensor([[1.0, 1.0]]), atol=1e-3, rtol=0
    )
    assert result.loss < 1e-8
