import copy

import pytest
import torch

from nalu_sr.architectures import ARCHITECTURES, BuildContext, data_driven_init_
from nalu_sr.training import BodyTrainConfig, train_bodies, train_body
from nalu_sr.training.stack import (
    SingleBody,
    StackedBodies,
    relative_errors,
    stack_bodies,
)


def _data(seed=0, n=200):
    X = 1 + 4 * torch.rand(n, 2, generator=torch.Generator().manual_seed(seed))
    return X.double()


def _bodies(architecture, n, width=2, n_features=2):
    return [
        ARCHITECTURES[architecture]
        .build(BuildContext(n_features, width, torch.Generator().manual_seed(seed)))
        .double()
        for seed in range(n)
    ]


def test_one_body_is_a_single_body_and_several_are_stacked():
    assert isinstance(stack_bodies(_bodies("power", 1)), SingleBody)
    assert isinstance(stack_bodies(_bodies("power", 3)), StackedBodies)
    with pytest.raises(ValueError, match="at least one body"):
        stack_bodies([])


def test_bodies_of_different_shapes_are_not_stacked():
    bodies = _bodies("power", 1, width=1) + _bodies("power", 1, width=2)
    with pytest.raises(ValueError, match="same shape"):
        StackedBodies(bodies)


@pytest.mark.parametrize("architecture", ["power", "sum-product", "nalu", "attention"])
def test_stacked_errors_and_pulls_are_those_of_each_body(architecture):
    X = _data()
    y = X[:, 0] * X[:, 1]
    bodies = _bodies(architecture, 3)
    stack = StackedBodies(bodies)
    with torch.no_grad():
        errors = stack.errors(X, y, 1e-9, None, [0, 1, 2])
        alone = [relative_errors(body(X), y, 1e-9, None).item() for body in bodies]
        assert errors.tolist() == pytest.approx(alone, rel=1e-10)
        # Only the members asked for are evaluated, in that order.
        assert stack.errors(X, y, 1e-9, None, [2, 0]).tolist() == pytest.approx(
            [alone[2], alone[0]], rel=1e-10
        )
        single = [float(SingleBody(body).pull()) for body in bodies]
        assert stack.pull().tolist() == pytest.approx(single, rel=1e-12)


def test_constrain_projects_every_member():
    bodies = _bodies("power", 2)
    with torch.no_grad():
        bodies[0].units[0].gate.fill_(3.0)
        bodies[1].units[0].gate.fill_(-2.0)
    stack = StackedBodies(bodies)
    stack.constrain_()
    stack.sync_to_bodies()
    assert torch.all(bodies[0].units[0].gate == 1.0)
    assert torch.all(bodies[1].units[0].gate == 0.0)


def test_batched_members_start_on_the_path_of_their_own_run():
    X = _data()
    y = torch.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2)  # no power body fits it
    config = BodyTrainConfig(max_iter=40)
    bodies = _bodies("power", 3)
    alone = [train_body(copy.deepcopy(b), X, y, config) for b in bodies]
    batched = train_bodies(bodies, X, y, config)
    for one, together in zip(alone, batched, strict=True):
        assert len(together.history) == len(one.history) == 40
        assert together.history[:5] == pytest.approx(one.history[:5], rel=1e-9)


def test_a_member_that_snaps_exactly_stops_while_the_others_train_on():
    X = _data()
    y = 2 * X[:, 0] ** 2 / X[:, 1]
    bodies = _bodies("power", 3, width=1)
    data_driven_init_(bodies[0], "power", X, y, restart=0)  # the exact start
    results = train_bodies(bodies, X, y, BodyTrainConfig(max_iter=200))
    assert len(results[0].history) == 1
    assert results[0].loss < 1e-14
    assert bodies[0].arithmetic_units()[0].snapped_exponents().tolist() == [[2.0, -1.0]]
    assert all(len(r.history) > 1 for r in results[1:])
    for body in bodies:  # every member ends snapped
        assert all(torch.equal(p, t) for p, t in body.discrete_parameters())


def test_a_diverging_member_does_not_disturb_the_others():
    X = _data()
    y = X[:, 0] * X[:, 1]
    config = BodyTrainConfig(max_iter=30)
    bodies = _bodies("power", 3)
    with torch.no_grad():
        bodies[1].units[0].real_weight.fill_(1e4)  # x**10000 overflows
    alone = train_body(copy.deepcopy(bodies[2]), X, y, config)
    results = train_bodies(bodies, X, y, config)
    assert results[1].diverged and results[1].history == []
    assert not results[0].diverged and not results[2].diverged
    assert results[2].history == pytest.approx(alone.history, rel=1e-9)
