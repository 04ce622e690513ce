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


@pytest.fixture
def force_csv(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(200, 3))
    lines = ["mass,speed,radius,force"]
    lines += [f"{m},{v},{r},{m * v / r}" for m, v, r in X]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fit_show_predict_round_trip(force_csv, tmp_path, capsys):
    model_path = tmp_path / "model.json"
    assert (
        main(["fit", str(force_csv), "--target", "force", "--output", str(model_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "formula: mass*speed/radius" in out
    assert "(exact)" in out and f"model written to {model_path}" in out
    assert main(["show", str(model_path)]) == 0
    shown = capsys.readouterr().out
    assert "formula: mass*speed/radius" in shown
    assert "latex: \\frac{mass speed}{radius}" in shown
    new = tmp_path / "new.csv"
    new.write_text("radius,speed,mass\n2,3,4\n")
    assert main(["predict", str(model_path), str(new)]) == 0
    assert capsys.readouterr().out.split() == ["prediction", "6.0"]


def test_fit_writes_a_report(force_csv, tmp_path, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    report = tmp_path / "report"
    argv = ["fit", str(force_csv), "--target", "force", "--output"]
    argv += [str(tmp_path / "model.json"), "--report", str(report)]
    assert main(argv) == 0
    assert f"report written to {report / 'report.md'}" in capsys.readouterr().out
    assert "Formula: `mass*speed/radius`" in (report / "report.md").read_text()
    for name in ("pareto.png", "predictions.png", "graph.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_report_without_matplotlib_fails_before_fitting(
    force_csv, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    model_path = tmp_path / "model.json"
    argv = ["fit", str(force_csv), "--target", "force", "--output", str(model_path)]
    assert main([*argv, "--report", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err == (
        "nalu-sr: error: plotting needs matplotlib, which is not installed: "
        "pip install nalu_sr[plot]\n"
    )
    assert not model_path.exists()


def test_fit_and_show_without_pandas(force_csv, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    model_path = tmp_path / "model.json"
    argv = ["fit", str(force_csv), "--target", "force", "--output", str(model_path)]
    assert main(argv) == 0
    fitted = capsys.readouterr().out
    assert main(["show", str(model_path)]) == 0
    shown = capsys.readouterr().out
    # Without pandas the features are unnamed columns, hence x0, x1, x2.
    chosen = [line for line in shown.splitlines() if line.startswith(" * ")]
    assert len(chosen) == 1 and chosen[0].endswith("x0*x1/x2")
    assert "formula: x0*x1/x2" in fitted and chosen[0] in fitted


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "{data}", "--target", "nope"], "no column 'nope'"),
        (["fit", "{missing}", "--target", "force"], "No such file"),
        (["show", "{data}"], "is not a JSON file"),
    ],
)
def test_user_errors_are_one_line(force_csv, tmp_path, capsys, argv, message):
    argv = [a.format(data=force_csv, missing=tmp_path / "missing.csv") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nalu-sr: error: ") and message in err
    assert err.count("\n") == 1


def test_non_numeric_csv_value_is_named(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,oops\n")
    assert main(["fit", str(path), "--target", "b"]) == 2
    assert "line 3, column 'b': 'oops' is not a number" in capsys.readouterr().err
