"""The ``python -m benchmarks`` registry and the recovery suite."""

import csv
import importlib
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import joblib
import pytest

import benchmarks.__main__ as entry_point
from benchmarks import recovery
from benchmarks.__main__ import SUITES, main, requested_suite
from benchmarks._common import parallel_map

REPO = Path(__file__).resolve().parents[2]


def _python(*args):
    """Run Python in a fresh process from the repository root."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("name", list(SUITES))
def test_registry_description_is_the_modules(name):
    module = importlib.import_module(SUITES[name].module)
    assert SUITES[name].description == module.DESCRIPTION


def test_requested_suite_is_the_word_after_run():
    assert requested_suite(["run", "recovery", "--seeds", "2"]) == "recovery"
    assert requested_suite(["run", "--help"]) is None
    assert requested_suite(["run", "nope"]) is None
    assert requested_suite(["list"]) is None
    assert requested_suite([]) is None


def test_list_and_help_import_no_suite():
    code = (
        "import sys, contextlib, io\n"
        "from benchmarks.__main__ import build_parser, main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list'])\n"
        "build_parser()\n"
        "print(sorted(m for m in sys.modules if m.startswith('benchmarks')))\n"
    )
    result = _python("-c", code)
    assert result.returncode == 0, result.stderr
    loaded = "['benchmarks', 'benchmarks.__main__', 'benchmarks._common']"
    assert result.stdout.strip() == loaded


def test_running_a_suite_imports_only_that_suite(monkeypatch, capsys):
    imported = []

    def record(name, *args):
        imported.append(name)
        return real_import(name, *args)

    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", record)
    with pytest.raises(SystemExit) as exited:
        main(["run", "recovery", "--help"])
    assert exited.value.code == 0
    assert imported == ["benchmarks.recovery"]
    assert "--range LOW HIGH" in capsys.readouterr().out


def test_list_shows_every_suite_with_its_description(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(SUITES)
    assert f"{'recovery':20s} {recovery.DESCRIPTION}" in lines


def test_recovery_script_is_the_registry_command(monkeypatch, capsys):
    # The script puts the repository on sys.path; keep that from leaking.
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", ["benchmarks/recovery.py", "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(REPO / "benchmarks" / "recovery.py"), run_name="__main__")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m benchmarks run recovery ")
    assert "--report NAME" in out


def test_selected_formulas_skip_sqrt_on_mixed_signs():
    names = ["sqrt(x0)", "x0+x1"]
    assert recovery.selected_formulas(names, 1.0) == names
    assert recovery.selected_formulas(names, -5.0) == ["x0+x1"]
    assert len(recovery.selected_formulas(None, 1.0)) == len(recovery.SUITE)
    with pytest.raises(SystemExit, match=r"^unknown formulas: nope, x9$"):
        recovery.selected_formulas(["x9", "x0+x1", "nope"], 1.0)


def test_extrapolation_range_is_five_times_as_wide():
    assert recovery.extrapolation_range(1.0, 5.0) == (1.0, 21.0)
    assert recovery.extrapolation_range(-5.0, 5.0) == (-25.0, 25.0)


def test_recovery_suite_writes_results_and_resumes(tmp_path, monkeypatch):
    argv = ["run", "recovery", "--only", "x0+x1", "--seeds", "2"]
    argv += ["--report", "small", "--output", str(tmp_path)]
    assert main(argv) == 0
    with (tmp_path / "small.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["formula"], r["seed"], r["exact"]) for r in rows] == [
        ("x0+x1", "0", "True"),
        ("x0+x1", "1", "True"),
    ]
    report = (tmp_path / "small.md").read_text()
    assert report.startswith("# Exact-recovery benchmark, inputs U(1.0, 5.0)\n")
    assert "inputs U(1.0, 5.0), default `NALURegressor(random_state=seed)`" in report
    assert "| x0+x1 | 2/2 | 2/2 |" in report

    def no_fit(*args):
        raise AssertionError("a stored fit was run again")

    monkeypatch.setattr(recovery, "run_one", no_fit)
    assert main(argv) == 0
    assert "| x0+x1 | 2/2 | 2/2 |" in (tmp_path / "small.md").read_text()


def test_scheduler_sends_the_grid_to_a_dask_cluster(monkeypatch):
    distributed = pytest.importorskip("distributed")
    seen = {}

    def run(args):
        seen["jobs"] = args.jobs
        seen["backend"] = type(joblib.parallel.get_active_backend()[0]).__name__
        seen["results"] = sorted(parallel_map(abs, [-1, -2, 3], args.jobs))
        return 0

    suite = SimpleNamespace(add_arguments=lambda parser: None, run=run)
    monkeypatch.setattr(entry_point, "load_suite", lambda name: suite)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        assert main(["run", "recovery", "--scheduler", cluster.scheduler_address]) == 0
    assert seen == {
        "jobs": 2,
        "backend": "DaskDistributedBackend",
        "results": [1, 2, 3],
    }


def test_without_scheduler_the_grid_runs_here_in_one_process(monkeypatch):
    seen = {}

    def run(args):
        seen["jobs"] = args.jobs
        seen["results"] = list(parallel_map(abs, [-1, -2, 3], args.jobs))
        return 0

    suite = SimpleNamespace(add_arguments=lambda parser: None, run=run)
    monkeypatch.setattr(entry_point, "load_suite", lambda name: suite)
    assert main(["run", "recovery"]) == 0
    assert seen == {"jobs": 1, "results": [1, 2, 3]}


def test_fuzz_suite_runs_from_the_registry(capsys):
    assert main(["run", "fuzz", "--cases", "200", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "cases tried: 200 (seed 1)" in out
    assert "slowest case:" in out
