"""A portable JSON model file that loads without executing anything from it.

Formulas are stored as JSON trees of whitelisted SymPy node types (never as
code or strings to be parsed), so loading a file can only ever build numbers,
the declared feature symbols, and functions from :data:`ALLOWED_FUNCTIONS`.
:mod:`nalu_sr.export.persistence` maps a fitted estimator onto this format
(``NALURegressor.save`` and ``NALURegressor.load``).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sympy

from nalu_sr.exceptions import ModelFileError
from nalu_sr.export import _envelope, _limits
from nalu_sr.extraction.candidate import Candidate

# ModelFileError and symbols_from_names lived here; both stay importable.
from nalu_sr.symbols import symbols_from_names

__all__ = [
    "ALLOWED_FUNCTIONS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "candidate_from_json",
    "candidate_to_json",
    "expression_to_tree",
    "read_model_file",
    "symbols_from_names",
    "tree_to_expression",
    "write_model_file",
]

FORMAT_NAME = "nalu_sr-model"
FORMAT_VERSION = 1

#: Operators and functions a model file may contain, by SymPy class name.
ALLOWED_FUNCTIONS: Mapping[str, Any] = {
    cls.__name__: cls
    for cls in (
        sympy.Add, sympy.Mul, sympy.Pow, sympy.exp, sympy.log, sympy.sin,
        sympy.cos, sympy.tan, sympy.tanh, sympy.sinh, sympy.cosh, sympy.Abs,
        sympy.sign, sympy.Piecewise, sympy.Max, sympy.Min,
        sympy.GreaterThan, sympy.StrictGreaterThan, sympy.LessThan,
        sympy.StrictLessThan, sympy.Equality, sympy.Unequality,
        sympy.And, sympy.Or, sympy.Not,
    )
}  # fmt: skip
_CONSTANTS: Mapping[str, sympy.Expr] = {
    "pi": sympy.pi,
    "E": sympy.E,
    "true": sympy.true,
    "false": sympy.false,
    "nan": sympy.nan,
    "oo": sympy.oo,
    "-oo": -sympy.oo,
    "zoo": sympy.zoo,
    "I": sympy.I,
}


def expression_to_tree(expression: sympy.Basic) -> Any:
    """Encode a SymPy expression as a JSON-compatible tree.

    Parameters
    ----------
    expression : sympy.Basic
        Built from numbers, symbols, ``pi``, ``E`` and the allowed functions.

    Returns
    -------
    dict
        ``{"symbol": name}``, ``{"integer": "3"}``, ``{"rational": ["1", "4"]}``,
        ``{"float": [sign, mantissa, exponent, bits], "precision": 53}`` (the
        exact binary value, plus a readable ``"value"``), ``{"constant": "pi"}`` or
        ``{"function": name, "args": [...]}``.

    Raises
    ------
    ModelFileError
        If the expression uses something that could not be loaded back.
    """
    if isinstance(expression, sympy.Symbol):
        return {"symbol": expression.name}
    if isinstance(expression, sympy.Integer):
        return {"integer": str(int(expression))}
    if isinstance(expression, sympy.Rational):
        return {"rational": [str(expression.p), str(expression.q)]}
    if isinstance(expression, sympy.Float):
        sign, mantissa, exponent, bits = expression._mpf_
        return {
            "float": [int(sign), str(mantissa), int(exponent), int(bits)],
            "precision": int(expression._prec),
            "value": str(expression),
        }
    for name, constant in _CONSTANTS.items():
        if expression == constant:
            return {"constant": name}
    name = type(expression).__name__
    if name == "ExprCondPair":
        return {"pair": [expression_to_tree(arg) for arg in expression.args]}
    if name not in ALLOWED_FUNCTIONS:
        raise ModelFileError(f"cannot store {name!r} in a model file: not allowed")
    return {"function": name, "args": [expression_to_tree(a) for a in expression.args]}


def tree_to_expression(tree: Any, symbols: Mapping[str, sympy.Symbol]) -> sympy.Basic:
    """Decode a tree made by :func:`expression_to_tree`, using only the whitelist.

    Parameters
    ----------
    tree : dict
        The encoded expression.
    symbols : mapping of str to sympy.Symbol
        The only symbols the tree may name.

    Returns
    -------
    sympy.Basic
        The expression.

    Raises
    ------
    ModelFileError
        On any node that is not a known number, symbol, constant or allowed
        function, or a tree over one of the size limits (depth, nodes, digits,
        float precision and exponent, size of constant parts).
    """
    _limits.check_tree_size(tree)
    expression = _decode_checked(tree, symbols)
    _limits.integer_bits(expression)
    return expression


def _decode_checked(tree: Any, symbols: Mapping[str, sympy.Symbol]) -> sympy.Basic:
    """Decode one node, turning any failure into a ModelFileError naming it."""
    if not isinstance(tree, dict) or not 1 <= len(tree) <= 3:
        raise ModelFileError(f"malformed expression node: {str(tree)[:80]!r}")
    try:
        return _decode(tree, symbols)
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise ModelFileError(
            f"malformed expression node: {str(tree)[:80]!r}"
        ) from error


#: The keys each kind of node has (the first is the one that names the kind).
_NODE_KEYS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    kind: (frozenset(required), frozenset(required) | frozenset(optional))
    for kind, required, optional in (
        ("symbol", ["symbol"], []),
        ("integer", ["integer"], []),
        ("rational", ["rational"], []),
        ("float", ["float"], ["precision", "value"]),
        ("constant", ["constant"], []),
        ("pair", ["pair"], []),
        ("function", ["function", "args"], []),
    )
}


def _node_kind(tree: dict[str, Any]) -> str:
    """Name the kind of a node, refusing a missing, extra or unknown key."""
    keys = set(tree)
    for kind, (required, allowed) in _NODE_KEYS.items():
        if kind in keys:
            if not required <= keys <= allowed:
                raise ModelFileError(
                    f"malformed {kind} node: keys {sorted(keys)}, expected "
                    f"{sorted(required)}"
                    + (
                        f" (and optionally {sorted(allowed - required)})"
                        if allowed != required
                        else ""
                    )
                )
            return kind
    raise ModelFileError(
        f"malformed expression node: no known key in {sorted(keys)[:5]}"
    )


def _decode(tree: dict[str, Any], symbols: Mapping[str, sympy.Symbol]) -> sympy.Basic:
    """Decode one node (see :func:`tree_to_expression`)."""
    kind = _node_kind(tree)
    if kind == "symbol":
        if not isinstance(tree["symbol"], str) or tree["symbol"] not in symbols:
            raise ModelFileError(f"unknown symbol {tree['symbol']!r} in model file")
        return symbols[tree["symbol"]]
    if kind == "integer":
        return sympy.Integer(int(_digits(tree["integer"])))
    if kind == "rational":
        return _decode_rational(tree["rational"])
    if kind == "float":
        return _decode_float(tree)
    if kind == "constant":
        if not isinstance(tree["constant"], str) or tree["constant"] not in _CONSTANTS:
            raise ModelFileError(f"unknown constant {tree['constant']!r} in model file")
        return _CONSTANTS[tree["constant"]]
    children = tree.get("args", tree.get("pair"))
    if not isinstance(children, list):
        raise ModelFileError(f"malformed {kind} node: its arguments are not a list")
    args = [_decode_checked(arg, symbols) for arg in children]
    if kind == "pair":
        return sympy.functions.elementary.piecewise.ExprCondPair(*args)
    function = tree["function"]
    if not isinstance(function, str) or function not in ALLOWED_FUNCTIONS:
        raise ModelFileError(f"function {function!r} is not allowed in a model file")
    # evaluate=False rebuilds the node exactly as stored: re-evaluating would
    # turn a factored (2*x0 + 8)/5 into 2*x0/5 + 8/5, a different tree.
    return ALLOWED_FUNCTIONS[function](*args, evaluate=False)


def _decode_rational(parts: Any) -> sympy.Rational:
    """Decode ``["p", "q"]`` with a nonzero denominator."""
    if not isinstance(parts, list) or len(parts) != 2:
        raise ModelFileError("malformed rational: expected [numerator, denominator]")
    numerator, denominator = (int(_digits(part)) for part in parts)
    if denominator == 0:
        raise ModelFileError("malformed rational: the denominator is 0")
    return sympy.Rational(numerator, denominator)


def _decode_float(tree: dict[str, Any]) -> sympy.Float:
    """Decode a float from its exact binary parts, within the size limits."""
    parts = tree["float"]
    if not isinstance(parts, list) or len(parts) != 4:
        raise ModelFileError(
            "malformed float: expected [sign, mantissa, exponent, bits]"
        )
    sign, mantissa, exponent, bits = (int(_digits(part)) for part in parts)
    _limits.check_float_parts(sign, mantissa, exponent, bits)
    precision = int(_digits(tree.get("precision", 53)))
    _limits.check_precision(precision, bits)
    value = tree.get("value", "")
    if not isinstance(value, str) or len(value) > _limits.MAX_VALUE_CHARS:
        raise ModelFileError("malformed float: 'value' is not a short string")
    # zero=False: SymPy would otherwise turn a stored 0.0 into the integer 0.
    return sympy.Float._new((sign, mantissa, exponent, bits), precision, zero=False)


def _digits(text: Any) -> str:
    """Check that an integer field holds an optional sign and a few digits."""
    return _limits.check_integer(text)


def candidate_to_json(candidate: Candidate, chosen: bool) -> dict[str, Any]:
    """Encode one candidate as a model file's ``equations`` entry.

    Parameters
    ----------
    candidate : Candidate
        The candidate formula and its provenance.
    chosen : bool
        Whether it is the chosen formula.

    Returns
    -------
    dict
        ``complexity``, ``train_loss``, ``validation_loss``, ``architecture``,
        ``width``, ``seed``, ``expression`` (a tree), ``chosen``, ``exact``
        and ``extrapolation_loss``.
    """
    return {
        "complexity": int(candidate.complexity),
        "train_loss": float(candidate.train_loss),
        "validation_loss": float(candidate.validation_loss),
        "architecture": str(candidate.architecture),
        "width": int(candidate.width),
        "seed": None if candidate.seed is None else int(candidate.seed),
        "expression": expression_to_tree(candidate.expression),
        "chosen": bool(chosen),
        "exact": bool(candidate.exact),
        "extrapolation_loss": None
        if candidate.extrapolation_loss is None
        else float(candidate.extrapolation_loss),
    }


def candidate_from_json(entry: Any, symbols: Mapping[str, sympy.Symbol]) -> Candidate:
    """Decode an ``equations`` entry written by :func:`candidate_to_json`.

    Raises
    ------
    ModelFileError
        If the entry lacks a field or holds a value of the wrong kind.
    """
    _envelope.check_candidate(entry)
    try:
        seed = entry["seed"]
        return Candidate(
            expression=tree_to_expression(entry["expression"], symbols),
            complexity=int(entry["complexity"]),
            train_loss=float(entry["train_loss"]),
            validation_loss=float(entry["validation_loss"]),
            architecture=str(entry["architecture"]),
            width=int(entry["width"]),
            seed=None if seed is None else int(seed),
            extrapolation_loss=_optional_number(entry.get("extrapolation_loss")),
            exact=bool(entry.get("exact", _legacy_exact(entry))),
        )
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"malformed candidate in model file: {error!r}") from error


def write_model_file(path: str | Path, payload: Mapping[str, Any]) -> None:
    """Write a model payload as JSON (see ``NALURegressor.save``).

    The file is written under a temporary name in the same folder and then
    renamed over ``path``, so that a save that fails part-way (a full disk, a
    size limit, an interrupt) leaves any previous file at ``path`` intact.
    """
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **payload}
    text = json.dumps(document, indent=2) + "\n"
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as an
    # ordinary write would (tempfile would make the model file private).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_model_file(
    path: str | Path, defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read and check the envelope of a model file.

    The file's size, nesting depth, keys, field kinds and number of formula
    nodes are checked before any formula is built (see ``docs/reliability.md``
    for the limits); with ``defaults`` (the estimator's default parameters),
    so are the stored parameters' names and kinds.

    Raises
    ------
    ModelFileError
        If the file is not JSON, not a nalu_sr model of a known version, or
        breaks one of the limits.
    """
    data = _limits.read_limited(path)
    _limits.check_json_depth(path, data)
    try:
        document = json.loads(data.decode("utf-8"))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path} is not a JSON file: {error}") from error
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # ValueError: an integer literal over Python's digit limit.
        raise ModelFileError(f"{path} is not a JSON file: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a nalu_sr model file")
    version = document.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {document.get('format_version')!r}; "
            f"this nalu_sr reads version {FORMAT_VERSION}"
        )
    _envelope.check_document(document, defaults)
    return document


#: The fixed ``tol`` that marked exact candidates before laws were judged at
#: the data's precision floor and by extrapolation.
LEGACY_TOL = 1e-16


def _optional_number(value: Any) -> float | None:
    return None if value is None else float(value)


def _legacy_exact(entry: Mapping[str, Any]) -> bool:
    """Whether a candidate of an older file (without ``exact``) counted as exact."""
    return float(entry["validation_loss"]) <= LEGACY_TOL
