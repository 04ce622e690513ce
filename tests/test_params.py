"""Every parameter of NALURegressor is checked at the top of fit, before any work."""

import re
import time

import numpy as np
import pytest
import torch

import nalu_sr.estimator as estimator_module
from nalu_sr import NALURegressor, UnknownPrimitiveError
from nalu_sr._params import PARAMETER_CONSTRAINTS
from nalu_sr.search import resolve_search_config

CALLER = "The {!r} parameter of NALURegressor"
INT_AT_LEAST_1 = "must be an int in the range [1, inf)"
POSITIVE = "must be a float in the range (0.0, inf)"
NON_NEGATIVE = "must be a float in the range [0.0, inf)"
N_JOBS = "must be None, an int in the range [1, inf) or an int in the range (-inf, -1]"

# (parameter, wrong value, what the message says is accepted)
WRONG_VALUES = [
    ("primitives", 3, "must be None, an instance of "
     "'nalu_sr.primitives._primitive.Primitive' or an instance of "
     "'collections.abc.Iterable'. Got 3 instead."),
    ("primitives", ("sinn",), "is invalid: unknown primitive 'sinn'. Did you mean "
     "'sin'?"),
    ("primitives", ("sin", 2.5), "must hold names or Primitive objects. Got "
     "('sin', 2.5) instead."),
    ("architectures", 3, "must be an instance of 'collections.abc.Iterable'. Got 3 "
     "instead."),
    ("architectures", "powr", "has unknown architecture(s) ['powr']; choose among "
     "['attention', 'functions', 'nalu', 'power', 'sum-power', 'sum-product']."),
    ("architectures", (), "has unknown architecture(s) (); choose among"),
    ("hidden_widths", 0, "must be None, an int in the range [1, inf) or an instance "
     "of 'collections.abc.Iterable'. Got 0 instead."),
    ("hidden_widths", (2, -1), "must hold ints >= 1. Got (2, -1) instead."),
    ("hidden_widths", (2, 1.5), "must hold ints >= 1. Got (2, 1.5) instead."),
    ("hidden_widths", (True,), "must hold ints >= 1. Got (True,) instead."),
    ("n_restarts", 0, f"{INT_AT_LEAST_1}. Got 0 instead."),
    ("n_restarts", 1.5, f"{INT_AT_LEAST_1}. Got 1.5 instead."),
    ("restart_batch", 0, f"{INT_AT_LEAST_1}. Got 0 instead."),
    ("max_iter", "800", f"{INT_AT_LEAST_1}. Got '800' instead."),
    ("max_iter", True, f"{INT_AT_LEAST_1}. Got True instead."),
    ("learning_rate_init", 0, f"{POSITIVE}. Got 0 instead."),
    ("learning_rate_init", float("inf"), f"{POSITIVE}. Got inf instead."),
    ("learning_rate_init", "fast", f"{POSITIVE}. Got 'fast' instead."),
    ("batch_size", 0, "must be None or an int in the range [1, inf). Got 0 instead."),
    ("max_samples", 2.5, "must be None or an int in the range [1, inf). Got 2.5 "
     "instead."),
    ("penalty_weight", -0.1, f"{NON_NEGATIVE}. Got -0.1 instead."),
    ("penalty_weight", float("nan"), f"{NON_NEGATIVE}. Got nan instead."),
    ("early_stopping", "yes", "must be an instance of 'bool' or an instance of "
     "'numpy.bool'. Got 'yes' instead."),
    ("early_stopping", 1, "must be an instance of 'bool' or an instance of "
     "'numpy.bool'. Got 1 instead."),
    ("warm_start", 1, "must be an instance of 'bool' or an instance of "
     "'numpy.bool'. Got 1 instead."),
    ("dimensional_analysis", "yes", "must be an instance of 'bool' or an "
     "instance of 'numpy.bool'. Got 'yes' instead."),
    ("validation_fraction", 0, "must be a float in the range (0.0, 1.0). Got 0 "
     "instead."),
    ("validation_fraction", False, "must be a float in the range (0.0, 1.0). Got "
     "False instead."),
    ("tol", -1e-10, "must be None or a float in the range [0.0, inf). Got -1e-10 "
     "instead."),
    ("selection_factor", "x", "must be a float in the range [1.0, inf). Got 'x' "
     "instead."),
    ("selection_factor", 0.1, "must be a float in the range [1.0, inf). Got 0.1 "
     "instead."),
    ("max_time", -5, "must be None or a float in the range (0.0, inf). Got -5 "
     "instead."),
    ("random_state", "seed", "must be an int in the range [0, 4294967295], an "
     "instance of 'numpy.random.mtrand.RandomState' or None. Got 'seed' instead."),
    ("verbose", "loud", "must be an int in the range [0, inf), an instance of 'bool' "
     "or an instance of 'numpy.bool'. Got 'loud' instead."),
    ("verbose", -1, "must be an int in the range [0, inf), an instance of 'bool' or "
     "an instance of 'numpy.bool'. Got -1 instead."),
    ("device", 0.5, "must be an instance of 'str' or an instance of 'torch.device'. "
     "Got 0.5 instead."),
    ("device", "not-a-device", "must be a torch device. Got 'not-a-device' "
     "instead."),
    ("n_jobs", 0, f"{N_JOBS}. Got 0 instead."),
    ("n_jobs", 1.5, f"{N_JOBS}. Got 1.5 instead."),
    ("n_jobs", True, f"{N_JOBS}. Got True instead."),
]  # fmt: skip


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if fit reads the data or starts the search."""

    def forbidden(*args, **kwargs):
        raise AssertionError("fit went past the parameter checks")

    monkeypatch.setattr(estimator_module, "validate_rows", forbidden)
    monkeypatch.setattr(estimator_module, "fit_column", forbidden)


def _data():
    X = np.random.default_rng(0).uniform(1, 5, size=(50, 2))
    return X, X[:, 0] * X[:, 1]


def test_every_parameter_has_a_constraint_and_a_wrong_value_here():
    params = set(NALURegressor().get_params())
    assert set(PARAMETER_CONSTRAINTS) == params
    assert NALURegressor._parameter_constraints is PARAMETER_CONSTRAINTS
    assert {name for name, _, _ in WRONG_VALUES} == params


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    WRONG_VALUES,
    ids=[f"{name}={value!r}" for name, value, _ in WRONG_VALUES],
)
def test_a_wrong_value_is_refused_at_once_naming_the_parameter(
    no_work, name, value, accepted
):
    X, y = _data()
    started = time.perf_counter()
    with pytest.raises(ValueError) as raised:
        NALURegressor(**{name: value}).fit(X, y)
    assert time.perf_counter() - started < 1.0
    assert str(raised.value).startswith(f"{CALLER.format(name)} {accepted}")


def test_unknown_primitive_keeps_its_error_class_and_suggestion(no_work):
    X, y = _data()
    with pytest.raises(UnknownPrimitiveError, match=re.escape("Did you mean 'sin'?")):
        NALURegressor(primitives=("sinn",)).fit(X, y)


def test_parameters_are_checked_before_the_data():
    with pytest.raises(ValueError, match=re.escape(CALLER.format("max_iter"))):
        NALURegressor(max_iter=0).fit(None, None)


def test_cuda_is_refused_where_it_is_not_available(no_work, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = _data()
    expected = (
        CALLER.format("device") + " asks for 'cuda:0', but CUDA is not available here."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        NALURegressor(device="cuda:0").fit(X, y)


def test_valid_values_at_the_edges_resolve_into_the_search_settings():
    model = NALURegressor(
        architectures="power",
        hidden_widths=3,
        primitives=("sin",),
        max_time=0.5,
        batch_size=16,
        max_samples=None,
        penalty_weight=0,
        tol=0,
        selection_factor=1,
        verbose=True,
        random_state=np.random.RandomState(0),
        device=torch.device("cpu"),
    )
    config = model._check_params()
    assert config.architectures == ("power",)
    assert config.widths == (3,)
    assert config.primitives.names == ("sin",)
    assert config.max_time == 0.5
    assert config.train.batch_size == 16
    assert config.max_samples is None
    assert config.train.penalty_weight == 0.0
    assert config.tol == 0.0
    assert config.device == torch.device("cpu")


def test_an_empty_width_sequence_means_the_default_widths():
    config = resolve_search_config(NALURegressor(hidden_widths=()).get_params())
    assert config.widths is None
