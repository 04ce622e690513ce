import dataclasses

import pytest

from nalu_sr.training import BodyTrainConfig, TrainConfig


def test_body_config_extends_the_base_with_the_search_defaults():
    config = BodyTrainConfig()
    assert isinstance(config, TrainConfig)
    assert dataclasses.asdict(config) == {
        "max_iter": 800,
        "learning_rate": 0.05,
        "batch_size": None,
        "penalty_weight": 0.05,
        "penalty_start": 0.3,
        "penalty_end": 0.6,
        "n_snap_rounds": 4,
        "ridge": 1e-9,
    }


def test_base_config_defaults_are_unchanged():
    assert dataclasses.asdict(TrainConfig()) == {
        "max_iter": 3000,
        "learning_rate": 0.01,
        "batch_size": None,
        "penalty_weight": 0.0,
        "penalty_start": 0.4,
        "penalty_end": 0.7,
    }


def test_body_config_ramps_its_pull_like_the_base():
    config = BodyTrainConfig(max_iter=100, penalty_weight=3.0)
    # Ramp from step 30 to step 60.
    assert [config.penalty_at(s) for s in (0, 30, 45, 60, 99)] == [
        0.0,
        0.0,
        1.5,
        3.0,
        3.0,
    ]


@pytest.mark.parametrize("cls", [TrainConfig, BodyTrainConfig])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_iter": 0}, "max_iter must be >= 1, got 0"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0, got -1.0"),
        ({"batch_size": 0}, "batch_size must be >= 1 or None, got 0"),
        ({"penalty_weight": -0.5}, "penalty_weight must be finite and >= 0, got -0.5"),
        (
            {"penalty_start": 0.5, "penalty_end": 1.5},
            "penalty_start and penalty_end need 0 <= penalty_start <= "
            "penalty_end <= 1, got 0.5 and 1.5",
        ),
    ],
)
def test_both_configs_validate_the_shared_fields(cls, kwargs, message):
    with pytest.raises(ValueError) as raised:
        cls(**kwargs)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_snap_rounds": 0}, "n_snap_rounds must be >= 1, got 0"),
        ({"ridge": -1e-9}, "ridge must be finite and >= 0, got -1e-09"),
        ({"ridge": float("inf")}, "ridge must be finite and >= 0, got inf"),
    ],
)
def test_body_config_validates_its_own_fields(kwargs, message):
    with pytest.raises(ValueError) as raised:
        BodyTrainConfig(**kwargs)
    assert str(raised.value) == message
