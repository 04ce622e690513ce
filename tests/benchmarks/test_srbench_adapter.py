"""The SRBench method adapter in benchmarks/srbench."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import sympy
from sklearn.base import clone

from benchmarks.srbench import regressor

FOLDER = Path(regressor.__file__).parent


def _fit(X, y):
    return clone(regressor.est).set_params(max_time=5, random_state=0).fit(X, y)


def test_model_string_uses_the_data_names_even_when_they_clash_with_sympy():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(1, 5, size=(200, 2)), columns=["gamma", "I"])
    est = _fit(X, X["gamma"] * X["I"])
    text = regressor.model(est, X)
    names = {"gamma": sympy.Symbol("gamma"), "I": sympy.Symbol("I")}
    assert sympy.parse_expr(text, local_dict=names) == names["gamma"] * names["I"]
    assert regressor.model(est) == text  # names remembered from fit
    assert regressor.complexity(est) == 3


def test_model_string_on_numpy_input_uses_x0_x1():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, size=(200, 2))
    est = _fit(X, X[:, 0] + X[:, 1])
    assert regressor.model(est) == "x0 + x1"


def test_srbench_layout():
    assert regressor.hyper_params == []
    assert regressor.eval_kwargs["scale_x"] is False
    assert regressor.eval_kwargs["scale_y"] is False
    assert "max_time" in regressor.est.get_params()
    metadata = (FOLDER / "metadata.yml").read_text()
    for field in ("authors:", "email:", "name: nalu_sr", "description:", "url:"):
        assert field in metadata
    install = FOLDER / "install.sh"
    assert os.access(install, os.X_OK)
    assert "pip install" in install.read_text()
