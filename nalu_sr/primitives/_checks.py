"""Creation-time checks for user primitives (:func:`make_primitive`).

The checks follow gplearn's ``make_function`` (arity, output shape, closure on
zeros and negatives) and extend them to torch gradients and SymPy agreement,
because one primitive drives training, snapping and the emitted formula.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np
import sympy
import torch
from joblib import wrap_non_picklable_objects

from nalu_sr.exceptions import PrimitiveError
from nalu_sr.primitives._builtin import BUILTIN_PRIMITIVES
from nalu_sr.primitives._primitive import (
    Primitive,
    PrimitiveSet,
    SympyFunction,
    TorchFunction,
)

_N_CHECK_POINTS = 16
_LARGE_VALUE = 1e6
_AGREEMENT_RTOL = 1e-6
_AGREEMENT_ATOL = 1e-9

_F = TypeVar("_F", bound=Callable[..., object])


def make_primitive(
    *,
    name: str,
    arity: int,
    torch_fn: TorchFunction,
    sympy_fn: SympyFunction,
    safe_torch_fn: TorchFunction | None = None,
    complexity: float = 1.0,
    wrap: bool = True,
) -> Primitive:
    """Create a checked custom primitive.

    Parameters
    ----------
    name : str
        A Python identifier that names the primitive in parameters and reports.
    arity : int
        Number of arguments, 1 or more.
    torch_fn : callable
        Exact function of ``arity`` tensors returning a tensor of the same shape.
    sympy_fn : callable
        Exact function of ``arity`` SymPy expressions returning an expression.
    safe_torch_fn : callable or None, default=None
        Training-safe version of ``torch_fn``: finite values and gradients on
        zeros, negatives and large inputs. ``None`` means ``torch_fn`` itself
        must be safe.
    complexity : float, default=1.0
        Cost of one use of the primitive, a non-negative finite number.
    wrap : bool, default=True
        Wrap the callables so that lambdas and closures survive pickling
        (through cloudpickle, as gplearn does). Turn off for speed when the
        callables are module-level functions.

    Returns
    -------
    Primitive
        The checked primitive.

    Raises
    ------
    PrimitiveError
        If a check fails; the message and ``error.check`` name it. Checks:
        ``name``, ``arity``, ``complexity``, ``signature``, ``output_shape``,
        ``closure``, ``gradient``, ``sympy_type`` and ``agreement``.

    Examples
    --------
    >>> import sympy, torch
    >>> from nalu_sr import make_primitive
    >>> sinh = make_primitive(name="sinh", arity=1, torch_fn=torch.sinh,
    ...                       sympy_fn=sympy.sinh,
    ...                       safe_torch_fn=lambda x: torch.sinh(x.clamp(-20, 20)))
    >>> sinh.name, sinh.arity
    ('sinh', 1)
    """
    _check_declaration(name, arity, complexity)
    for function in (torch_fn, sympy_fn, safe_torch_fn):
        if function is not None:
            _check_signature(name, arity, function)
    primitive = Primitive(name, arity, torch_fn, sympy_fn, safe_torch_fn, complexity)
    check_primitive(primitive)
    if not wrap:
        return primitive
    return Primitive(
        name,
        arity,
        _wrap(torch_fn),
        _wrap(sympy_fn),
        None if safe_torch_fn is None else _wrap(safe_torch_fn),
        complexity,
    )


def _wrap(function: _F) -> _F:
    """Wrap a callable so that it survives pickling through cloudpickle.

    Classes, such as ``sympy.sinh``, are left alone: joblib would replace a
    class by a local wrapper class whose calls return wrapper objects instead
    of the class's instances, and which cannot be pickled itself.
    """
    if inspect.isclass(function):
        return function
    return wrap_non_picklable_objects(function)  # type: ignore[no-any-return]


def check_primitive(primitive: Primitive) -> None:
    """Run the numerical and symbolic checks of :func:`make_primitive`.

    Parameters
    ----------
    primitive : Primitive
        The primitive to check.

    Raises
    ------
    PrimitiveError
        If a check fails.
    """
    _check_output_shape(primitive)
    _check_closure_and_gradient(primitive)
    _check_sympy_agreement(primitive)


def _check_declaration(name: object, arity: object, complexity: object) -> None:
    """Check the plain-value fields: name, arity and complexity."""
    label = str(name)
    if not isinstance(name, str) or not name.isidentifier():
        raise PrimitiveError("name", label, "the name must be a Python identifier")
    if isinstance(arity, bool) or not isinstance(arity, int) or arity < 1:
        raise PrimitiveError(
            "arity", label, f"arity must be an int >= 1, got {arity!r}"
        )
    if (
        isinstance(complexity, bool)
        or not isinstance(complexity, int | float)
        or not math.isfinite(complexity)
        or complexity < 0
    ):
        raise PrimitiveError(
            "complexity",
            label,
            f"complexity must be finite and >= 0, got {complexity!r}",
        )


def _check_signature(name: str, arity: int, function: Callable[..., object]) -> None:
    """Check that a plain callable takes exactly ``arity`` positional arguments."""
    if not callable(function):
        raise PrimitiveError("signature", name, f"{function!r} is not callable")
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: trust them
        return
    kinds = {parameter.kind for parameter in parameters}
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return
    positional = [
        parameter
        for parameter in parameters
        if parameter.kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if not len(required) <= arity <= len(positional):
        raise PrimitiveError(
            "signature",
            name,
            f"{getattr(function, '__name__', function)!r} takes "
            f"{len(required)} required argument(s) but arity is {arity}",
        )


def _check_points(arity: int) -> dict[str, torch.Tensor]:
    """Named input batches of shape ``(arity, n)`` for the closure checks."""
    ramp = torch.linspace(0.1, 3.0, _N_CHECK_POINTS, dtype=torch.float64)
    return {
        "zeros": torch.zeros(arity, _N_CHECK_POINTS, dtype=torch.float64),
        "negatives": -ramp.expand(arity, -1).clone(),
        "large values": torch.full((arity, _N_CHECK_POINTS), _LARGE_VALUE).double(),
        "large negative values": torch.full(
            (arity, _N_CHECK_POINTS), -_LARGE_VALUE
        ).double(),
    }


def _call(primitive: Primitive, safe: bool, args: torch.Tensor) -> torch.Tensor:
    """Call one torch version, turning any exception into a PrimitiveError."""
    function = primitive.train_forward if safe else primitive.exact_forward
    try:
        result = function(*args)
    except Exception as error:  # a user function may raise anything
        raise PrimitiveError(
            "output_shape", primitive.name, f"calling it raised {error!r}"
        ) from error
    if not isinstance(result, torch.Tensor):
        raise PrimitiveError(
            "output_shape",
            primitive.name,
            f"it must return a torch.Tensor, got {type(result).__name__}",
        )
    return result


def _check_output_shape(primitive: Primitive) -> None:
    """Both torch versions map ``arity`` tensors of shape (n,) to shape (n,)."""
    args = torch.rand(primitive.arity, _N_CHECK_POINTS, dtype=torch.float64) + 0.5
    for safe in (False, True):
        shape = tuple(_call(primitive, safe, args).shape)
        if shape != (_N_CHECK_POINTS,):
            raise PrimitiveError(
                "output_shape",
                primitive.name,
                f"inputs of shape ({_N_CHECK_POINTS},) gave an output of shape {shape}",
            )


def _check_closure_and_gradient(primitive: Primitive) -> None:
    """Check the safe version for finite values and gradients at hard points."""
    for label, points in _check_points(primitive.arity).items():
        args = points.clone().requires_grad_(True)
        value = _call(primitive, True, args)
        if not torch.isfinite(value).all():
            raise PrimitiveError(
                "closure",
                primitive.name,
                f"the training-safe function is not finite on {label}; "
                "pass a protected safe_torch_fn",
            )
        if not value.requires_grad:  # independent of the inputs: zero gradient
            continue
        (gradient,) = torch.autograd.grad(value.sum(), args, allow_unused=True)
        if gradient is not None and not torch.isfinite(gradient).all():
            raise PrimitiveError(
                "gradient",
                primitive.name,
                f"the training-safe function has a non-finite gradient on {label}",
            )


def _sympy_values(primitive: Primitive, points: np.ndarray) -> np.ndarray:
    """Evaluate the SymPy function on ``points`` of shape (arity, n)."""
    symbols = sympy.symbols(f"a0:{primitive.arity}", real=True)
    expression = primitive.to_sympy(*symbols)
    if not isinstance(expression, sympy.Expr):
        raise PrimitiveError(
            "sympy_type",
            primitive.name,
            f"sympy_fn must return a sympy.Expr, got {type(expression).__name__}",
        )
    function = sympy.lambdify(symbols, expression, modules="numpy")
    with np.errstate(all="ignore"):
        values = np.asarray(function(*points), dtype=np.complex128)
    values = np.broadcast_to(values, points.shape[1:])
    real = np.where(np.abs(values.imag) <= 1e-12, values.real, np.nan)
    return np.asarray(real, dtype=np.float64)


def _check_sympy_agreement(primitive: Primitive) -> None:
    """Exact torch, safe torch and SymPy agree where the exact torch is finite."""
    generator = np.random.default_rng(0)
    magnitudes = generator.uniform(0.2, 3.0, size=(primitive.arity, 64))
    signs = generator.choice([-1.0, 1.0], size=(primitive.arity, 64))
    points = np.concatenate([magnitudes, magnitudes * signs], axis=1)
    with torch.no_grad():
        args = torch.from_numpy(points)
        exact = _call(primitive, False, args).numpy()
        safe = _call(primitive, True, args).numpy()
    symbolic = _sympy_values(primitive, points)
    comparable = np.isfinite(exact) & np.isfinite(symbolic)
    if comparable.sum() < 8:
        raise PrimitiveError(
            "agreement",
            primitive.name,
            "torch_fn and sympy_fn are finite together on too few sample points",
        )
    for label, values in (("torch_fn", exact), ("safe_torch_fn", safe)):
        close = np.isclose(
            values[comparable],
            symbolic[comparable],
            rtol=_AGREEMENT_RTOL,
            atol=_AGREEMENT_ATOL,
        )
        if not close.all():
            index = int(np.flatnonzero(comparable)[np.argmin(close)])
            raise PrimitiveError(
                "agreement",
                primitive.name,
                f"{label} gives {float(values[index]):.10g} but sympy_fn gives "
                f"{float(symbolic[index]):.10g} at {points[:, index].tolist()}",
            )


def resolve_primitives(spec: Iterable[str | Primitive]) -> PrimitiveSet:
    """Turn a mix of built-in names and :class:`Primitive` objects into a set.

    Parameters
    ----------
    spec : iterable of str or Primitive
        Built-in names (see ``BUILTIN_PRIMITIVES.names``) and custom primitives.

    Returns
    -------
    PrimitiveSet
        The resolved primitives, in the given order.

    Raises
    ------
    UnknownPrimitiveError
        If a name is not a built-in; the message suggests close names.
    TypeError
        If an entry is neither a string nor a Primitive.
    """
    if isinstance(spec, str | Primitive):
        spec = [spec]
    resolved = []
    for entry in spec:
        if isinstance(entry, str):
            resolved.append(BUILTIN_PRIMITIVES.get(entry))
        elif isinstance(entry, Primitive):
            resolved.append(entry)
        else:
            raise TypeError(
                f"primitives must be names or Primitive objects, got {entry!r}"
            )
    return PrimitiveSet(resolved)
