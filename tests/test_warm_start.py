"""warm_start: a second fit on the same data continues the first search."""

import pickle
import warnings

import numpy as np
import pytest

import nalu_sr.function_rounds as function_rounds
import nalu_sr.search as search
from nalu_sr import NALURegressor
from nalu_sr._warm_start import (
    data_fingerprint,
    resumable,
    search_params,
)

#: No function search and no body that grows from a smaller one: an
#: interrupted search and its continuation then run exactly the runs of one
#: uninterrupted search.
TRAINED = {
    "architectures": ("sum-power",),
    "hidden_widths": (1, 2),
    "n_restarts": 2,
    "max_iter": 30,
    "early_stopping": False,
    "random_state": 0,
}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(120, 2))
    return X, X[:, 0] * X[:, 1] + np.sin(X[:, 0])


def _interrupt_training_at(monkeypatch, call):
    real_train = search.train_body
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(search, "train_body", interrupted)
    return calls


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def test_a_warm_fit_finishes_an_interrupted_search_as_one_fit_would(monkeypatch):
    X, y = _data()
    whole = _fit(NALURegressor(**TRAINED), X, y)
    _interrupt_training_at(monkeypatch, 3)
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    assert model.n_iter_ == 2 < whole.n_iter_
    monkeypatch.undo()
    _fit(model, X, y)
    assert model.n_iter_ == whole.n_iter_
    assert model.equations_.drop(columns="sympy_format").equals(
        whole.equations_.drop(columns="sympy_format")
    )
    assert model.expression_ == whole.expression_


def test_a_finished_search_trains_nothing_more(monkeypatch):
    X, y = _data()
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    calls = _interrupt_training_at(monkeypatch, 10**6)
    before = model.equations_.copy()
    _fit(model, X, y)
    assert calls == [] and model.equations_.equals(before)


@pytest.mark.parametrize(
    ("change", "continues"),
    [
        ({"max_time": 60.0}, True),
        ({"random_state": 5}, True),
        ({"verbose": 0, "n_jobs": 1}, True),
        ({"max_iter": 31}, False),
        ({"hidden_widths": (1,)}, False),
    ],
)
def test_which_parameters_may_change_between_fits(monkeypatch, change, continues):
    X, y = _data()
    _interrupt_training_at(monkeypatch, 2)
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    monkeypatch.undo()
    calls = _interrupt_training_at(monkeypatch, 10**6)
    _fit(model.set_params(**change), X, y)
    fresh = len(model._warm_states[0].plan)
    assert len(calls) == (fresh - 1 if continues else fresh)


def test_other_data_start_over(monkeypatch):
    X, y = _data()
    _interrupt_training_at(monkeypatch, 2)
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    monkeypatch.undo()
    calls = _interrupt_training_at(monkeypatch, 10**6)
    _fit(model, X, y + 1.0)
    assert len(calls) == len(model._warm_states[0].plan)


def test_function_rounds_interrupted_run_again(monkeypatch):
    widths = []

    class Searched:
        finished = True

        def __init__(self, split, symbols, settings, features=()):
            self.width = settings.beam_width

        def run(self, deadline=None):
            widths.append(self.width)
            if len(widths) == 2:
                raise KeyboardInterrupt
            return []

    monkeypatch.setattr(function_rounds, "FunctionSearch", Searched)
    X, y = _data()
    params = {**TRAINED, "architectures": ("functions",), "max_time": 60.0}
    model = _fit(NALURegressor(warm_start=True, **params), X, y)
    assert widths == [3, 3]
    _fit(model, X, y)
    # the second level's rounds over the exponentials run; those over the
    # found functions have nothing to stack on (no formula was found)
    assert widths == [3, 3, 3, 6, 10, 6, 16]


def test_without_warm_start_no_state_is_kept():
    X, y = _data()
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    assert len(model._warm_states) == 1
    _fit(model.set_params(warm_start=False), X, y)
    assert not hasattr(model, "_warm_states")
    assert "_warm_states" not in pickle.loads(pickle.dumps(model)).__dict__


def test_each_target_column_continues_its_own_search(monkeypatch):
    X, y = _data()
    Y = np.column_stack([y, X[:, 0] - X[:, 1] ** 2])
    whole = _fit(NALURegressor(**TRAINED), X, Y)
    _interrupt_training_at(monkeypatch, 3)
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, Y)
    monkeypatch.undo()
    _fit(model, X, Y)
    assert model.n_iter_ == whole.n_iter_
    assert model.expression_ == whole.expression_


def test_fingerprints_tell_data_apart():
    X, y = _data()
    same = data_fingerprint(X.copy(), y.copy(), None)
    assert data_fingerprint(X, y, None) == same
    changed = y.copy()
    changed[7] = np.nextafter(changed[7], np.inf)
    assert data_fingerprint(X, changed, None) != same
    assert data_fingerprint(X, y, np.ones(len(y))) != same
    assert data_fingerprint(X.astype(np.float32), y, None) != same


def test_resumable_needs_the_same_data_and_search_parameters():
    X, y = _data()
    model = _fit(NALURegressor(warm_start=True, **TRAINED), X, y)
    states = model._warm_states
    params = search_params(model.get_params())
    fingerprint = data_fingerprint(X, y, None)
    assert resumable(states, 0, fingerprint, params) is states[0]
    assert resumable(None, 0, fingerprint, params) is None
    assert resumable(states, 1, fingerprint, params) is None
    assert resumable(states, 0, "other", params) is None
    assert resumable(states, 0, fingerprint, {**params, "tol": 1e-3}) is None
    assert "max_time" not in params and "random_state" not in params
