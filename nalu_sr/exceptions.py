"""Exceptions raised by nalu_sr.

Every error a user can trigger through the public API derives from
:class:`NaluSRError`, so that ``except NaluSRError`` catches all of them, and
from the builtin class a scikit-learn user would expect (``ValueError`` for
bad values), so that generic handlers keep working.
"""

from __future__ import annotations


class NaluSRError(Exception):
    """Base class of every error raised on purpose by nalu_sr."""


class PrimitiveError(NaluSRError, ValueError):
    """A primitive function failed one of the checks of :func:`make_primitive`.

    Parameters
    ----------
    check : str
        Name of the failed check, for example ``"arity"`` or ``"closure"``.
    name : str
        Name of the primitive being checked.
    detail : str
        What was observed, in words.

    Attributes
    ----------
    check : str
        Name of the failed check.
    primitive_name : str
        Name of the primitive being checked.
    """

    def __init__(self, check: str, name: str, detail: str) -> None:
        self.check = check
        self.primitive_name = name
        super().__init__(f"primitive {name!r} failed the {check!r} check: {detail}")


class UnknownPrimitiveError(NaluSRError, ValueError):
    """A primitive was asked for by a name that no known primitive has."""


class PoorFitWarning(UserWarning):
    """No candidate formula fitted the validation data well."""


class InsufficientDataWarning(UserWarning):
    """Too few rows to confirm the chosen formula, so it is not called exact.

    Raised when no validation rows could be held out, or when they do not
    outnumber the formula's free constants: so few rows can be fitted by
    many formulas.
    """


class ModelFileError(NaluSRError, ValueError):
    """A model file is malformed or contains something not on the whitelist."""
