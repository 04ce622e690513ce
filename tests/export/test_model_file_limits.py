"""Hostile and malformed model files are refused by limits checked on reading."""

import json
import os

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from nalu_sr import NALURegressor
from nalu_sr.export import _limits
from nalu_sr.export.serialize import (
    ModelFileError,
    expression_to_tree,
    tree_to_expression,
    write_model_file,
)

x0, x1 = sympy.symbols("x0 x1", real=True)
SYMBOLS = {"x0": x0, "x1": x1}


def _candidate(expression, chosen):
    return {
        "complexity": 3, "train_loss": 0.0, "validation_loss": 0.0,
        "architecture": "power", "width": 1, "seed": 0,
        "expression": expression, "chosen": chosen,
    }  # fmt: skip


def _document(expression=None):
    tree = expression_to_tree(x0 / x1) if expression is None else expression
    return {
        "format": "nalu_sr-model", "format_version": 1, "nalu_sr_version": "0",
        "symbols": ["x0", "x1"], "feature_names_in": None, "params": {"tol": 1e-10},
        "expression": tree, "loss": 0.0, "exact": True, "n_iter": 1,
        "best_index": 0, "equations": [_candidate(tree, True)],
    }  # fmt: skip


def _nested(depth):
    tree = {"symbol": "x0"}
    for _ in range(depth - 1):
        tree = {"function": "sin", "args": [tree]}
    return tree


def _power(base, exponent):
    return {"function": "Pow", "args": [{"integer": base}, {"integer": exponent}]}


def _float(exponent=0, precision=53):
    return {"float": [0, 1, exponent, 1], "precision": precision, "value": "1"}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (_float(precision=10**9), "float precision 1000000000 is outside 1..1024 bits"),
        (_float(precision=10**12), "float precision 1000000000000 is outside 1..1024"),
        (
            _float(exponent=10**100),
            "float exponent (101-digit number) is over the limit of ±1000000000",
        ),
        (
            _power("3", "1000000000"),
            "an integer part of the formula may reach 2**2000000000, over the "
            "limit of 2**1000",
        ),
        (_power("10", "10000000"), "may reach 2**40000000, over the limit"),
        (_power("2", "1" + "0" * 100), "may reach 2**(101-digit number), over"),
        (_nested(300), "formula nests deeper than the limit of 32 levels"),
        (
            {"args": [{"symbol": "x0"}]},
            "malformed expression node: no known key in ['args']",
        ),
        (
            {"integer": "7" * 100_000},
            "integer of 100000 digits is over the limit of 300 digits",
        ),
        (
            {"symbol": "x0", "extra": 1},
            "malformed symbol node: keys ['extra', 'symbol'], expected ['symbol']",
        ),
        ({"function": "sin"}, "malformed function node: keys ['function']"),
        ({"rational": ["1", "0"]}, "malformed rational: the denominator is 0"),
        ({"float": [0, 2, 0, 2]}, "the mantissa odd"),
        ({"float": [0, 1, 0, 7]}, "7 is not the mantissa's bit count"),
        ({"integer": True}, "not an integer: 'True'"),
        ({"integer": "--3"}, "not an integer: '--3'"),
    ],
)
def test_hostile_trees_are_refused(tree, message):
    with pytest.raises(ModelFileError) as error:
        tree_to_expression(tree, SYMBOLS)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("tree", "limit"),
    [
        (_nested(_limits.MAX_DEPTH), "depth"),
        ({"integer": "9" * _limits.MAX_INTEGER_DIGITS}, "digits"),
        (_float(precision=_limits.MAX_FLOAT_PRECISION), "precision"),
        (_float(exponent=-_limits.MAX_FLOAT_EXPONENT), "exponent"),
        (_power("2", "499"), "integer bits"),
        (
            {"function": "Add", "args": [{"symbol": "x0"}] * (_limits.MAX_NODES - 1)},
            "nodes",
        ),
    ],
)
def test_trees_at_each_limit_load(tree, limit):
    assert isinstance(tree_to_expression(tree, SYMBOLS), sympy.Basic), limit


def test_limits_are_far_above_a_fitted_formula():
    """The tightest limits leave an honest formula a wide margin."""
    assert _limits.MAX_DEPTH >= 32 and _limits.MAX_NODES >= 1_000
    assert _limits.MAX_JSON_DEPTH == 2 * _limits.MAX_DEPTH + 8


