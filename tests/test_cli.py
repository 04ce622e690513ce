import subprocess
import sys

import pytest
import sympy

from nalu_sr import __version__
from nalu_sr.cli import main
from nalu_sr.demo import run_demo


def test_demo_recovers_the_formula_exactly():
    result = run_demo(seed=0)
    x0, x1, x2 = sympy.symbols("x0:3", real=True)
    assert result.exact
    assert result.extrapolation_r2 > 0.9999
    assert sympy.simplify(result.found - (x0 + x1) * x2) == 0


def test_cli_demo_prints_formula(capsys):
    assert main(["demo", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "true formula:  x2*(x0 + x1)" in out
    assert "recovery:      exact" in out
    assert "R^2 on U(5, 25)" in out


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_cli_requires_a_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "nalu_sr", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert __version__ in completed.stdout
