"""A SymPy formula as a pure JAX function of its inputs and float constants.

The formula is compiled into the same node program as the torch export
(:mod:`nalu_sr.export._program`), then run with ``jax.numpy``. Every
``sympy.Float`` is read from a constants array passed in as an argument, so
the function is pure: it can be ``jax.jit``-ted, and ``jax.grad`` can take
derivatives with respect to the inputs and the constants. Exact numbers
(integers, rationals, ``pi``, ``E``) stay fixed.

JAX is an optional dependency (``pip install nalu_sr[jax]``); this module
imports it only when a formula is converted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sympy

from nalu_sr.export._program import _Compiler, _Node

if TYPE_CHECKING:
    import jax

__all__ = ["JaxExpression", "sympy_to_jax"]

_INSTALL_HINT = "JAX export needs JAX, which is not installed: pip install nalu_sr[jax]"


def _jax_numpy() -> Any:
    """Import ``jax.numpy``, or explain how to install it."""
    try:
        import jax.numpy as jnp
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return jnp


def _fold(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """Turn a binary array function into an n-ary one, folding left to right."""

    def apply(*values: Any) -> Any:
        return functools.reduce(function, values)

    return apply


@functools.cache
def _jax_functions() -> Mapping[str, Callable[..., Any]]:
    """Map each elementwise operation to its ``jax.numpy`` implementation."""
    jnp = _jax_numpy()
    from jax import lax

    return {
        "pow_int": lax.integer_pow, "add": _fold(jnp.add), "mul": _fold(jnp.multiply),
        "exp": jnp.exp, "log": jnp.log, "sin": jnp.sin, "cos": jnp.cos,
        "tan": jnp.tan, "tanh": jnp.tanh, "sinh": jnp.sinh, "cosh": jnp.cosh,
        "abs": jnp.abs, "sign": jnp.sign,
        "max": _fold(jnp.maximum), "min": _fold(jnp.minimum),
        "gt": jnp.greater, "ge": jnp.greater_equal, "lt": jnp.less,
        "le": jnp.less_equal, "eq": jnp.equal, "ne": jnp.not_equal,
        "and": _fold(jnp.logical_and), "or": _fold(jnp.logical_or),
        "not": jnp.logical_not, "sqrt": jnp.sqrt, "pow": jnp.power,
    }  # fmt: skip


class JaxExpression:
    """A SymPy formula as a pure JAX function with its floats as parameters.

    Parameters
    ----------
    expression : sympy.Expr
        The formula.
    symbols : sequence of sympy.Symbol
        One symbol per column of the input, in order.

    Attributes
    ----------
    expression : sympy.Expr
        The formula.
    symbols : tuple of sympy.Symbol
        The input columns' symbols.

    Raises
    ------
    ImportError
        If JAX is not installed.
    ValueError
        If the formula has a node with no JAX implementation, or a symbol
        not in ``symbols``.

    Notes
    -----
    Equal ``Float`` values are one constant. A Piecewise evaluates every
    branch and selects with ``jnp.where``, so a branch that is non-finite
    where it is not selected can still make gradients NaN. Without
    ``jax_enable_x64``, JAX computes in float32.

    Examples
    --------
    >>> import jax, sympy  # doctest: +SKIP
    >>> x, y = sympy.symbols("x y")  # doctest: +SKIP
    >>> f = JaxExpression(sympy.Float(2.0) * x + sympy.sin(y), [x, y])  # doctest: +SKIP
    >>> f.constants  # doctest: +SKIP
    Array([2.], dtype=float32)
    >>> jax.jit(f.function)(jax.numpy.ones((1, 2)), f.constants)  # doctest: +SKIP
    Array([2.841471], dtype=float32)
    """

    def __init__(self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> None:
        _jax_numpy()
        self.expression = expression
        self.symbols = tuple(symbols)
        compiler = _Compiler(self.symbols, target="JAX")
        self._output = compiler.compile(expression)
        self._program = tuple(compiler.nodes)
        self._floats = tuple(compiler.floats)
        self._exact = tuple(compiler.constants)

    @property
    def constants(self) -> jax.Array:
        """The formula's float constants, shape ``(n_constants,)``.

        A fresh array in JAX's default float dtype, in the order the
        constants are first met in the formula.
        """
        jnp = _jax_numpy()
        constants: jax.Array = jnp.asarray([float(value) for value in self._floats])
        return constants

    def function(self, X: Any, constants: Any) -> jax.Array:
        """Evaluate the formula: the pure function to ``jit`` or ``grad``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs, one column per symbol; integers become floats.
        constants : array-like of shape (n_constants,)
            Values of the float constants, as :attr:`constants` orders them.

        Returns
        -------
        jax.Array of shape (n_samples,)
            The formula's values, in the inputs' float dtype.

        Raises
        ------
        ValueError
            If ``X`` or ``constants`` has the wrong shape.
        """
        jnp = _jax_numpy()
        X = jnp.asarray(X)
        if not jnp.issubdtype(X.dtype, jnp.floating):
            X = X.astype(jnp.asarray(0.0).dtype)
        if X.ndim != 2 or X.shape[1] != len(self.symbols):
            raise ValueError(
                f"expected an input of shape (n, {len(self.symbols)}), "
                f"got {tuple(X.shape)}"
            )
        constants = jnp.asarray(constants, dtype=X.dtype)
        if constants.shape != (len(self._floats),):
            raise ValueError(
                f"expected {len(self._floats)} constants, got shape "
                f"{tuple(constants.shape)}"
            )
        exact = [jnp.asarray(value, dtype=X.dtype) for value in self._exact]
        values: list[Any] = []
        for node in self._program:
            values.append(_evaluate(node, values, X, constants, exact))
        output: jax.Array = jnp.broadcast_to(
            _number(values[self._output]), (X.shape[0],)
        )
        return output

    def __call__(self, X: Any, constants: Any = None) -> jax.Array:
        """Evaluate the formula, with :attr:`constants` unless others are given."""
        return self.function(X, self.constants if constants is None else constants)

    def sympy(self, constants: Any = None) -> sympy.Expr:
        """Return the formula with the given constants substituted.

        Parameters
        ----------
        constants : array-like of shape (n_constants,) or None, default=None
            New values, e.g. after fitting; ``None`` returns the formula.

        Returns
        -------
        sympy.Expr
            The formula; a constant whose value equals its original at the
            array's precision is left untouched, so unchanged constants keep
            all their digits.
        """
        if constants is None:
            return self.expression
        jnp = _jax_numpy()
        values = jnp.asarray(constants)
        replacements = {}
        for original, value in zip(self._floats, values, strict=True):
            if value != jnp.asarray(float(original), dtype=values.dtype):
                replacements[original] = sympy.Float(float(value))
        expression: sympy.Expr = self.expression.xreplace(replacements)
        return expression

    def __repr__(self) -> str:
        return f"JaxExpression({self.expression})"


def _evaluate(
    node: _Node, values: Sequence[Any], X: Any, constants: Any, exact: Sequence[Any]
) -> Any:
    """Compute one node's value from the values of the nodes before it."""
    op, value = node.op, node.value
    if op == "bool":
        return bool(value)
    if op == "input":
        return X[:, int(value or 0)]
    if op == "param":
        return constants[int(value or 0)]
    if op == "const":
        return exact[int(value or 0)]
    args = [values[index] for index in node.args]
    if op == "piecewise":
        return _piecewise(args, X)
    functions = _jax_functions()
    if op == "pow_int":
        return functions["pow_int"](_number(args[0]), int(value or 0))
    if op == "pow_const":
        return functions["pow"](_number(args[0]), float(value or 0))
    return functions[op](*args)