def test_power_of_a_variable_is_not_bounded():
    """Only exact integer parts are bounded: x0**1000 is evaluated in floats."""
    tree = {"function": "Pow", "args": [{"symbol": "x0"}, {"integer": "1000"}]}
    assert tree_to_expression(tree, SYMBOLS) == x0**1000


def _write(path, document):
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"surprise": 1}, "unknown key 'surprise' in model file"),
        ({"loss": "low"}, "the model file's 'loss' must be a number"),
        ({"best_index": -1}, "'best_index' must be an integer in 0..1000000000"),
        ({"exact": 1}, "the model file's 'exact' must be true or false"),
        ({"params": {"tol": "x"}}, "The 'tol' parameter of NALURegressor must be"),
        ({"params": {"max_time": "x"}}, "'max_time' parameter of NALURegressor"),
        ({"params": {"n_restarts": "x"}}, "parameter 'n_restarts' has the wrong kind"),
        ({"params": {"evil": 1}}, "unknown parameter 'evil' in model file"),
        ({"format_version": True}, "has model format version True"),
        ({"equations": [{**_candidate({"symbol": "x0"}, True), "x": 1}]}, "keys"),
        (
            {"equations": [_candidate(_nested(30), False)] * 200},
            "formulas have more than the limit of 5000 nodes in all",
        ),
    ],
)
def test_hostile_envelopes_are_refused(tmp_path, change, message):
    path = _write(tmp_path / "m.json", {**_document(), **change})
    with pytest.raises(ModelFileError) as error:
        NALURegressor.load(path)
    assert message in str(error.value)


def test_oversized_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (_limits.MAX_FILE_BYTES + 1))
    with pytest.raises(ModelFileError, match="over the model file limit of 1048576"):
        NALURegressor.load(path)


def test_deep_json_is_refused_before_parsing(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nests deeper than the limit of 72"):
        NALURegressor.load(path)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    document = {**_document(), "nalu_sr_version": "[" * 1000 + '\\"{'}
    assert NALURegressor.load(_write(tmp_path / "m.json", document)).exact_


def test_huge_json_integer_is_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"format": "nalu_sr-model", "n_iter": ' + "9" * 5000 + "}")
    with pytest.raises(ModelFileError, match="is not a JSON file"):
        NALURegressor.load(path)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    write_model_file(path, {"expression": {"integer": "1"}})
    before = path.read_bytes()

    def fail(descriptor):  # the text is written, not yet on disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space left"):
        write_model_file(path, {"expression": {"integer": "2"}})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    write_model_file(path, {"expression": {"integer": "1"}})
    before = path.read_bytes()

    def interrupt(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_model_file(path, {"expression": {"integer": "2"}})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_save_respects_the_umask(tmp_path):
    path = tmp_path / "model.json"
    write_model_file(path, {})
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    assert path.stat().st_mode == plain.stat().st_mode


# A few hundred random and mutated model files: every one loads or is refused
# with ModelFileError (no other exception), and the limits are what make each
# case cheap: the fuzz benchmark measures the times.
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.sampled_from([10**9, -1, 0, 1, 2, 3, 53, 1024, 1025]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["x0", "x1", "Pow", "Add", "sin", "pi", "zoo", "1", "-5"]),
)
_NODE_KEYS = "function args integer float symbol rational constant pair".split()
_NODE_KEYS += ["precision", "value"]
_json = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(_NODE_KEYS), children, max_size=3),
    ),
    max_leaves=12,
)
_keys = st.sampled_from([*sorted(_document()), "equations.0", "expression.args"])


def _mutate(document, key, value):
    if key == "equations.0":
        document["equations"][0]["expression"] = value
    elif key == "expression.args":
        document["expression"]["args"] = [value, value]
    else:
        document[key] = value
    return document


@settings(
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_keys, _json)
def test_fuzzed_model_files_load_or_raise_model_file_error(
    tmp_path_factory, key, value
):
    path = tmp_path_factory.mktemp("fuzz") / "m.json"
    path.write_text(json.dumps(_mutate(_document(), key, value)))
    try:
        NALURegressor.load(path)
    except ModelFileError as error:
        assert "\n" not in str(error)
