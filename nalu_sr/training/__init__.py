"""Training settings, the shared step loop and the penalty schedules."""

from nalu_sr.training.config import BodyTrainConfig, TrainConfig
from nalu_sr.training.loop import (
    Objective,
    StepHooks,
    TrainResult,
    run_steps,
    train_module,
)
from nalu_sr.training.schedules import fractional_ramp, linear_ramp
from nalu_sr.training.varpro import train_bodies, train_body

__all__ = [
    "BodyTrainConfig",
    "Objective",
    "StepHooks",
    "TrainConfig",
    "TrainResult",
    "fractional_ramp",
    "linear_ramp",
    "run_steps",
    "train_bodies",
    "train_body",
    "train_module",
]
