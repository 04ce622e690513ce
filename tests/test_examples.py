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


def test_custom_primitive_example_recovers_sinh(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = load_example("custom_primitive").main()
    x0, x1 = sympy.symbols("x0 x1", real=True)
    assert sympy.simplify(found - (3 * sympy.sinh(x0 - x1) + 1)) == 0
    assert (
        "refused: primitive 'bad' failed the 'agreement' check"
        in capsys.readouterr().out
    )


def test_export_to_torch_example_tunes_constants() -> None:
    results = load_example("export_to_torch").main()
    x0, x1 = sympy.symbols("x0 x1", real=True)
    tuned = results["tuned"]
    constants = sorted(float(c) for c in tuned.atoms(sympy.Float))
    assert constants == pytest.approx([0.2, 1.75], abs=1e-6)
    assert tuned.free_symbols == {x0, x1}


def test_pipeline_dataframe_example_recovers_kinetic_energy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = load_example("pipeline_dataframe").main(n_restarts=1, max_iter=100)

    mass, velocity = sympy.symbols("mass velocity", real=True)
    assert sympy.simplify(results["formula"] - mass * velocity**2 / 2) == 0
    assert results["symbols"] == ["mass", "velocity"]  # material, temperature dropped
    assert results["cv_scores"] == pytest.approx([1.0, 1.0, 1.0], abs=1e-9)
    assert results["best_params"] == {"nalu__architectures": ("power",)}
    assert results["max_relative_error"] < 1e-9  # at 10 times the training range
    assert "formula: kinetic_energy = mass*velocity**2/2" in capsys.readouterr().out


def test_noisy_feynman_example_recovers_structure_and_extrapolates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = load_example("noisy_feynman").main(mlp_max_iter=50)

    truth = results["truth"]
    m, omega, omega_0, x = sympy.symbols("m omega omega_0 x", real=True)
    assert sympy.simplify(truth - m * (omega**2 + omega_0**2) * x**2 / 4) == 0
    # Despite the noise the fitted constants are replaced by the exact 1/4.
    assert sympy.simplify(results["formula"] - truth) == 0
    assert not results["formula"].atoms(sympy.Float)
    assert results["nalu_extrap"] < 0.01 < results["mlp_extrap"]
    # A large selection_factor picks a simpler, less accurate candidate.
    complexity = sympy.count_ops
    assert complexity(results["simpler"]) < complexity(results["formula"])
    assert results["simpler_loss"] > 10 * results["loss"]
    output = capsys.readouterr().out
    assert "PoorFitWarning" in output
    assert "found:     E = m*x**2*(omega**2 + omega_0**2)/4" in output


def test_laws_with_functions_example_finds_its_three_laws(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = load_example("laws_with_functions").main(n_rows=300)
    x0, x1 = sympy.symbols("x0 x1", real=True)
    assert sympy.simplify(found["planck"] - 1 / (sympy.exp(x0 / x1) - 1)) == 0
    softplus = x1 * sympy.log(1 + sympy.exp(x0 - 2))
    assert sympy.simplify(found["softplus"] - softplus) == 0
    product = sympy.exp(-x0) * sympy.sin(3 * x0)
    assert sympy.simplify(found["product"] - product) == 0
    assert "exact: True" in capsys.readouterr().out


def test_weighted_measurements_example_finds_the_law_only_with_weights(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("weighted_measurements")
    results = example.main(max_time=2.0)
    L, g = sympy.symbols("L g", real=True)
    truth = 2 * sympy.pi * sympy.sqrt(L) / sympy.sqrt(g)
    assert sympy.simplify(results["weighted"] - truth) == 0
    assert sympy.simplify(results["unweighted"] - truth) != 0
    assert "weighted: T = 2*pi*sqrt(L)/sqrt(g)" in capsys.readouterr().out


def test_physical_units_example_finds_the_relativistic_energy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("physical_units")
    results = example.main(max_time=None, compare=False)

    m, v, c = sympy.symbols("m v c", real=True)
    found = results["with_units"]
    assert found["exact"]
    assert (
        sympy.simplify(found["formula"] - m * c**2 / sympy.sqrt(1 - v**2 / c**2)) == 0
    )
    assert "with_units: E = c**2*m/sqrt(1 - v**2/c**2)" in capsys.readouterr().out
