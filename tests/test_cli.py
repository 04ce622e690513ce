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


def _fit_argv(data, output, *extra):
    return ["fit", str(data), "--target", "force", "--output", str(output), *extra]


def _one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.startswith("nalu-sr: error: ") and err.count("\n") == 1
    return err


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files_are_detected(force_csv, tmp_path, capsys, sep):
    path = tmp_path / "sep.csv"
    path.write_text(force_csv.read_text().replace(",", sep))
    assert main(_fit_argv(path, tmp_path / "m.json", "--restarts", "1")) == 0
    assert "formula: mass*speed/radius" in capsys.readouterr().out


def test_sep_option_is_used(tmp_path, capsys):
    path = tmp_path / "pipe.csv"
    path.write_text("a|b\n1|oops\n")
    assert main(["fit", str(path), "--target", "a", "--sep", "|"]) == 2
    err = _one_error_line(capsys)
    assert "line 2, column 'b': 'oops' is not a number" in err


def test_header_only_csv_says_so(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("mass,velocity,energy\n")
    assert main(["fit", str(path), "--target", "energy"]) == 2
    assert _one_error_line(capsys) == (
        f"nalu-sr: error: {path} has a header row but no data rows\n"
    )


def test_misspelled_column_suggests_the_nearest(force_csv, tmp_path, capsys):
    argv = ["fit", str(force_csv), "--target", "forse", "--output"]
    assert main([*argv, str(tmp_path / "m.json")]) == 2
    assert _one_error_line(capsys) == (
        f"nalu-sr: error: no column 'forse' in {force_csv}; did you mean 'force'?\n"
    )


def test_nan_in_the_target_names_its_line(tmp_path, capsys):
    path = tmp_path / "nan.csv"
    path.write_text("a,b\n1,2\n3,NaN\n")
    assert main(["fit", str(path), "--target", "b"]) == 2
    assert "line 3, column 'b': 'NaN' is not a finite number" in _one_error_line(capsys)


def test_output_is_checked_before_the_fit(force_csv, tmp_path, capsys, monkeypatch):
    from nalu_sr.estimator import NALURegressor

    def no_fit(*args, **kwargs):
        raise AssertionError("fit must not start")

    monkeypatch.setattr(NALURegressor, "fit", no_fit)
    assert main(_fit_argv(force_csv, tmp_path / "nodir" / "m.json")) == 2
    assert "no folder" in _one_error_line(capsys)
    before = force_csv.read_text()
    assert main(_fit_argv(force_csv, force_csv)) == 2
    assert "would overwrite the input file" in _one_error_line(capsys)
    assert force_csv.read_text() == before


def test_formula_is_printed_before_a_failed_save(
    force_csv, tmp_path, capsys, monkeypatch
):
    from nalu_sr.estimator import NALURegressor

    def full_disk(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(NALURegressor, "save", full_disk)
    assert main(_fit_argv(force_csv, tmp_path / "m.json", "--restarts", "1")) == 2
    captured = capsys.readouterr()
    assert "formula: mass*speed/radius" in captured.out
    assert captured.err == "nalu-sr: error: [Errno 28] No space left on device\n"


def test_ctrl_c_keeps_the_best_model_and_exits_130(
    force_csv, tmp_path, capsys, monkeypatch
):
    import nalu_sr.search_jobs

    calls = []

    def ctrl_c_after_one_run(*args, **kwargs):
        # Checked before each wave of runs (one run with one worker): pressing
        # Ctrl-C once one run is done.
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(nalu_sr.search_jobs, "_should_stop", ctrl_c_after_one_run)
    model_path = tmp_path / "m.json"
    assert main(_fit_argv(force_csv, model_path)) == 130
    assert len(calls) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "nalu-sr: interrupted: the best formula found so far was kept\n"
    )
    assert f"model written to {model_path}" in captured.out
    assert main(["show", str(model_path)]) == 0


def test_ctrl_c_during_start_up_is_one_line(force_csv, capsys, monkeypatch):
    import nalu_sr.cli

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nalu_sr.cli, "read_csv", interrupt)
    assert main(["fit", str(force_csv), "--target", "force"]) == 130
    assert capsys.readouterr().err == "nalu-sr: interrupted\n"


