"""Naming the features: the SymPy symbols that formulas are written over.

Two sources of names exist. A fit names its symbols after the columns of the
data (:func:`feature_symbols`, which cleans any column name); a model file
declares its symbols, and loading one only accepts plain identifiers
(:func:`symbols_from_names`), so nothing in a file can build anything else.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from typing import Any

import sympy

from nalu_sr.exceptions import ModelFileError

__all__ = ["feature_symbols", "symbols_from_names"]


def feature_symbols(names: Sequence[str]) -> list[sympy.Symbol]:
    """Real SymPy symbols named after the features, safe to print and re-parse.

    Names that are not identifiers are cleaned (``"mass (kg)"`` -> ``"mass_kg"``);
    names that SymPy or Python already use (``I``, ``E``, ``N``, ``gamma``,
    ``lambda``...) get a trailing underscore so that the printed formula cannot
    be mistaken for a built-in; duplicates get a numeric suffix.

    Parameters
    ----------
    names : sequence of str
        One name per feature, in column order.

    Returns
    -------
    list of sympy.Symbol
        One real symbol per feature, all names distinct.

    Examples
    --------
    >>> feature_symbols(["I", "mass (kg)", "2nd", "a", "a"])
    [I_, mass_kg, x_2nd, a, a_1]
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
    """Replace non-identifier characters by underscores and squeeze them."""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name.strip())
    cleaned = "_".join(part for part in cleaned.split("_") if part)
    if cleaned and cleaned[0].isdigit():
        cleaned = "x_" + cleaned
    return cleaned


def symbols_from_names(names: Sequence[Any]) -> dict[str, sympy.Symbol]:
    """Real symbols for a model file's declared feature names.

    Parameters
    ----------
    names : list of str
        The names, each a plain identifier.

    Returns
    -------
    dict of str to sympy.Symbol
        One real symbol per name, in the given order.

    Raises
    ------
    ModelFileError
        If ``names`` is not a list of identifiers.
    """
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n.isidentifier() for n in names
    ):
        raise ModelFileError("the model file's 'symbols' must be a list of identifiers")
    return {name: sympy.Symbol(name, real=True) for name in names}
