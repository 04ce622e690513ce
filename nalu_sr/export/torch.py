"""A trainable PyTorch module for SymPy formulas.

Each formula is compiled into a small program: a topologically ordered list of
nodes in which every distinct sub-expression appears once, so shared
sub-expressions are computed once per forward pass.  Every ``sympy.Float`` in
the formulas becomes a trainable :class:`torch.nn.Parameter`; exact numbers
(integers, rationals, ``pi``, ``E``) become a non-trainable buffer.  After
fine-tuning, :meth:`SympyModule.sympy` reads the formulas back with the
current parameter values.

The program holds only names, indices and numbers (no functions), so the
module pickles and deep-copies like any other :class:`torch.nn.Module`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import sympy
import torch
from torch import Tensor, nn

# _Node is imported here too so that modules pickled before the compiler moved
# to _program (which name nalu_sr.export.torch._Node) still unpickle.
from nalu_sr.export._program import _Compiler, _Node

__all__ = ["SympyModule", "sympy_to_torch"]

_Value = Tensor | bool


def _piecewise_nan(X: Tensor) -> Tensor:
    """Return the value of a Piecewise where no condition holds (NaN)."""
    return torch.full((), float("nan"), dtype=X.dtype, device=X.device)


def _reduce(function: Callable[[Tensor, Tensor], Tensor]) -> Callable[..., Tensor]:
    """Turn a binary tensor function into an n-ary one, folding left to right."""

    def apply(*values: Tensor) -> Tensor:
        return functools.reduce(function, values)

    return apply


#: The torch implementation of each elementwise operation.
_TORCH_FUNCTIONS: Mapping[str, Callable[..., Tensor]] = {
    "add": _reduce(torch.add), "mul": _reduce(torch.mul),
    "exp": torch.exp, "log": torch.log, "sin": torch.sin, "cos": torch.cos,
    "tan": torch.tan, "tanh": torch.tanh, "sinh": torch.sinh,
    "cosh": torch.cosh, "abs": torch.abs, "sign": torch.sign,
    "max": _reduce(torch.maximum), "min": _reduce(torch.minimum),
    "gt": torch.gt, "ge": torch.ge, "lt": torch.lt, "le": torch.le,
    "eq": torch.eq, "ne": torch.ne,
    "and": _reduce(torch.logical_and), "or": _reduce(torch.logical_or),
    "not": torch.logical_not, "sqrt": torch.sqrt, "pow": torch.pow,
}  # fmt: skip


class SympyModule(nn.Module):
    """Evaluate SymPy formulas with trainable floating-point constants.

    Parameters
    ----------
    expressions : sympy.Expr or sequence of sympy.Expr
        The formula, or several formulas evaluated side by side.
    symbols : sequence of sympy.Symbol
        One symbol per column of the input, in order.
    dtype : torch.dtype, default torch.float64
        The dtype of the parameters and constants.  At forward they are cast
        to the input's floating-point dtype.

    Attributes
    ----------
    constants : torch.nn.ParameterList
        One trainable scalar per distinct ``sympy.Float`` in the formulas, in
        the order they are first met.

    Raises
    ------
    ValueError
        If a formula contains a node type that has no torch implementation,
        or a symbol not in ``symbols``.

    Notes
    -----
    Equal sub-expressions share one node, so a ``Float`` that occurs twice is
    one parameter.  A Piecewise evaluates every branch and selects with
    :func:`torch.where`; a branch that is non-finite where it is not selected
    can still make gradients NaN.

    Examples
    --------
    >>> import sympy, torch
    >>> x, y = sympy.symbols("x y")
    >>> module = SympyModule(sympy.Float(2.0) * x + y / 3, [x, y])
    >>> module(torch.tensor([[1.0, 3.0], [2.0, 6.0]], dtype=torch.float64)).tolist()
    [3.0, 6.0]
    >>> len(module.constants)
    1
    >>> with torch.no_grad():
    ...     _ = module.constants[0].fill_(0.5)
    >>> module.sympy()
    0.5*x + y/3
    """

    exact_constants: Tensor

    def __init__(
        self,
        expressions: sympy.Expr | Sequence[sympy.Expr],
        symbols: Sequence[sympy.Symbol],
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.single = isinstance(expressions, sympy.Basic)
        self.expressions: tuple[sympy.Expr, ...] = (
            (expressions,) if self.single else tuple(expressions)
        )
        self.symbols = tuple(symbols)
        compiler = _Compiler(self.symbols, target="torch")
        self._outputs = tuple(compiler.compile(e) for e in self.expressions)
        self._program = tuple(compiler.nodes)
        self._floats = tuple(compiler.floats)
        self.constants = nn.ParameterList(
            nn.Parameter(torch.tensor(float(value), dtype=dtype))
            for value in self._floats
        )
        self.register_buffer(
            "exact_constants", torch.tensor(compiler.constants, dtype=dtype)
        )

    def forward(self, X: Tensor) -> Tensor:
        """Evaluate the formulas on each row of ``X``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, len(symbols))
            The inputs.  Integer inputs are converted to the module's dtype.

        Returns
        -------
        torch.Tensor
            Shape ``(n,)`` for a single formula, ``(n, k)`` for ``k`` formulas.
        """
        X = self._check_input(X)
        values = self._run(X)
        outputs = [self._as_column(values[index], X) for index in self._outputs]
        return outputs[0] if self.single else torch.stack(outputs, dim=1)

    def sympy(self) -> sympy.Expr | list[sympy.Expr]:
        """Return the formulas with the current parameter values substituted.

        Returns
        -------
        sympy.Expr or list of sympy.Expr
            The formula (or a list, if the module was built from a sequence);
            constants whose parameter still holds its initial value are left
            untouched, so an untrained module returns its formulas unchanged.
        """
        replacements = {}
        for original, parameter in zip(self._floats, self.constants, strict=True):
            value = float(parameter.detach())
            if value != float(original):
                replacements[original] = sympy.Float(value)
        expressions = [e.xreplace(replacements) for e in self.expressions]
        return expressions[0] if self.single else expressions

    def extra_repr(self) -> str:
        """Describe the formulas in the module's repr."""
        formulas = ", ".join(str(e) for e in self.expressions)
        return f"expressions=[{formulas}], symbols={list(self.symbols)}"

    def _check_input(self, X: Tensor) -> Tensor:
        """Check the input's shape and give it a floating-point dtype."""
        if X.ndim != 2 or X.shape[1] != len(self.symbols):
            raise ValueError(
                f"expected an input of shape (n, {len(self.symbols)}), "
                f"got {tuple(X.shape)}"
            )
        if not X.is_floating_point():
            X = X.to(self.exact_constants.dtype)
        return X

    def _run(self, X: Tensor) -> list[_Value]:
        """Evaluate every node of the program once, in order."""
        parameters = [p.to(X.dtype) for p in self.constants]
        exact = self.exact_constants.to(device=X.device, dtype=X.dtype)
        values: list[_Value] = []
        for node in self._program:
            values.append(_evaluate(node, values, X, parameters, exact))
        return values

    @staticmethod
    def _as_column(value: _Value, X: Tensor) -> Tensor:
        """Broadcast a node's value (possibly a scalar) to shape ``(n,)``."""
        value = _number(value)
        if value.shape == (X.shape[0],):
            return value
        return torch.broadcast_to(value, (X.shape[0],))


