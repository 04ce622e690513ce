"""A picklable NumPy callable for a SymPy formula."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter


class ZooNumPyPrinter(NumPyPrinter):
    """NumPy printer that also prints ``zoo`` (a division by a symbolic zero)."""

    def _print_ComplexInfinity(self, expr: sympy.Expr) -> str:
        """Print ``zoo`` as ``nan``: its value, like ``0/0``'s, is undefined."""
        return str(self._print(sympy.nan))


class FloatNumPyPrinter(ZooNumPyPrinter):
    """NumPy printer whose exact numbers become float64 scalars.

    Python evaluates ``2**5000`` or ``10**400 * x`` in exact integers and then
    fails to convert them (``OverflowError``); as float64 scalars they
    overflow to ``inf`` like any other floating-point value.
    """

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return self._float64(_to_float(int(expr.p), 1))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return self._float64(_to_float(int(expr.p), int(expr.q)))

    def _float64(self, value: float) -> str:
        return f"{self._module_format('numpy.float64')}({str(value)!r})"


def lambdify_printer(kind: type[NumPyPrinter] = ZooNumPyPrinter) -> NumPyPrinter:
    """Return a ``kind`` printer set up as ``lambdify(modules="numpy")`` sets its own.

    Names are printed bare (``maximum``, not ``numpy.maximum``) because they
    are looked up in lambdify's NumPy namespace.
    """
    return kind(
        {
            "fully_qualified_modules": False,
            "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {},
        }
    )


def _to_float(numerator: int, denominator: int) -> float:
    """``numerator / denominator`` as a float; ``±inf`` beyond its range."""
    try:
        return numerator / denominator
    except OverflowError:
        return math.inf if (numerator < 0) == (denominator < 0) else -math.inf


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
        """Return the formula's value for each row of ``X`` (shape ``(n,)``).

        Numbers are evaluated as float64, so values beyond its range are
        ``inf`` and undefined ones ``nan``, never an exception.

        Raises
        ------
        ValueError
            When the formula cannot be evaluated at all (a hand-made formula
            with a function NumPy lacks, or an undefined comparison).
        """
        X = np.asarray(X, dtype=np.float64)
        try:
            if self._function is None:
                self._function = sympy.lambdify(
                    self.symbols,
                    self.expression,
                    modules="numpy",
                    printer=lambdify_printer(FloatNumPyPrinter),
                    dummify=True,
                )
            with np.errstate(all="ignore"):
                values = self._function(*X.T)
            values = np.asarray(values, dtype=np.float64)
        except (ArithmeticError, LookupError, TypeError, ValueError) as error:
            # Only a formula from a hand-edited model file gets here (an
            # undefined comparison inside SymPy, a function NumPy lacks).
            try:
                text = str(self.expression)
            except (ArithmeticError, TypeError, ValueError):
                # SymPy's printer compares numbers; a NaN among them fails.
                text = sympy.srepr(self.expression)
            text = text if len(text) <= 80 else text[:77] + "..."
            raise ValueError(f"cannot evaluate the formula {text}: {error}") from None
        return np.broadcast_to(values, (X.shape[0],)).copy()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_function"] = None
        return state

    def __repr__(self) -> str:
        return f"CallableExpression({self.expression})"
