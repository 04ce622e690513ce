"""Checking estimator parameters and resolving them into search settings."""

from __future__ import annotations

import keyword
import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import sympy
import torch

from nalu_sr.architectures import ARCHITECTURES
from nalu_sr.primitives import ARITHMETIC_PRIMITIVES, resolve_primitives
from nalu_sr.search import SearchConfig
from nalu_sr.training.varpro import BodyTrainConfig


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _positive_real(name: str, value: Any, *, allow_zero: bool = False) -> float:
    valid = isinstance(value, Real) and not isinstance(value, bool)
    if (
        not valid
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _architectures(value: Any) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    unknown = [name for name in names if name not in ARCHITECTURES]
    if not names or unknown:
        raise ValueError(
            f"unknown architecture(s) {unknown or names!r}; "
            f"choose among {sorted(ARCHITECTURES)}"
        )
    return names


def _widths(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    widths = (value,) if isinstance(value, Integral) else tuple(value)
    return tuple(_positive_int("hidden_widths", w) for w in widths) or None


def _device(value: Any) -> torch.device:
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {value!r} is not a torch device") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {value!r} was asked for but CUDA is not available")
    return device


def resolve_search_config(params: dict[str, Any]) -> SearchConfig:
    """Check the estimator's parameters and build the search settings.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.

    Returns
    -------
    SearchConfig
        Validated, resolved settings.

    Raises
    ------
    ValueError
        Naming the first invalid parameter.
    """
    batch_size = params["batch_size"]
    max_samples = params["max_samples"]
    max_time = params["max_time"]
    train = BodyTrainConfig(
        max_iter=_positive_int("max_iter", params["max_iter"]),
        learning_rate=_positive_real(
            "learning_rate_init", params["learning_rate_init"]
        ),
        batch_size=None
        if batch_size is None
        else _positive_int("batch_size", batch_size),
        penalty_weight=_positive_real(
            "penalty_weight", params["penalty_weight"], allow_zero=True
        ),
    )
    primitives = params["primitives"]
    return SearchConfig(
        architectures=_architectures(params["architectures"]),
        widths=_widths(params["hidden_widths"]),
        n_restarts=_positive_int("n_restarts", params["n_restarts"]),
        train=train,
        primitives=resolve_primitives(
            ARITHMETIC_PRIMITIVES if primitives is None else primitives
        ),
        tol=_positive_real("tol", params["tol"], allow_zero=True),
        early_stopping=bool(params["early_stopping"]),
        max_time=None if max_time is None else _positive_real("max_time", max_time),
        max_samples=None
        if max_samples is None
        else _positive_int("max_samples", max_samples),
        device=_device(params["device"]),
    )


def check_fraction(name: str, value: Any) -> float:
    """Check a fraction strictly between 0 and 1."""
    valid = isinstance(value, Real) and not isinstance(value, bool)
    if not valid or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def feature_symbols(names: Sequence[str]) -> list[sympy.Symbol]:
    """Real SymPy symbols named after the features, safe to print and re-parse.

    Names that are not identifiers are cleaned (``"mass (kg)"`` -> ``"mass_kg"``);
    names that SymPy or Python already use (``I``, ``E``, ``N``, ``gamma``,
    ``lambda``...) get a trailing underscore so that the printed formula cannot
    be mistaken for a built-in; duplicates get a numeric suffix.
    """
    symbols: list[sympy.Symbol] = []
    used: set[str] = set()
    for index, raw in enumerate(names):
        name = _clean_name(str(raw)) or f"x{index}"
        if keyword.iskeyword(name) or hasattr(sympy, name) or name in {"S", "Q"}:
            name += "_"
        base, suffix = name, 1
        while name in used:
            name, suffix = f"{base}_{suffix}", suffix + 1
        used.add(name)
        symbols.append(sympy.Symbol(name, real=True))
    return symbols


def _clean_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name.strip())
    cleaned = "_".join(part for part in cleaned.split("_") if part)
    if cleaned and cleaned[0].isdigit():
        cleaned = "x_" + cleaned
    return cleaned