@pytest.fixture
def model_file(tmp_path):
    from nalu_sr.export.serialize import expression_to_tree, write_model_file

    x0, x1 = sympy.symbols("mass speed", real=True)
    tree = expression_to_tree(x0 * x1)
    entry = {
        "complexity": 3, "train_loss": 0.0, "validation_loss": 0.0,
        "architecture": "power", "width": 1, "seed": 0, "expression": tree,
        "chosen": True,
    }  # fmt: skip
    path = tmp_path / "model.json"
    write_model_file(
        path,
        {
            "symbols": ["mass", "speed"], "feature_names_in": ["mass", "speed"],
            "params": {}, "expression": tree, "loss": 0.0, "exact": True,
            "n_iter": 1, "best_index": 0, "equations": [entry],
        },
    )  # fmt: skip
    return path


def test_predict_ignores_columns_the_model_does_not_use(model_file, tmp_path, capsys):
    data = tmp_path / "new.csv"
    data.write_text("name,speed,mass,note\nbob,3,4,\nann,0.5,2,n/a\n")
    assert main(["predict", str(model_file), str(data)]) == 0
    assert capsys.readouterr().out.split() == ["prediction", "12.0", "1.0"]


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (
            {"function": "Pow", "args": [{"integer": "3"}, {"integer": "10000000"}]},
            "over the limit of 2**1000",
        ),
        ({"float": [0, 1, 0, 1], "precision": 10**9}, "float precision 1000000000"),
        ({"args": []}, "no known key in ['args']"),
    ],
)
@pytest.mark.parametrize("command", ["show", "predict"])
def test_hostile_model_files_are_one_line(
    model_file, tmp_path, capsys, tree, message, command
):
    import json

    document = json.loads(model_file.read_text())
    document["expression"] = tree
    model_file.write_text(json.dumps(document))
    data = tmp_path / "new.csv"
    data.write_text("mass,speed\n1,2\n")
    argv = [command, str(model_file)] + ([str(data)] if command == "predict" else [])
    assert main(argv) == 2
    assert message in _one_error_line(capsys)


def test_fit_with_a_weight_column_leaves_out_rows_of_weight_zero(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(1)
    X = rng.uniform(1, 5, size=(200, 2))
    lines = ["mass,speed,weight,energy"]
    for index, (m, v) in enumerate(X):
        bad = index % 5 == 0  # a corrupted row, given weight zero
        energy = 1e3 * rng.normal() if bad else m * v**2 / 2
        lines.append(f"{m},{v},{0 if bad else 1},{energy}")
    data = tmp_path / "data.csv"
    data.write_text("\n".join(lines) + "\n")
    model_path = tmp_path / "model.json"
    arguments = ["fit", str(data), "--target", "energy", "--weight", "weight"]
    assert main([*arguments, "--output", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "formula: mass*speed**2/2" in out and "(exact)" in out


def test_a_misspelled_weight_column_is_named(force_csv, capsys):
    arguments = ["fit", str(force_csv), "--target", "force", "--weight", "mas"]
    assert main(arguments) == 2
    assert "did you mean 'mass'?" in capsys.readouterr().err


def test_jobs_reaches_the_estimator(force_csv, tmp_path, capsys, monkeypatch):
    from nalu_sr.estimator import NALURegressor

    seen = {}
    real_fit = NALURegressor.fit

    def fit(self, X, y, sample_weight=None):
        seen["n_jobs"] = self.n_jobs
        return real_fit(self, X, y, sample_weight)

    monkeypatch.setattr(NALURegressor, "fit", fit)
    argv = _fit_argv(force_csv, tmp_path / "m.json", "--restarts", "1", "--jobs", "2")
    assert main(argv) == 0
    assert seen == {"n_jobs": 2}
    assert "formula: mass*speed/radius" in capsys.readouterr().out
    assert main(_fit_argv(force_csv, tmp_path / "m.json", "--jobs", "0")) == 2
    assert "'n_jobs' parameter of NALURegressor must be" in _one_error_line(capsys)


def test_a_reader_that_leaves_the_pipe_ends_quietly(model_file, capsys, monkeypatch):
    import nalu_sr.cli as cli

    def closed_pipe(arguments):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_run_predict", closed_pipe)
    assert main(["predict", str(model_file), str(model_file)]) == cli.EXIT_BROKEN_PIPE
    assert capsys.readouterr().err == ""
