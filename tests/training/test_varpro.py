import math
import time

import torch

from nalu_sr.architectures import ARCHITECTURES, BuildContext, data_driven_init_
from nalu_sr.training import BodyTrainConfig, train_body


def _data(seed=0, n=200):
    X = 1 + 4 * torch.rand(n, 2, generator=torch.Generator().manual_seed(seed))
    return X.double()


def _power_body(width=1, seed=0):
    context = BuildContext(2, width, torch.Generator().manual_seed(seed))
    return ARCHITECTURES["power"].build(context).double()


def _is_snapped(body):
    return all(torch.equal(p.detach(), t) for p, t in body.discrete_parameters())


def test_a_body_with_the_right_structure_snaps_exactly_and_stops_at_once():
    X = _data()
    y = 2 * X[:, 0] ** 2 / X[:, 1]
    body = _power_body()
    data_driven_init_(body, "power", X, y, restart=0)
    result = train_body(body, X, y, BodyTrainConfig(), torch.Generator())
    # The first convergence check (after step 0) finds the exact snap.
    assert len(result.history) == 1
    assert not result.diverged
    assert result.loss < 1e-14
    assert _is_snapped(body)
    (unit,) = body.arithmetic_units()
    assert unit.snapped_exponents().tolist() == [[2.0, -1.0]]


def test_a_body_that_cannot_fit_runs_every_step_and_ends_snapped():
    X = _data()
    y = torch.sin(3 * X[:, 0]) + X[:, 1]
    body = _power_body()
    config = BodyTrainConfig(max_iter=30)
    result = train_body(body, X, y, config, torch.Generator().manual_seed(0))
    assert len(result.history) == 30
    assert not result.diverged
    assert 1e-3 < result.loss < math.inf
    assert _is_snapped(body)


def test_a_non_finite_loss_is_reported_as_divergence():
    X = _data()
    y = X[:, 0].clone()
    y[5] = math.inf
    body = _power_body()
    result = train_body(body, X, y, BodyTrainConfig(max_iter=50))
    assert result.diverged
    assert result.loss == math.inf
    assert result.history == []


def test_a_past_deadline_stops_training_with_a_snapped_body():
    X = _data()
    y = torch.sin(3 * X[:, 0]) + X[:, 1]
    body = _power_body(width=2)
    deadline = time.perf_counter() - 1.0
    result = train_body(body, X, y, BodyTrainConfig(), deadline=deadline)
    assert len(result.history) == 1  # the check after step 0 sees the deadline
    assert _is_snapped(body)
    assert math.isfinite(result.loss)


def test_minibatch_training_is_reproducible():
    X = _data()
    y = torch.sin(3 * X[:, 0]) + X[:, 1]
    config = BodyTrainConfig(max_iter=40, batch_size=16)
    histories = []
    for _ in range(2):
        body = _power_body(seed=3)
        result = train_body(body, X, y, config, torch.Generator().manual_seed(1))
        histories.append(result.history)
    assert len(histories[0]) == 40
    assert histories[0] == histories[1]
