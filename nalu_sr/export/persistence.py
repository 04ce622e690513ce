"""Saving a fitted estimator's formulas to a model file, and loading them back.

The file format, its limits and the formula trees are in
:mod:`nalu_sr.export.serialize`; this module maps an estimator onto it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sympy

from nalu_sr._equations import build_table, table_candidates
from nalu_sr._version import __version__
from nalu_sr.exceptions import ModelFileError
from nalu_sr.export.serialize import (
    LEGACY_TOL,
    candidate_from_json,
    candidate_to_json,
    expression_to_tree,
    read_model_file,
    tree_to_expression,
    write_model_file,
)
from nalu_sr.selection import FittedFormulas
from nalu_sr.symbols import symbols_from_names

__all__ = ["LoadedModel", "SavableModel", "load_model", "save_model"]


class SavableModel(Protocol):
    """What :func:`save_model` reads from a fitted ``NALURegressor``."""

    feature_symbols_: list[sympy.Symbol]
    expression_: sympy.Expr
    loss_: float
    exact_: bool
    precision_floor_: float
    n_iter_: int
    best_index_: int
    equations_: Any

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the estimator's parameters."""


@dataclass(frozen=True)
class LoadedModel:
    """The contents of a model file, checked and decoded.

    Attributes
    ----------
    params : dict
        The stored parameters that the estimator knows, lists as tuples.
    formulas : list of FittedFormulas
        Per target column, the chosen formula and the table of candidates (no
        torch module).
    feature_names_in : list of str or None
        The feature names seen in ``fit``, if it saw any.
    multi_output : bool
        Whether the model was fitted to a target matrix (one entry of
        ``formulas`` per column) rather than to one-dimensional targets.
    """

    params: dict[str, Any]
    formulas: list[FittedFormulas]
    feature_names_in: list[str] | None
    multi_output: bool = False


def save_model(model: SavableModel, path: str | Path) -> None:
    """Write a fitted estimator's formulas to a model file.

    The file holds the formula and every candidate as JSON trees, the
    feature names, the parameters that are plain values, and the library
    version.

    Parameters
    ----------
    model : SavableModel
        A fitted ``NALURegressor``.
    path : str or pathlib.Path
        Where to write.
    """
    params = {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in model.get_params().items()
        if _is_plain_json(v)
    }
    names = getattr(model, "feature_names_in_", None)
    document: dict[str, Any] = {
        "nalu_sr_version": __version__,
        "symbols": [s.name for s in model.feature_symbols_],
        "feature_names_in": None if names is None else [str(n) for n in names],
        "params": params,
    }
    estimators = getattr(model, "estimators_", None)
    if estimators is None:
        document.update(_output_document(model))
    else:
        document["outputs"] = [_output_document(output) for output in estimators]
    write_model_file(path, document)


def _output_document(model: SavableModel) -> dict[str, Any]:
    """Encode one target's formula and candidates as JSON values."""
    candidates = table_candidates(model.equations_)
    return {
        "expression": expression_to_tree(model.expression_),
        "loss": model.loss_,
        "exact": model.exact_,
        "precision_floor": model.precision_floor_,
        "n_iter": model.n_iter_,
        "best_index": model.best_index_,
        "equations": [
            candidate_to_json(candidate, number == model.best_index_)
            for number, candidate in enumerate(candidates)
        ],
    }


def load_model(path: str | Path, defaults: Mapping[str, Any]) -> LoadedModel:
    """Read and decode a model file written by :func:`save_model`.

    Nothing in the file is executed: formulas are rebuilt from a whitelist
    of SymPy node types, numbers and the file's declared feature symbols.

    Parameters
    ----------
    path : str or pathlib.Path
        The model file.
    defaults : mapping
        The estimator's default parameters: stored parameters it does not
        know are dropped.

    Returns
    -------
    LoadedModel
        The parameters and the formulas.

    Raises
    ------
    ModelFileError
        If the file is malformed or holds anything outside the whitelist.
    """
    document = read_model_file(path, defaults)
    symbols = symbols_from_names(document.get("symbols", []))
    params = document.get("params", {})
    if not isinstance(params, dict):
        raise ModelFileError("the model file's 'params' must be a JSON object")
    known = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in params.items()
        if k in defaults
    }
    names = document.get("feature_names_in")
    outputs = document.get("outputs")
    if outputs is None:
        return LoadedModel(known, [_decode_formulas(document, symbols)], names)
    if not isinstance(outputs, list) or not outputs:
        raise ModelFileError("the model file's 'outputs' must be a non-empty list")
    formulas = [_decode_formulas(output, symbols) for output in outputs]
    return LoadedModel(known, formulas, names, multi_output=True)


def _decode_formulas(
    document: dict[str, Any], symbols: dict[str, sympy.Symbol]
) -> FittedFormulas:
    """Decode one target's formulas of a model file and tabulate its candidates."""
    if not isinstance(document, dict):
        raise ModelFileError("each of the model file's 'outputs' must be an object")
    try:
        entries = document["equations"]
        candidates = [candidate_from_json(entry, symbols) for entry in entries]
        expression = tree_to_expression(document["expression"], symbols)
        loss = float(document["loss"])
        exact = bool(document["exact"])
        best_index = int(document["best_index"])
        n_iter = int(document["n_iter"])
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"incomplete model file: {error!r}") from error
    if not 0 <= best_index < len(candidates):
        raise ModelFileError(
            f"the model file's best_index {best_index} names no candidate"
        )
    return FittedFormulas(
        symbols=list(symbols.values()),
        table=build_table(candidates, best_index),
        best_index=best_index,
        expression=expression,
        loss=loss,
        exact=exact,
        n_iter=n_iter,
        precision_floor=float(document.get("precision_floor", LEGACY_TOL)),
    )


def _is_plain_json(value: Any) -> bool:
    """Whether a parameter value survives a JSON round trip unchanged."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, tuple | list):
        return all(isinstance(v, bool | int | float | str) for v in value)
    return False
