"""Several targets: one formula per column of y, one budget, one model file."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sympy
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from nalu_sr import NALURegressor, PoorFitWarning
from nalu_sr._outputs import (
    MIN_OUTPUT_SECONDS,
    OutputBudget,
    output_indices,
    target_columns,
)
from nalu_sr.cli import main, target_names
from nalu_sr.exceptions import ModelFileError

x0, x1, x2 = sympy.symbols("x0:3", real=True)
LAWS = (x0 * x1, x0 + x2**2, x1 / x2)
FAST = {"architectures": ("power",), "n_restarts": 1, "max_iter": 60}


def _laws_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(n, 3))
    Y = np.column_stack([X[:, 0] * X[:, 1], X[:, 0] + X[:, 2] ** 2, X[:, 1] / X[:, 2]])
    return X, Y


@pytest.fixture(scope="module")
def three_laws():
    X, Y = _laws_data()
    return X, Y, NALURegressor(random_state=0, **FAST).fit(X, Y)


def test_a_three_column_target_gives_the_three_laws(three_laws):
    X, Y, model = three_laws
    assert model.n_outputs_ == 3 and len(model.estimators_) == 3
    for found, truth in zip(model.expression_, LAWS, strict=True):
        assert sympy.simplify(found - truth) == 0
    assert model.exact_ == [True, True, True]
    assert model.predict(X).shape == (200, 3)
    np.testing.assert_allclose(model.predict(X), Y, rtol=1e-12)
    assert model.score(X, Y) == pytest.approx(1.0)


def test_each_column_is_the_fit_of_that_column_alone(three_laws):
    X, Y, model = three_laws
    for k in range(3):
        alone = NALURegressor(random_state=0, **FAST).fit(X, Y[:, k])
        column = model.estimators_[k]
        assert column.expression_ == alone.expression_
        assert column.loss_ == alone.loss_
        assert model.equations_[k].equals(alone.equations_)


def test_exports_return_one_entry_per_column(three_laws):
    X, _, model = three_laws
    assert model.sympy() == model.expression_
    assert model.to_string() == ["x0*x1", "x0 + x2**2", "x1/x2"]
    assert model.latex() == ["x_{0} x_{1}", "x_{0} + x_{2}^{2}", "\\frac{x_{1}}{x_{2}}"]
    callables = model.to_callable()
    np.testing.assert_allclose(callables[2](X), X[:, 1] / X[:, 2])
    chosen = [int(i) for i in model.best_index_]
    assert model.sympy(chosen) == model.expression_


@pytest.mark.parametrize(
    ("index", "message"),
    [(0, "pass index=None or a list of 3"), ([0, 1], "got \\[0, 1\\]")],
)
def test_a_single_index_is_refused_for_several_targets(three_laws, index, message):
    with pytest.raises(ValueError, match=message):
        three_laws[2].sympy(index)


def test_plots_ask_for_one_column(three_laws):
    with pytest.raises(ValueError, match=r"call plot_pareto on one of them"):
        three_laws[2].plot_pareto()


def test_a_one_column_matrix_predicts_a_matrix():
    X, Y = _laws_data()
    model = NALURegressor(random_state=0, **FAST).fit(X, Y[:, :1])
    assert model.predict(X).shape == (200, 1)
    assert model.expression_ == [x0 * x1]
    vector = NALURegressor(random_state=0, **FAST).fit(X, Y[:, 0])
    assert vector.predict(X).shape == (200,) and not hasattr(vector, "estimators_")
    assert vector.n_outputs_ == 1


def test_refitting_on_one_target_drops_the_columns(three_laws):
    X, Y, model = three_laws
    model = clone(model).fit(X, Y)
    model.fit(X, Y[:, 0])
    assert not hasattr(model, "estimators_") and model.expression_ == x0 * x1


def test_model_files_store_every_column(three_laws, tmp_path):
    X, _, model = three_laws
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert len(document["outputs"]) == 3 and "expression" not in document
    loaded = NALURegressor.load(path)
    assert loaded.expression_ == model.expression_ and loaded.exact_ == model.exact_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": []}, "'outputs' must be a list of 1 to 64"),
        ({"outputs": [1]}, "each of the model file's 'outputs' must be a JSON object"),
        ({"outputs": [{"surprise": 1}]}, "unknown key 'surprise' in model file's"),
        ({"expression": {"symbol": "x0"}}, "holds its formulas only there"),
    ],
)
def test_hostile_outputs_are_refused(three_laws, tmp_path, change, message):
    path = tmp_path / "model.json"
    three_laws[2].save(path)
    document = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=message):
        NALURegressor.load(path)


def test_column_names_of_a_frame_name_every_formula():
    X, Y = _laws_data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = NALURegressor(random_state=0, **FAST).fit(frame, Y[:, :2])
    a, b, c = sympy.symbols("a b c", real=True)
    assert model.expression_ == [a * b, a + c**2]
    assert list(model.estimators_[1].feature_names_in_) == ["a", "b", "c"]


def test_several_targets_work_in_a_pipeline():
    X, Y = _laws_data()
    pipeline = make_pipeline(
        FunctionTransformer(), NALURegressor(random_state=0, **FAST)
    )
    assert pipeline.fit(X, Y).predict(X).shape == (200, 3)


def test_a_column_warning_names_the_column():
    X, Y = _laws_data()
    noise = np.random.default_rng(1).normal(size=len(X))
    Y = np.column_stack([Y[:, 0], noise])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NALURegressor(random_state=0, **FAST).fit(X, Y)
    poor = [w for w in caught if issubclass(w.category, PoorFitWarning)]
    assert len(poor) == 1
    assert str(poor[0].message).startswith("target column 1 of 2: ")
    assert poor[0].filename == __file__


def test_sample_weight_applies_to_every_column():
    X, Y = _laws_data()
    weights = np.ones(len(X))
    weights[:20] = 0.0
    Y = Y.copy()
    Y[:20] = 1e6  # wrong rows, left out by their weight of zero
    model = NALURegressor(random_state=0, **FAST).fit(X, Y, sample_weight=weights)
    assert model.expression_ == list(LAWS)


def test_the_budget_is_shared_and_passed_on(monkeypatch):
    clock = iter([0.0, 4.0, 9.0, 0.0])
    monkeypatch.setattr("nalu_sr._outputs.time.perf_counter", lambda: next(clock))
    budget = OutputBudget(12.0, 3)
    assert budget.next_output() == 4.0  # 12 s for 3 columns
    assert budget.next_output() == 4.0  # 8 s left for 2
    assert budget.next_output() == 3.0  # 3 s left for the last
    assert OutputBudget(None, 2).next_output() is None


def test_a_spent_budget_still_gives_each_column_a_moment(monkeypatch):
    clock = iter([0.0, 50.0])
    monkeypatch.setattr("nalu_sr._outputs.time.perf_counter", lambda: next(clock))
    budget = OutputBudget(10.0, 2)
    budget.next_output()
    assert budget.next_output() == MIN_OUTPUT_SECONDS


def test_target_columns_and_indices():
    y = np.arange(6.0).reshape(3, 2)
    columns = target_columns(y)
    assert [list(c) for c in columns] == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    assert all(c.flags.c_contiguous for c in columns)
    vector = y[:, 0]
    assert target_columns(vector)[0] is vector
    assert output_indices(None, 2) == [None, None]
    assert output_indices((3, np.int64(1)), 2) == [3, 1]


def test_cli_fits_several_targets(tmp_path, capsys):
    X, Y = _laws_data()
    lines = ["a,b,c,p,q"] + [
        f"{a},{b},{c},{p},{q}" for (a, b, c), (p, q) in zip(X, Y[:, :2], strict=True)
    ]
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n")
    model = tmp_path / "model.json"
    argv = ["fit", str(data), "--target", "p,q", "--output", str(model)]
    assert main([*argv, "--architectures", "power", "--restarts", "1"]) == 0
    out = capsys.readouterr().out
    assert "p:\nformula: a*b\n" in out and "q:\nformula: a + c**2\n" in out
    new = tmp_path / "new.csv"
    new.write_text("a,b,c\n2,3,4\n")
    assert main(["predict", str(model), str(new)]) == 0
    assert capsys.readouterr().out.split() == ["prediction_0,prediction_1", "6.0,18.0"]
    assert main(["show", str(model)]) == 0
    assert "latex: a b; a + c^{2}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argument", "message"),
    [("p,", "has an empty column name"), ("p,q,p", "names 'p' more than once")],
)
def test_bad_target_lists_are_named(argument, message):
    with pytest.raises(ValueError, match=message):
        target_names(argument)
    assert target_names(" p , q") == ["p", "q"]
