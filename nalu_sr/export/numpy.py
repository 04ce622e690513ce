"""A picklable NumPy callable for a SymPy formula."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy


class CallableExpression:
    """Evaluate a SymPy expression on a 2-D array, lambdifying lazily.

    The compiled function is not pickled; it is rebuilt on first use after
    unpickling, so the object pickles wherever its expression does.

    Parameters
    ----------
    expression : sympy.Expr
        The formula.
    symbols : sequence of sympy.Symbol
        One symbol per column of the input, in order.

    Examples
    --------
    >>> import numpy as np, sympy
    >>> a, b = sympy.symbols("a b")
    >>> f = CallableExpression(a * b + 1, [a, b])
    >>> f(np.array([[2.0, 3.0], [0.5, 4.0]]))
    array([7., 3.])
    """

    def __init__(self, expression: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> None:
        self.expression = expression
        self.symbols = tuple(symbols)
        self._function: Callable[..., Any] | None = None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Return the formula's value for each row of ``X`` (shape ``(n,)``)."""
        X = np.asarray(X, dtype=np.float64)
        if self._function is None:
            self._function = sympy.lambdify(
                self.symbols, self.expression, modules="numpy", dummify=True
            )
        with np.errstate(all="ignore"):
            values = self._function(*X.T)
        return np.broadcast_to(
            np.asarray(values, dtype=np.float64), (X.shape[0],)
        ).copy()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_function"] = None
        return state

    def __repr__(self) -> str:
        return f"CallableExpression({self.expression})"
