"""Training loops and schedules for arithmetic units and models."""

from nalu_sr.training.loop import TrainConfig, TrainResult, train_module
from nalu_sr.training.schedules import linear_ramp

__all__ = ["TrainConfig", "TrainResult", "linear_ramp", "train_module"]