def _evaluate(
    node: _Node,
    values: Sequence[_Value],
    X: Tensor,
    parameters: Sequence[Tensor],
    exact: Tensor,
) -> _Value:
    """Compute one node's value from the values of the nodes before it."""
    op, value = node.op, node.value
    if op == "bool":
        return bool(value)
    if op in ("input", "param", "const"):
        return _leaf(op, int(value or 0), X, parameters, exact)
    args = [values[index] for index in node.args]
    if op == "piecewise":
        return _piecewise(args, X)
    if op == "pow_int":
        return torch.pow(_number(args[0]), int(value or 0))
    if op == "pow_const":
        return torch.pow(_number(args[0]), float(value or 0))
    return _TORCH_FUNCTIONS[op](*args)


def _leaf(
    op: str, index: int, X: Tensor, parameters: Sequence[Tensor], exact: Tensor
) -> Tensor:
    """Read an input column, a parameter or an exact constant."""
    if op == "input":
        return X[:, index]
    if op == "param":
        return parameters[index]
    return exact[index]


def _number(value: _Value) -> Tensor:
    """Check that a node's value is numeric (not a truth value)."""
    if isinstance(value, bool) or value.dtype == torch.bool:
        raise ValueError("a truth value was used where a number is needed")
    return value


def _piecewise(args: Sequence[_Value], X: Tensor) -> Tensor:
    """Select among ``(value, condition)`` pairs; the first true one wins."""
    result = _piecewise_nan(X)
    for branch, condition in reversed(list(zip(args[::2], args[1::2], strict=True))):
        if condition is True:
            result = _number(branch)
        elif condition is not False:
            result = torch.where(condition, _number(branch), result)
    return result


def sympy_to_torch(
    expression: sympy.Expr | Sequence[sympy.Expr],
    symbols: Sequence[sympy.Symbol],
) -> SympyModule:
    """Build a :class:`SympyModule` for a formula (or several).

    Parameters
    ----------
    expression : sympy.Expr or sequence of sympy.Expr
        The formula(s); every ``sympy.Float`` becomes a trainable parameter.
    symbols : sequence of sympy.Symbol
        One symbol per input column, in order.

    Returns
    -------
    SympyModule
        The module; call it on a tensor of shape ``(n, len(symbols))``.

    Examples
    --------
    >>> import sympy, torch
    >>> x = sympy.Symbol("x")
    >>> sympy_to_torch(sympy.sqrt(x) + 1, [x])(torch.tensor([[4.0], [9.0]]))
    tensor([3., 4.])
    """
    return SympyModule(expression, symbols)
