"""Searching for laws with functions: terms ``P(x) * u(a * g(x) + b)``.

A term multiplies a monomial factor ``P`` by a primitive ``u`` (exp, log, sin,
cos, sqrt, tanh, inv or a custom one) applied to a scaled and shifted argument
``g``: a monomial or a power of a signed sum of inputs. Formulas are sums of
such terms under a least-squares linear head, optionally seen through an
invertible transform of the target (``1/y``, ``log y``, ``y**2``), which gives
a second level of nesting (``1/(exp(x0/x1) - 1)``, ``sqrt(x0**2 + x1**2)``).

The search attends over every primitive at once: each (primitive, argument,
scale) choice is scored by least squares next to the terms already chosen,
the best few are refined (inner constants by Levenberg-Marquardt under the
least-squares head), and the best sums are kept in a beam. Inner constants
then snap to simple exact numbers where the data allows.
"""

from nalu_sr.functions.search import (
    FunctionSearch,
    FunctionSearchConfig,
    search_functions,
)
from nalu_sr.functions.terms import Argument, Term

__all__ = [
    "Argument",
    "FunctionSearch",
    "FunctionSearchConfig",
    "Term",
    "search_functions",
]
