"""The fields a model file may have and the kinds of their values.

Checked right after parsing, so that a file with an unknown key, a field of
the wrong kind, or too many formula nodes is refused with one message before
anything is built from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from nalu_sr.export._limits import (
    MAX_CANDIDATES,
    MAX_COUNT,
    MAX_OUTPUTS,
    MAX_TOTAL_NODES,
    check_tree_size,
    refuse,
)

#: Every key of one target's formulas: at the top level of a file fitted to
#: one-dimensional targets, in each entry of ``outputs`` for a target matrix.
OUTPUT_KEYS = frozenset(
    {
        "expression", "loss", "exact", "n_iter", "best_index", "equations",
        "precision_floor",
    }
)  # fmt: skip
#: Every key of the file's top-level object.
TOP_LEVEL_KEYS = frozenset(
    {"format", "format_version", "nalu_sr_version", "symbols", "feature_names_in",
     "params", "outputs"}
) | OUTPUT_KEYS  # fmt: skip
#: Every key of an entry of ``equations``.
CANDIDATE_KEYS = frozenset(
    {
        "complexity", "train_loss", "validation_loss", "architecture", "width",
        "seed", "expression", "chosen",
    }
)  # fmt: skip
#: Keys an entry of ``equations`` may have beyond :data:`CANDIDATE_KEYS` (files
#: written before laws were judged by extrapolation lack them).
OPTIONAL_CANDIDATE_KEYS = frozenset({"exact", "extrapolation_loss"})


def is_count(value: Any) -> bool:
    """Whether a value is a JSON integer in ``0..MAX_COUNT``."""
    return type(value) is int and 0 <= value <= MAX_COUNT


def is_number(value: Any) -> bool:
    """Whether a value is a JSON number (NaN and infinities included)."""
    return type(value) in (int, float) and (
        type(value) is float or abs(value) <= MAX_COUNT
    )


def _is_names(value: Any) -> bool:
    return value is None or (
        isinstance(value, list) and all(isinstance(n, str) for n in value)
    )


_OUTPUT_KINDS: Mapping[str, tuple[Callable[[Any], bool], str]] = {
    "expression": (lambda v: isinstance(v, dict), "a formula tree"),
    "loss": (is_number, "a number"),
    "precision_floor": (is_number, "a number"),
    "exact": (lambda v: isinstance(v, bool), "true or false"),
    "n_iter": (is_count, f"an integer in 0..{MAX_COUNT}"),
    "best_index": (is_count, f"an integer in 0..{MAX_COUNT}"),
    "equations": (
        lambda v: isinstance(v, list) and len(v) <= MAX_CANDIDATES,
        f"a list of at most {MAX_CANDIDATES} candidates",
    ),
}
_TOP_LEVEL_KINDS: Mapping[str, tuple[Callable[[Any], bool], str]] = {
    "nalu_sr_version": (lambda v: isinstance(v, str), "a string"),
    "feature_names_in": (_is_names, "null or a list of strings"),
    "params": (lambda v: isinstance(v, dict), "a JSON object"),
    "outputs": (
        lambda v: isinstance(v, list) and 0 < len(v) <= MAX_OUTPUTS,
        f"a list of 1 to {MAX_OUTPUTS} targets' formulas",
    ),
    **_OUTPUT_KINDS,
}


def check_document(
    document: dict[str, Any], defaults: Mapping[str, Any] | None = None
) -> None:
    """Refuse unknown keys, fields of the wrong kind and too many nodes.

    Parameters
    ----------
    document : dict
        The parsed file, whose ``format`` and version are already checked.
    defaults : mapping or None, default=None
        The estimator's default parameters; when given, stored parameters
        must be among them and of the same kind.

    Raises
    ------
    ModelFileError
        Naming the first offending key.
    """
    _check_fields(document, TOP_LEVEL_KEYS, _TOP_LEVEL_KINDS, "model file")
    if defaults is not None:
        _check_params(document.get("params", {}), defaults)
    if "outputs" not in document:
        _check_total_nodes(document)
        return
    if OUTPUT_KEYS.intersection(document):
        raise refuse("a model file with 'outputs' holds its formulas only there")
    for output in document["outputs"]:
        if not isinstance(output, dict):
            raise refuse("each of the model file's 'outputs' must be a JSON object")
        _check_fields(output, OUTPUT_KEYS, _OUTPUT_KINDS, "model file's outputs")
        _check_total_nodes(output)


def _check_fields(
    fields: dict[str, Any],
    keys: frozenset[str],
    kinds: Mapping[str, tuple[Callable[[Any], bool], str]],
    where: str,
) -> None:
    """Refuse a key outside ``keys`` and a value of the wrong kind."""
    unknown = sorted(set(fields) - keys)
    if unknown:
        raise refuse(f"unknown key {unknown[0]!r} in {where}")
    for key, (accepts, kind) in kinds.items():
        if key in fields and not accepts(fields[key]):
            raise refuse(f"the model file's {key!r} must be {kind}")


def check_candidate(entry: Any) -> None:
    """Refuse an ``equations`` entry with a missing or unknown key or bad kind."""
    if not isinstance(entry, dict) or not (
        CANDIDATE_KEYS <= set(entry) <= CANDIDATE_KEYS | OPTIONAL_CANDIDATE_KEYS
    ):
        keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise refuse(f"malformed candidate in model file: keys {keys}")
    counts = ("complexity", "width")
    if not all(is_count(entry[key]) for key in counts) or not (
        entry["seed"] is None or (type(entry["seed"]) is int and _fits_seed(entry))
    ):
        raise refuse("malformed candidate in model file: a count is not an integer")
    if not (
        is_number(entry["train_loss"])
        and is_number(entry["validation_loss"])
        and isinstance(entry["architecture"], str)
        and isinstance(entry["chosen"], bool)
        and isinstance(entry.get("exact", False), bool)
        and (
            entry.get("extrapolation_loss") is None
            or is_number(entry["extrapolation_loss"])
        )
    ):
        raise refuse("malformed candidate in model file: a field has the wrong kind")


def _optional_number(value: Any) -> bool:
    return value is None or is_number(value)


def _fits_seed(entry: dict[str, Any]) -> bool:
    return bool(0 <= entry["seed"] < 2**64)


def _check_params(params: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    """Refuse unknown parameters and values of another kind than the default."""
    for name, value in params.items():
        if name not in defaults:
            raise refuse(f"unknown parameter {name!r} in model file")
        if not _same_kind(value, defaults[name]):
            raise refuse(f"the model file's parameter {name!r} has the wrong kind")


def _same_kind(value: Any, default: Any) -> bool:
    """Whether a stored parameter has the kind of its default (any plain if None)."""
    if isinstance(value, list):
        plain = all(isinstance(v, bool | int | float | str) for v in value)
        return plain and (default is None or isinstance(default, tuple | list))
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if default is None:
        return value is None or isinstance(value, bool | int | float | str)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return is_number(value) and not isinstance(value, bool)
    return isinstance(value, type(default))


def _check_total_nodes(document: dict[str, Any]) -> None:
    """Refuse a target whose formulas have more than MAX_TOTAL_NODES nodes in all."""
    trees = [document.get("expression", {})]
    trees += [e.get("expression", {}) for e in document.get("equations", [])
              if isinstance(e, dict)]  # fmt: skip
    total = 0
    for tree in trees:
        total += check_tree_size(tree)
        if total > MAX_TOTAL_NODES:
            raise refuse(
                f"the model file's formulas have more than the limit of "
                f"{MAX_TOTAL_NODES} nodes in all"
            )
