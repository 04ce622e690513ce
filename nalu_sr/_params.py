"""The parameters of ``NALURegressor``: what each accepts, checked before a fit.

:data:`PARAMETER_CONSTRAINTS` is scikit-learn's declarative table
(``BaseEstimator._validate_params`` reads it as ``_parameter_constraints``):
the type and range of every parameter. :func:`check_parameters` adds what a
table cannot say: that names name known architectures and primitives, that
every hidden width is positive, and that the device exists here. Both run at
the top of ``fit``, so a wrong value fails at once, before any training.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import torch
from sklearn.utils._param_validation import Interval, InvalidParameterError

from nalu_sr.architectures import FAMILY_NAMES
from nalu_sr.exceptions import UnknownPrimitiveError
from nalu_sr.primitives import Primitive, resolve_primitives

_CALLER = "NALURegressor"


class _Range(Interval):
    """An :class:`Interval` that refuses bools, which Python counts as ints."""

    def is_satisfied_by(self, val: Any) -> bool:
        return not isinstance(val, bool) and bool(super().is_satisfied_by(val))


_COUNT = _Range(Integral, 1, None, closed="left")
_POSITIVE = _Range(Real, 0, None, closed="neither")
_NON_NEGATIVE = _Range(Real, 0, None, closed="left")

#: Accepted types and ranges of each parameter (real ranges exclude infinity).
PARAMETER_CONSTRAINTS: Mapping[str, list[Any]] = MappingProxyType(
    {
        "primitives": [None, Primitive, Iterable],
        "architectures": [Iterable],
        "hidden_widths": [None, _COUNT, Iterable],
        "n_restarts": [_COUNT],
        "restart_batch": [_COUNT],
        "max_iter": [_COUNT],
        "learning_rate_init": [_POSITIVE],
        "batch_size": [None, _COUNT],
        "max_samples": [None, _COUNT],
        "penalty_weight": [_NON_NEGATIVE],
        "early_stopping": ["boolean"],
        "warm_start": ["boolean"],
        "dimensional_analysis": ["boolean"],
        "validation_fraction": [_Range(Real, 0, 1, closed="neither")],
        "tol": [None, _NON_NEGATIVE],
        "selection_factor": [_Range(Real, 1, None, closed="left")],
        "max_time": [None, _POSITIVE],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "n_jobs": [
            None,
            _Range(Integral, 1, None, closed="left"),
            _Range(Integral, None, -1, closed="right"),
        ],
    }
)


def check_parameters(params: Mapping[str, Any]) -> None:
    """Check what the constraint table cannot: names, widths and the device.

    Parameters
    ----------
    params : mapping
        ``NALURegressor.get_params()``, already checked against
        :data:`PARAMETER_CONSTRAINTS`.

    Raises
    ------
    InvalidParameterError
        A ``ValueError`` (and ``TypeError``) naming the parameter, for an
        unknown architecture, a hidden width that is not a positive int, or a
        device that is not a torch device or is not available.
    UnknownPrimitiveError
        For an unknown primitive name; the message suggests close names.
    """
    _check_architectures(params["architectures"])
    _check_widths(params["hidden_widths"])
    _check_primitives(params["primitives"])
    _check_device(params["device"])


def _invalid(name: str, problem: str) -> InvalidParameterError:
    return InvalidParameterError(f"The {name!r} parameter of {_CALLER} {problem}")


def _check_architectures(value: Any) -> None:
    names = (value,) if isinstance(value, str) else tuple(value)
    unknown = [name for name in names if name not in FAMILY_NAMES]
    if not names or unknown:
        raise _invalid(
            "architectures",
            f"has unknown architecture(s) {unknown or names!r}; "
            f"choose among {sorted(FAMILY_NAMES)}.",
        )


def _check_widths(value: Any) -> None:
    if value is None or isinstance(value, Integral):
        return  # the table checked a single width
    widths = tuple(value)
    if not all(_COUNT.is_satisfied_by(width) for width in widths):
        raise _invalid("hidden_widths", f"must hold ints >= 1. Got {value!r} instead.")


def _check_primitives(value: Any) -> None:
    if value is None:
        return
    try:
        resolve_primitives(value)
    except UnknownPrimitiveError as error:
        raise UnknownPrimitiveError(
            f"The 'primitives' parameter of {_CALLER} is invalid: {error}"
        ) from error
    except TypeError as error:
        raise _invalid(
            "primitives",
            f"must hold names or Primitive objects. Got {value!r} instead.",
        ) from error


def _check_device(value: Any) -> None:
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError) as error:
        raise _invalid(
            "device", f"must be a torch device. Got {value!r} instead."
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _invalid("device", f"asks for {value!r}, but CUDA is not available here.")
