"""Size limits of model files, checked while a file is read.

Every limit is far above what a fitted model writes and far below what makes
reading, printing or evaluating a formula slow: a file that breaks one is
refused with a :class:`~nalu_sr.exceptions.ModelFileError` naming the
limit, before the work it would cause is started.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from nalu_sr.exceptions import ModelFileError

#: Largest model file read, in bytes (a fitted model writes tens of KB).
MAX_FILE_BYTES = 1024 * 1024
#: Deepest nesting of a formula tree (fitted formulas nest under 20 deep).
MAX_DEPTH = 32
#: Most nodes in one formula tree.
MAX_NODES = 1_000
#: Most formula nodes of one target's formulas, all its candidates together.
MAX_TOTAL_NODES = 5_000
#: Most target columns in a file (each with its own formulas).
MAX_OUTPUTS = 64
#: Most candidates in a file.
MAX_CANDIDATES = 500
#: Most decimal digits of an integer field, sign excluded.
MAX_INTEGER_DIGITS = 300
#: Largest precision of a float, in bits (a float64 has 53).
MAX_FLOAT_PRECISION = 1_024
#: Largest magnitude, in bits, of a binary exponent of a float.
MAX_FLOAT_EXPONENT = 10**9
#: Largest size, in bits, of a part of a formula made only of integers (such
#: parts are evaluated exactly): below the float64 range, so it converts.
MAX_CONSTANT_BITS = 1_000
#: Most characters of a float's readable ``"value"`` field.
MAX_VALUE_CHARS = 1_000
#: Most nested JSON arrays and objects: a formula node takes two levels.
MAX_JSON_DEPTH = 2 * MAX_DEPTH + 8
#: Largest integer in a candidate's or the file's count fields.
MAX_COUNT = 10**9

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_INTEGER = re.compile(r"-?[0-9]+")


def refuse(message: str) -> Exception:
    """Return the error that refuses a model file with ``message``."""
    return ModelFileError(message)


def read_limited(path: str | Path) -> bytes:
    """Read a file, refusing it unread when it is over :data:`MAX_FILE_BYTES`."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise refuse(f"{path} is over the model file limit of {MAX_FILE_BYTES} bytes")
    return data


def check_json_depth(path: str | Path, data: bytes) -> None:
    """Refuse JSON nested deeper than :data:`MAX_JSON_DEPTH`, before parsing it."""
    # Brackets inside strings do not nest: blank the strings out first.
    brackets = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    steps = np.zeros(len(brackets), dtype=np.int64)
    steps[(brackets == ord("[")) | (brackets == ord("{"))] = 1
    steps[(brackets == ord("]")) | (brackets == ord("}"))] = -1
    if len(steps) and int(np.cumsum(steps).max()) > MAX_JSON_DEPTH:
        raise refuse(f"{path} nests deeper than the limit of {MAX_JSON_DEPTH} levels")


def check_integer(value: Any) -> str:
    """Return an integer field's text: an optional minus sign and digits."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise refuse(f"not an integer: {str(value)[:40]!r}")
    if isinstance(value, int) and abs(value).bit_length() > 4 * MAX_INTEGER_DIGITS:
        raise refuse(f"integer over the limit of {MAX_INTEGER_DIGITS} digits")
    text = str(value)
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise refuse(
            f"integer of {len(text.lstrip('-'))} digits is over the limit of "
            f"{MAX_INTEGER_DIGITS} digits"
        )
    if not _INTEGER.fullmatch(text):
        raise refuse(f"not an integer: {text[:40]!r}")
    return text


def check_float_parts(sign: int, mantissa: int, exponent: int, bits: int) -> None:
    """Refuse a float that is not in the normal form SymPy writes, or too large."""
    if abs(exponent) > MAX_FLOAT_EXPONENT:
        raise refuse(
            f"float exponent {_short(exponent)} is over the limit of "
            f"±{MAX_FLOAT_EXPONENT}"
        )
    zero = (mantissa, exponent, bits) == (0, 0, 0)
    if sign not in (0, 1) or not (zero or (mantissa % 2 == 1 and mantissa > 0)):
        raise refuse("malformed float: sign must be 0 or 1, the mantissa odd")
    if bits != mantissa.bit_length():
        raise refuse(f"malformed float: {bits} is not the mantissa's bit count")


def check_precision(precision: int, bits: int) -> None:
    """Refuse a float precision over the limit or below its mantissa's bits."""
    if not bits <= precision <= MAX_FLOAT_PRECISION:
        raise refuse(
            f"float precision {_short(precision)} is outside {max(bits, 1)}.."
            f"{MAX_FLOAT_PRECISION} bits"
        )


def check_tree_size(tree: Any) -> int:
    """Count a formula tree's nodes, refusing one too deep or too large.

    Walks the JSON tree without recursion, so that a hostile depth is refused
    rather than overflowing the stack, and returns the number of nodes.
    """
    stack = [(tree, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise refuse(f"formula nests deeper than the limit of {MAX_DEPTH} levels")
        if count > MAX_NODES:
            raise refuse(f"formula has more than the limit of {MAX_NODES} nodes")
        children = node.get("args", node.get("pair")) if isinstance(node, dict) else ()
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in children)
    return count


def integer_bits(expression: sympy.Basic) -> int | None:
    """Bound the size in bits of an exactly evaluated integer part of a formula.

    When a formula is evaluated, a part made only of integers (sums,
    products, powers) is computed in Python's exact integer arithmetic, which
    takes time and memory without bound; everything else (variables, floats,
    fractions, functions) is computed in floating point, which never grows.

    Returns
    -------
    int or None
        A bound on the bit length of the part's value, or ``None`` when the
        part is evaluated in floating point.

    Raises
    ------
    ModelFileError
        If the bound is over :data:`MAX_CONSTANT_BITS`.
    """
    if isinstance(expression, sympy.Integer):
        return int(expression).bit_length()
    if not expression.args or isinstance(expression, sympy.Number):
        return None
    parts = [integer_bits(arg) for arg in expression.args]
    sizes = [part for part in parts if part is not None]
    if len(sizes) < len(parts) or not _EXACT_NODES.get(type(expression), False):
        return None
    if isinstance(expression, sympy.Pow):
        if expression.args[1].is_negative:  # int ** -n is a float
            return None
        bits = sizes[0] * int(expression.args[1])
    elif isinstance(expression, sympy.Mul):
        bits = sum(sizes)
    else:
        bits = max(sizes) + len(sizes).bit_length()
    if bits > MAX_CONSTANT_BITS:
        raise refuse(
            f"an integer part of the formula may reach 2**{_short(bits)}, "
            f"over the limit of 2**{MAX_CONSTANT_BITS}"
        )
    return bits


#: Nodes that keep integers exact when evaluated: Python int arithmetic.
_EXACT_NODES: dict[type, bool] = {
    sympy.Add: True,
    sympy.Mul: True,
    sympy.Pow: True,
    sympy.Abs: True,
    sympy.Max: True,
    sympy.Min: True,
}


def _short(number: int) -> str:
    """Write a number, or its digit count when it is too long to read."""
    text = str(number)
    return text if len(text) <= 15 else f"({len(text.lstrip('-'))}-digit number)"
