"""NALURegressor: recovery, fitted attributes, errors and scikit-learn integration."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import sympy
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from nalu_sr import NALURegressor, PoorFitWarning
from nalu_sr.export.text import sympy_to_string

FAST_PARAMS = {
    "max_iter": 30,
    "n_restarts": 1,
    "architectures": ("power",),
    "hidden_widths": (1,),
}

x0, x1, x2 = sympy.symbols("x0:3", real=True)


def _data(formula, n_features=2, seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(n, n_features))
    return X, formula(X)


# scikit-learn's checks fit a few rows of random data: the warnings about a
# poor fit and about too few rows to confirm a formula are expected there.
@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
@pytest.mark.filterwarnings("ignore::nalu_sr.InsufficientDataWarning")
@parametrize_with_checks([NALURegressor(**FAST_PARAMS)])
def test_scikit_learn_compatibility(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    ("formula", "truth"),
    [
        (lambda X: X[:, 0] + X[:, 1], x0 + x1),
        (lambda X: X[:, 0] * X[:, 1], x0 * x1),
        (lambda X: X[:, 0] / X[:, 1], x0 / x1),
    ],
    ids=["sum", "product", "quotient"],
)
def test_recovers_exact_formula(formula, truth):
    X, y = _data(formula)
    model = NALURegressor(random_state=0).fit(X, y)
    assert sympy.simplify(model.expression_ - truth) == 0
    assert model.exact_
    X_far = np.random.default_rng(1).uniform(5, 25, size=(100, 2))
    np.testing.assert_allclose(model.predict(X_far), formula(X_far), rtol=1e-9)


def test_recovers_constant_multiple_of_pi():
    X, y = _data(lambda X: X[:, 0] * X[:, 1] / (4 * np.pi), n=200)
    model = NALURegressor(random_state=0).fit(X, y)
    assert sympy.simplify(model.expression_ - x0 * x1 / (4 * sympy.pi)) == 0


def test_same_random_state_same_expression():
    X, y = _data(lambda X: X[:, 0] * X[:, 1] + X[:, 0], seed=3)
    params = {"random_state": 7, "max_iter": 200, "architectures": ("power",)}
    first = NALURegressor(**params).fit(X, y)
    second = NALURegressor(**params).fit(X, y)
    assert first.expression_ == second.expression_
    assert list(first.equations_["sympy_format"]) == list(
        second.equations_["sympy_format"]
    )


def test_fitted_attributes():
    # A ratio: no polynomial candidate is exact, so a body is trained.
    X, y = _data(lambda X: X[:, 0] / X[:, 1])
    model = NALURegressor(random_state=0).fit(X, y)
    assert model.n_features_in_ == 2
    assert [str(s) for s in model.feature_symbols_] == ["x0", "x1"]
    assert all(s.is_real for s in model.feature_symbols_)
    table = model.equations_
    assert list(table.index) == list(range(len(table)))
    assert list(table.index[table["chosen"]]) == [model.best_index_]
    assert table.loc[model.best_index_, "sympy_format"] == model.expression_
    assert table["complexity"].is_monotonic_increasing
    assert model.sympy() == model.expression_
    assert model.sympy(0) == table.loc[0, "sympy_format"]
    assert model.sympy(-1) == table.loc[len(table) - 1, "sympy_format"]
    assert model.latex() == "\\frac{x_{0}}{x_{1}}"
    function = pickle.loads(pickle.dumps(model.to_callable()))
    np.testing.assert_allclose(function(X), X[:, 0] / X[:, 1], rtol=1e-12)
    linear = model.to_callable(0)
    assert linear(X).shape == (len(X),)
    module = model.to_torch()
    np.testing.assert_allclose(module(torch.as_tensor(X)).numpy(), X[:, 0] / X[:, 1])
    assert module.sympy() == model.expression_
    assert model.exact_ and model.loss_ <= model.precision_floor_
    assert model.module_ is not None and model.n_iter_ >= 1


def test_equations_frame_columns_and_types():
    X, y = _data(lambda X: X[:, 0] / X[:, 1] + X[:, 0], seed=3)
    model = NALURegressor(random_state=0).fit(X, y)
    table = model.equations_
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "complexity", "loss", "score", "equation", "sympy_format", "exact",
        "extrapolation_loss", "train_loss", "architecture", "width", "seed",
        "chosen",
    ]  # fmt: skip
    linear = table["architecture"] == "linear"
    assert linear.sum() == 1
    assert list(table.loc[linear, "seed"]) == [None]
    assert list(table.loc[linear, "width"]) == [0]
    assert all(isinstance(s, int) for s in table.loc[~linear, "seed"])
    for _, row in table.iterrows():  # laws in full, approximations to 6 digits
        digits = None if row["exact"] else 6
        assert row["equation"] == sympy_to_string(row["sympy_format"], digits)
    # Exact rows are at the precision floor and were checked by extrapolation;
    # rows above the floor were not checked.
    at_floor = table["loss"] <= model.precision_floor_
    assert not (table["exact"] & ~at_floor).any()
    assert table.loc[~at_floor, "extrapolation_loss"].isna().all()
    assert (table.loc[at_floor, "extrapolation_loss"] >= 0).all()
    assert table.loc[model.best_index_, "exact"]
    assert table["chosen"].sum() == 1
    assert table.loc[model.best_index_, "loss"] == model.loss_


def test_scores_compare_with_the_best_simpler_candidate():
    from nalu_sr._equations import LOSS_FLOOR, pareto_scores

    # Hand-computed: (ln 0.1 - ln 1e-3) / (3 - 1) = ln(100) / 2, and so on.
    scores = pareto_scores([1, 3, 3, 5, 5], [0.1, 1e-3, 1e-2, 1e-3, 0.0])
    assert scores[0] == 0.0
    assert scores[1] == pytest.approx(np.log(100) / 2)
    assert scores[2] == pytest.approx(np.log(10) / 2)
    assert scores[3] == 0.0
    assert scores[4] == pytest.approx((np.log(1e-3) - np.log(LOSS_FLOOR)) / 2)
    assert pareto_scores([2, 4], [0.5, 1.0]) == [0.0, pytest.approx(-np.log(2) / 2)]


def test_equations_is_a_list_of_dicts_without_pandas(monkeypatch):
    import sys

    X, y = _data(lambda X: X[:, 0] * X[:, 1])
    with_pandas = NALURegressor(random_state=0).fit(X, y)
    monkeypatch.setitem(sys.modules, "pandas", None)
    model = NALURegressor(random_state=0).fit(X, y)
    assert isinstance(model.equations_, list)
    assert model.equations_ == with_pandas.equations_.to_dict("records")
    chosen = [row for row in model.equations_ if row["chosen"]]
    assert chosen == [model.equations_[model.best_index_]]
    assert model.sympy(0) == model.equations_[0]["sympy_format"]
    assert model.sympy(-1) == model.equations_[-1]["sympy_format"]
    assert model.latex(model.best_index_) == "x_{0} x_{1}"


@pytest.mark.parametrize(
    ("index", "error", "message"),
    [
        (99, IndexError, "candidate index 99 is out of range: equations_ has"),
        (-99, IndexError, "candidate index -99 is out of range"),
        (1.0, TypeError, "a candidate index must be an int, got 1.0"),
        (True, TypeError, "a candidate index must be an int, got True"),
    ],
)
def test_bad_candidate_index_is_named(index, error, message):
    X, y = _data(lambda X: X[:, 0] * X[:, 1])
    model = NALURegressor(**FAST_PARAMS, random_state=0).fit(X, y)
    with pytest.raises(error, match=message):
        model.sympy(index)


def test_latex_rounds_floats():
    X = np.random.default_rng(0).uniform(1, 5, size=(100, 1))
    y = 1.23456789 * X[:, 0] + 0.1
    model = NALURegressor(**FAST_PARAMS, random_state=0).fit(X, y)
    assert str(model.expression_) == "1.23456789*x0 + 0.1"
    assert model.latex() == "1.23 x_{0} + 0.1"
    assert model.latex(precision=5) == "1.2346 x_{0} + 0.1"
    assert model.latex(precision=None) == "1.23456789 x_{0} + 0.1"
    assert model.to_string() == model.equations_.loc[0, "equation"]
    assert model.to_string(precision=4) == "1.235*x0 + 0.1"
    assert model.to_string(0, precision=2) == "1.2*x0 + 0.1"


def test_dataframe_column_names_become_safe_symbols():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.uniform(1, 5, size=(200, 3)), columns=["I", "lambda", "m (kg)"]
    )
    y = frame["I"].to_numpy() * frame["m (kg)"].to_numpy()
    model = NALURegressor(random_state=0).fit(frame, y)
    names = [str(s) for s in model.feature_symbols_]
    assert names == ["I_", "lambda_", "m_kg"]
    current, _, mass = model.feature_symbols_
    assert sympy.simplify(model.expression_ - current * mass) == 0
    assert not model.expression_.has(sympy.I)
    np.testing.assert_allclose(model.predict(frame), y, rtol=1e-9)


def test_poor_fit_is_reported():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(200, 1))
    y = np.sin(3 * X[:, 0])
    with pytest.warns(PoorFitWarning, match="no formula fits the data well"):
        model = NALURegressor(**FAST_PARAMS, random_state=0).fit(X, y)
    assert not model.exact_
    assert model.loss_ > 1e-2


def test_pickle_round_trip_predicts_the_same():
    X, y = _data(lambda X: X[:, 0] / X[:, 1])
    model = NALURegressor(random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.expression_ == model.expression_
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"max_iter": 0},
            "The 'max_iter' parameter of NALURegressor must be an int in the range "
            "[1, inf). Got 0 instead.",
        ),
        (
            {"n_restarts": 1.5},
            "The 'n_restarts' parameter of NALURegressor must be an int in the range "
            "[1, inf). Got 1.5 instead.",
        ),
        (
            {"learning_rate_init": -1.0},
            "The 'learning_rate_init' parameter of NALURegressor must be a float in "
            "the range (0.0, inf). Got -1.0 instead.",
        ),
        (
            {"architectures": ("powr",)},
            "The 'architectures' parameter of NALURegressor has unknown "
            "architecture(s) ['powr']; choose among ['attention', 'functions', "
            "'nalu', 'power', 'sum-power', 'sum-product'].",
        ),
        (
            {"hidden_widths": (0,)},
            "The 'hidden_widths' parameter of NALURegressor must hold ints >= 1. "
            "Got (0,) instead.",
        ),
        (
            {"validation_fraction": 1.0},
            "The 'validation_fraction' parameter of NALURegressor must be a float in "
            "the range (0.0, 1.0). Got 1.0 instead.",
        ),
        (
            {"primitives": ("sinn",)},
            "The 'primitives' parameter of NALURegressor is invalid: unknown "
            "primitive 'sinn'. Did you mean 'sin'?",
        ),
        (
            {"device": "not-a-device"},
            "The 'device' parameter of NALURegressor must be a torch device. "
            "Got 'not-a-device' instead.",
        ),
        (
            {"max_time": 0},
            "The 'max_time' parameter of NALURegressor must be None or a float in "
            "the range (0.0, inf). Got 0 instead.",
        ),
    ],
)
def test_bad_parameters_raise_clear_errors(params, message):
    X, y = _data(lambda X: X[:, 0])
    with pytest.raises(ValueError, match=re.escape(message)):
        NALURegressor(**params).fit(X, y)


def test_nan_input_is_rejected_with_a_clear_message():
    X, y = _data(lambda X: X[:, 0])
    X[0, 0] = np.nan
    message = (
        "Input X contains NaN. nalu_sr needs finite values: drop or impute those "
        "rows first (for example with sklearn.impute.SimpleImputer in a pipeline)."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        NALURegressor().fit(X, y)
    model = NALURegressor(max_time=1).fit(*_data(lambda X: X[:, 0]))
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        model.predict(X)


def test_clone_pipeline_with_column_transformer():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(1, 5, size=(150, 3)), columns=["a", "b", "noise"])
    y = frame["a"].to_numpy() * frame["b"].to_numpy()
    pipeline = Pipeline(
        [
            ("select", ColumnTransformer([("keep", "passthrough", ["a", "b"])])),
            ("model", NALURegressor(random_state=0)),
        ]
    )
    pipeline.fit(frame, y)
    a, b = pipeline[-1].feature_symbols_
    assert sympy.simplify(pipeline[-1].expression_ - a * b) == 0
    assert pipeline.score(frame, y) == pytest.approx(1.0)
    fresh = clone(pipeline[-1])
    assert not hasattr(fresh, "expression_")
    assert fresh.get_params() == pipeline[-1].get_params()


def test_grid_search_and_cross_validation():
    X, y = _data(lambda X: X[:, 0] - X[:, 1], n=120)
    search = GridSearchCV(
        NALURegressor(**FAST_PARAMS, random_state=0),
        {"hidden_widths": [(1,), (2,)]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_score_ == pytest.approx(1.0)
    scores = cross_val_score(NALURegressor(**FAST_PARAMS, random_state=0), X, y, cv=3)
    assert scores.min() == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
def test_verbose_2_prints_one_line_per_run(capsys):
    X, y = _data(lambda X: X[:, 0] * X[:, 1] + X[:, 0])
    model = NALURegressor(**FAST_PARAMS, random_state=0, verbose=2).fit(X, y)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == model.n_iter_
    assert all(line.startswith("power width=1 seed=") for line in lines)
    assert all("validation loss" in line for line in lines)
    assert captured.err == ""  # pytest's stderr is not a terminal: no progress line


def test_max_time_stops_the_search():
    X, y = _data(lambda X: np.sin(X[:, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        model = NALURegressor(max_time=1e-9, random_state=0).fit(X, y)
    assert model.n_iter_ == 1


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
@pytest.mark.filterwarnings("ignore::nalu_sr.InsufficientDataWarning")
# The array-API check skips itself without SCIPY_ARRAY_API, with a warning.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_check_estimator_with_default_parameters():
    """All common checks with the defaults (about 5-15 minutes on 2 cores)."""
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(NALURegressor())


def test_diverged_runs_are_replaced_with_new_seeds(monkeypatch):
    import nalu_sr.search as search
    from nalu_sr.training.loop import TrainResult

    real_train = search.train_body
    seeds = []

    def diverge_first(body, X, y, config, generator, deadline=None, **kwargs):
        seeds.append(generator.initial_seed())
        if len(seeds) == 1:
            return TrainResult(float("inf"), [], diverged=True)
        return real_train(body, X, y, config, generator, deadline, **kwargs)

    monkeypatch.setattr(search, "train_body", diverge_first)
    X, y = _data(lambda X: X[:, 0] / X[:, 1])
    model = NALURegressor(random_state=0, n_restarts=1).fit(X, y)
    assert len(seeds) >= 2 and seeds[0] != seeds[1]
    assert model.n_iter_ == len(seeds)
    assert sympy.simplify(model.expression_ - x0 / x1) == 0


def _safe_sinh(x):
    import torch

    return torch.sinh(x.clamp(-20, 20))


def test_attention_architecture_with_a_custom_primitive():
    import torch

    from nalu_sr import make_primitive

    sinh = make_primitive(
        name="sinh",
        arity=1,
        torch_fn=torch.sinh,
        sympy_fn=sympy.sinh,
        safe_torch_fn=_safe_sinh,
    )
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(300, 2))
    y = 3 * np.sinh(X[:, 0] - X[:, 1]) + 1
    model = NALURegressor(
        architectures=("attention",),
        primitives=("identity", "sin", sinh),
        random_state=0,
    ).fit(X, y)
    assert sympy.simplify(model.expression_ - (3 * sympy.sinh(x0 - x1) + 1)) == 0
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict(X), y, rtol=1e-9)


def test_sum_product_architecture_recovers_product_of_sums():
    X, y = _data(lambda X: (X[:, 0] + X[:, 1]) * X[:, 2], n_features=3)
    model = NALURegressor(architectures=("sum-product",), random_state=0).fit(X, y)
    assert sympy.simplify(model.expression_ - (x0 + x1) * x2) == 0


@pytest.mark.filterwarnings("ignore::nalu_sr.PoorFitWarning")
def test_papers_stacked_nalu_is_a_searchable_architecture():
    """The NALU stack has no progressive snapping; it must still train and snap."""
    X, y = _data(lambda X: X[:, 0] / X[:, 1])
    model = NALURegressor(
        architectures=("nalu",), n_restarts=1, max_iter=300, random_state=0
    ).fit(X, y)
    assert model.n_iter_ == 1
    assert set(model.equations_["architecture"]) <= {"linear", "nalu"}
    assert np.all(np.isfinite(model.predict(X)))


def test_ctrl_c_keeps_the_best_formula_so_far(monkeypatch):
    import nalu_sr.search as search

    real_train = search.train_body
    calls = []

    def interrupt_second(body, X, y, config, generator, deadline=None, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(body, X, y, config, generator, deadline, **kwargs)

    monkeypatch.setattr(search, "train_body", interrupt_second)
    X, y = _data(lambda X: X[:, 0] * X[:, 1] + X[:, 0] * 0.5)
    with pytest.warns(UserWarning, match="search interrupted"):
        model = NALURegressor(random_state=0, early_stopping=False).fit(X, y)
    assert model.n_iter_ == 1
    assert np.all(np.isfinite(model.predict(X)))


def test_bodies_train_on_at_most_max_samples_rows(monkeypatch):
    import nalu_sr.search as search

    real_train = search.train_body
    rows_seen = []

    def record_rows(body, X, y, config, generator, deadline=None, **kwargs):
        rows_seen.append(len(X))
        return real_train(body, X, y, config, generator, deadline, **kwargs)

    monkeypatch.setattr(search, "train_body", record_rows)
    X, y = _data(lambda X: X[:, 0] / X[:, 1], n=1000)
    model = NALURegressor(**FAST_PARAMS, max_samples=300, random_state=0).fit(X, y)
    assert rows_seen and set(rows_seen) == {300}
    assert sympy.simplify(model.expression_ - x0 / x1) == 0

    rows_seen.clear()
    NALURegressor(**FAST_PARAMS, max_samples=None, random_state=0).fit(X, y)
    assert set(rows_seen) == {800}  # every training row (20% is validation)


def test_max_samples_is_validated():
    X, y = _data(lambda X: X[:, 0] * X[:, 1])
    with pytest.raises(ValueError, match="The 'max_samples' parameter"):
        NALURegressor(max_samples=0).fit(X, y)


def test_time_budget_cuts_a_run_short_and_still_extracts_it(monkeypatch):
    import nalu_sr.search as search

    real_train = search.train_body
    histories = []

    def spent_budget(body, X, y, config, generator, deadline=None, **kwargs):
        assert deadline is not None
        result = real_train(body, X, y, config, generator, deadline - 1e6)
        histories.append(len(result.history))
        return result

    monkeypatch.setattr(search, "train_body", spent_budget)
    X, y = _data(lambda X: X[:, 0] * X[:, 1] + X[:, 1], n=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        model = NALURegressor(max_time=30, early_stopping=False, random_state=0).fit(
            X, y
        )
    # Every run stopped at its first check and was still snapped and extracted.
    assert histories and set(histories) == {1}
    assert len(model.equations_) > 1  # the linear candidate and trained ones
    assert np.all(np.isfinite(model.predict(X)))