def _number(value: Any) -> Any:
    """Check that a node's value is numeric (not a truth value)."""
    if isinstance(value, bool) or value.dtype == bool:
        raise ValueError("a truth value was used where a number is needed")
    return value


def _piecewise(args: Sequence[Any], X: Any) -> Any:
    """Select among ``(value, condition)`` pairs; the first true one wins."""
    jnp = _jax_numpy()
    result = jnp.asarray(float("nan"), dtype=X.dtype)
    for branch, condition in reversed(list(zip(args[::2], args[1::2], strict=True))):
        if condition is True:
            result = _number(branch)
        elif condition is not False:
            result = jnp.where(condition, _number(branch), result)
    return result


def sympy_to_jax(
    expression: sympy.Expr, symbols: Sequence[sympy.Symbol]
) -> JaxExpression:
    """Build a :class:`JaxExpression` for a formula.

    Parameters
    ----------
    expression : sympy.Expr
        The formula; every ``sympy.Float`` becomes an entry of the constants.
    symbols : sequence of sympy.Symbol
        One symbol per input column, in order.

    Returns
    -------
    JaxExpression
        Call it on an array of shape ``(n, len(symbols))``; its ``function``
        takes the constants as a second argument.

    Raises
    ------
    ImportError
        If JAX is not installed (``pip install nalu_sr[jax]``).
    """
    return JaxExpression(expression, symbols)
