"""Smoke tests of the runnable scripts in examples/."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import sympy

EXAMPLES = Path(__file__).parents[1] / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nalu_vs_mlp_nalu_extrapolates_and_snaps_to_product(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("nalu_vs_mlp")
    results = example.main(n_restarts=3, max_iter=300)

    assert results["nalu_extrap_mse"] * 100 < results["mlp_extrap_mse"]
    assert results["nalu_extrap_rel"] < 0.05 < results["mlp_extrap_rel"]
    assert results["mlp_interp_rel"] < 0.05  # the MLP does fit the training range
    a, b = sympy.symbols("a b", positive=True)
    assert sympy.simplify(results["formula"] - a * b) == 0
    assert results["snapped_extrap_mse"] < 1e-9
    assert "NALU snapped formula: y = a*b" in capsys.readouterr().out
