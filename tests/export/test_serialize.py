import json
import sys

import numpy as np
import pandas as pd
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from nalu_sr import NALURegressor
from nalu_sr.export.serialize import (
    ModelFileError,
    expression_to_tree,
    tree_to_expression,
)

a, b = sympy.symbols("a b", real=True)
SYMBOLS = {"a": a, "b": b}

leaves = st.one_of(
    st.sampled_from([a, b, sympy.pi, sympy.E]),
    st.integers(-50, 50).map(sympy.Integer),
    st.fractions(max_denominator=20).map(
        lambda f: sympy.Rational(f.numerator, f.denominator)
    ),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: sympy.Float(v, 15)),
)
unary = st.sampled_from(
    [sympy.sin, sympy.cos, sympy.exp, sympy.Abs, sympy.tanh, sympy.sqrt]
)
expressions = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda t: t[0] + t[1]),
        st.tuples(children, children).map(lambda t: t[0] * t[1]),
        st.tuples(unary, children).map(lambda t: t[0](t[1])),
        st.tuples(children, st.integers(-3, 3)).map(lambda t: t[0] ** t[1]),
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(expressions)
def test_tree_round_trip_is_the_identity(expression):
    tree = json.loads(json.dumps(expression_to_tree(expression)))
    assert tree_to_expression(tree, SYMBOLS) == expression


@pytest.mark.parametrize("value", [0.0, -0.0])
def test_float_zero_stays_a_float(value):
    """Found by the round-trip property: SymPy decodes a zero mantissa as 0."""
    decoded = tree_to_expression(expression_to_tree(sympy.Float(value)), SYMBOLS)
    assert isinstance(decoded, sympy.Float) and decoded == sympy.Float(value)


def test_unevaluated_forms_round_trip_as_stored():
    """Found through a fitted model: re-evaluating would distribute the 1/5."""
    expression = sympy.factor_terms(
        2 * a / 5 - 7 * b * sympy.exp(-1) / 5 + sympy.Rational(8, 5)
    )
    assert str(expression) == "(2*a - 7*b*exp(-1) + 8)/5"
    decoded = tree_to_expression(expression_to_tree(expression), SYMBOLS)
    assert sympy.srepr(decoded) == sympy.srepr(expression)
    assert str(decoded) == str(expression)


def test_piecewise_round_trip():
    expression = sympy.Piecewise((sympy.sqrt(a), a >= 0), (0, True))
    assert tree_to_expression(expression_to_tree(expression), SYMBOLS) == expression


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"function": "__import__", "args": [{"symbol": "a"}]}, "not allowed"),
        ({"function": "Function", "args": []}, "not allowed"),
        ({"symbol": "os"}, "unknown symbol 'os'"),
        ({"integer": "__import__('os')"}, "not an integer"),
        ({"constant": "exit"}, "unknown constant"),
        ({"float": ["0", "1e3; import os", "0", "1"]}, "not an integer"),
        (["not", "a", "node"], "malformed expression node"),
    ],
)
def test_untrusted_trees_are_refused(tree, message):
    with pytest.raises(ModelFileError, match=message):
        tree_to_expression(tree, SYMBOLS)


def test_unstorable_expression_is_refused():
    with pytest.raises(ModelFileError, match="cannot store 'gamma'"):
        expression_to_tree(sympy.gamma(a))


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(200, 2))
    return NALURegressor(random_state=0).fit(X, X[:, 0] / X[:, 1]), X


def test_model_file_round_trip_predicts_the_same(fitted, tmp_path):
    model, X = fitted
    path = tmp_path / "model.json"
    model.save(path)
    loaded = NALURegressor.load(path)
    assert loaded.expression_ == model.expression_
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(loaded.equations_, model.equations_)
    assert loaded.best_index_ == model.best_index_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    document = json.loads(path.read_text())
    assert document["format"] == "nalu_sr-model"
    assert document["nalu_sr_version"]
    entry = document["equations"][model.best_index_]
    assert entry["chosen"] is True
    assert entry["validation_loss"] == model.loss_
    assert set(entry) == {
        "complexity", "train_loss", "validation_loss", "architecture",
        "width", "seed", "expression", "chosen", "exact", "extrapolation_loss",
    }  # fmt: skip
    assert entry["exact"] is model.exact_ is True
    assert 0 <= entry["extrapolation_loss"] <= model.precision_floor_
    assert document["precision_floor"] == model.precision_floor_


def test_model_file_round_trip_without_pandas(fitted, tmp_path, monkeypatch):
    """A file saved from a DataFrame loads as a list of dicts, and back."""
    model, X = fitted
    monkeypatch.setitem(sys.modules, "pandas", None)
    model.save(tmp_path / "frame.json")
    loaded = NALURegressor.load(tmp_path / "frame.json")
    assert isinstance(loaded.equations_, list)
    assert loaded.equations_ == model.equations_.to_dict("records")
    loaded.save(tmp_path / "list.json")
    assert (tmp_path / "list.json").read_text() == (tmp_path / "frame.json").read_text()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"best_index": 99}, "best_index 99 names no candidate"),
        ({"equations": [{"complexity": 3}]}, "malformed candidate"),
    ],
)
def test_inconsistent_model_file_is_refused(fitted, tmp_path, change, message):
    model, _ = fitted
    path = tmp_path / "model.json"
    model.save(path)
    document = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=message):
        NALURegressor.load(path)


def test_tampered_model_file_is_refused(fitted, tmp_path):
    model, _ = fitted
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    document["expression"] = {"function": "eval", "args": [{"integer": "1"}]}
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="'eval' is not allowed"):
        NALURegressor.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a JSON file"),
        ('{"format": "other"}', "is not a nalu_sr model file"),
        ('{"format": "nalu_sr-model", "format_version": 99}', "format version 99"),
        (
            '{"format": "nalu_sr-model", "format_version": 1, "symbols": ["a b"]}',
            "must be a list of identifiers",
        ),
    ],
)
def test_bad_model_files_are_refused(tmp_path, content, message):
    path = tmp_path / "model.json"
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        NALURegressor.load(path)
