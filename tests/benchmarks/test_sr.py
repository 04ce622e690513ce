"""Tests of the ground-truth SR harness: judge, protocol, parsers, runner, suites."""

from __future__ import annotations

import argparse
import csv
import signal
import time

import numpy as np
import pytest
import sympy

from benchmarks._common import shared_benchmarks_dir
from benchmarks.sr import judge as judge_module, runner, suite, tables, tools
from benchmarks.sr.judge import complexity, judge, round_constants
from benchmarks.sr.parsers import (
    parse_ffx,
    parse_gplearn,
    parse_operon,
    rename_symbols,
)
from benchmarks.sr.problems import (
    Problem,
    arithmetic_problems,
    declare_symbols,
    feynman_problems,
    strogatz_problems,
)
from benchmarks.sr.protocol import (
    NOISE_LEVELS,
    add_target_noise,
    extrapolation_ranges,
    make_dataset,
    split_rows,
)

x, y = sympy.symbols("x y", positive=True)
x0, x1, x2 = sympy.symbols("x0 x1 x2", real=True)
RANGES = ((1.0, 5.0), (1.0, 5.0))

needs_data = pytest.mark.skipif(
    not (shared_benchmarks_dir() / "feynman.csv").exists(),
    reason="shared benchmark data not found",
)


def _problem(truth: sympy.Expr, symbols: tuple, ranges: tuple) -> Problem:
    return Problem("p", "test", truth, symbols, ranges)


# -- judge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "truth", "solved", "note"),
    [
        # 2.0001 rounds to 2.000: model / truth = 2, a constant (SRBench's ratio rule)
        (2.0001 * x0 * x1, x * y, True, "ratio"),
        (x0 + x1 + 0.5, x + y, True, "difference"),
        (x0 * x1, x * y, True, "exact"),
        (x0 + x1, x * y, False, "vary"),
        # pi and 3.14159 are judged alike: both become 3.142
        (x0 + 3.14159 * x1, x + sympy.pi * y, True, "exact"),
        # gplearn's protected sqrt(|x|) on a positive variable is sqrt(x)
        (sympy.sqrt(sympy.Abs(x0)), sympy.sqrt(x), True, "exact"),
        (sympy.sin(x0) ** 2 + sympy.cos(x0) ** 2 + x1, y + 1, True, "trigsimp"),
        (0 * x0, x, False, "0 or undefined"),
    ],
)
def test_judge_hand_made_cases(model, truth, solved, note):
    verdict = judge(model, truth, (x, y), RANGES, r2_test=0.99)
    assert verdict.solved is solved
    assert note in verdict.note


def test_judge_rejects_models_with_low_test_r2():
    verdict = judge(x0 * x1, x * y, (x, y), RANGES, r2_test=0.3)
    assert not verdict.solved
    assert "R^2" in verdict.note


def test_judge_records_a_simplify_timeout(monkeypatch):
    def slow(expr, **kwargs):
        time.sleep(5)
        return expr

    monkeypatch.setattr(judge_module, "CHEAP_STEPS", ())
    monkeypatch.setattr(judge_module.sympy, "simplify", slow)
    started = time.perf_counter()
    verdict = judge(x0 * x1 * 2, x * y, (x, y), RANGES, 0.99, timeout=0.2)
    assert time.perf_counter() - started < 2
    assert not verdict.solved
    assert "timed out" in verdict.note


def test_rounding_and_complexity_count_the_rounded_tree():
    assert round_constants(1.23456 * x0 + 0.00001) == sympy.Rational("1.235") * x0
    assert round_constants(sympy.pi * x0) == sympy.Rational("3.142") * x0
    assert complexity(x0 * x1 + 1e-5 * x2) == 3  # the tiny term rounds away
    assert complexity(sympy.sin(x0) + 2.5) == 4  # Add, sin, x0, 5/2


# -- protocol ---------------------------------------------------------------------


def test_noise_option_offers_srbench_levels():
    assert suite.NOISE_LEVELS == NOISE_LEVELS


def test_split_sizes_and_training_cap():
    rng = np.random.default_rng(0)
    train, test = split_rows(400, rng)
    assert (len(train), len(test)) == (300, 100)
    assert not set(train) & set(test)
    train, test = split_rows(20_000, rng)
    assert (len(train), len(test)) == (10_000, 5_000)


def test_noise_has_gamma_times_rms_and_only_on_training_targets():
    rng = np.random.default_rng(1)
    target = rng.uniform(1, 5, 200_000)
    noisy = add_target_noise(target, 0.1, np.random.default_rng(2))
    rms = np.sqrt(np.mean(target**2))
    assert np.std(noisy - target) == pytest.approx(0.1 * rms, rel=0.01)
    assert np.array_equal(add_target_noise(target, 0.0, rng), target)

    problem = arithmetic_problems()[2]  # x0*x1
    data = make_dataset(problem, 0.01, seed=0, rows=4000)
    clean_train = problem.evaluate(data.X_train)
    assert np.std(data.y_train - clean_train) == pytest.approx(
        0.01 * np.sqrt(np.mean(clean_train**2)), rel=0.1
    )
    assert np.array_equal(data.y_test, problem.evaluate(data.X_test))
    same_inputs = make_dataset(problem, 0.0, seed=0, rows=4000)
    assert np.array_equal(same_inputs.X_train, data.X_train)


def test_extrapolation_rows_lie_past_the_range_and_drop_non_finite_truth():
    assert extrapolation_ranges(((1.0, 5.0),)) == ((5.0, 9.0),)
    (s,) = declare_symbols(["s"], [(1.0, 5.0)]).values()
    problem = _problem(sympy.sqrt(6 - s), (s,), ((1.0, 5.0),))
    data = make_dataset(problem, 0.0, seed=0, rows=2000)
    assert data.X_extrapolation.min() >= 5 and data.X_extrapolation.max() <= 6
    assert np.all(np.isfinite(data.y_extrapolation))
    assert data.dropped == len(data.y_test) - len(data.y_extrapolation) > 0


# -- parsers of the peers' output -----------------------------------------------


def test_parse_gplearn_maps_protected_functions():
    expr = parse_gplearn("add(div(X0, X1), sub(log(X2), neg(0.5)))", 3)
    assert expr == x0 / x1 + sympy.log(sympy.Abs(x2)) + 0.5
    assert parse_gplearn("sqrt(inv(X10))", 11).free_symbols == {
        sympy.Symbol("x10", real=True)
    }


def test_parse_operon_uses_one_based_variables():
    text = "(0.5 + (2.000000 * (sin(X1) / ((-1.5) * sqrt(X2)))))"
    expr = parse_operon(text, 2)
    assert sympy.simplify(expr - (0.5 - 4 * sympy.sin(x0) / (3 * sympy.sqrt(x1)))) == 0


def test_parse_ffx_hinges_powers_and_log10():
    text = "1.11 + 8.55*log10(X0) * X1^2 - 1.53*max(0,3.39-X1) + 0.5*max(0, X0)"
    expr = parse_ffx(text, 2)
    expected = (
        1.11
        + 8.55 * sympy.log(x0) / sympy.log(10) * x1**2
        - 1.53 * sympy.Max(0, 3.39 - x1)
        + 0.5 * sympy.Max(0, x0)
    )
    assert sympy.simplify(expr - expected) == 0


def test_sympy_output_of_pysr_gets_our_symbols():
    # PySR's symbols carry no assumptions
    plain = sympy.Symbol("x0") * sympy.Symbol("x1")
    assert rename_symbols(plain, 2) == x0 * x1


def test_parsers_reject_unknown_names():
    with pytest.raises(ValueError, match="unknown"):
        parse_gplearn("add(X0, gamma)", 1)


# -- runner ---------------------------------------------------------------------


def _task(tool: str, hard_limit: float = 30.0) -> runner.Task:
    return runner.Task(
        suite="arithmetic", tool=tool, problem=arithmetic_problems()[2], noise=0.0,
        seed=0, budget=1.0, rows=200, hard_limit=hard_limit, simplify_timeout=5.0,
    )  # fmt: skip


def test_a_tool_that_raises_gives_a_failure_row(monkeypatch):
    def boom(X, y, budget, seed):
        raise RuntimeError("solver diverged\nlong traceback text")

    monkeypatch.setitem(tools.TOOLS, "boom", tools.Tool("boom", boom))
    row = runner.run_task(_task("boom"))
    assert row["error"] == "RuntimeError: solver diverged"
    assert row["solved"] is False and row["judge_note"] == "tool failed"
    assert tuple(row) == runner.FIELDS


def test_a_tool_past_the_hard_limit_gives_a_failure_row(monkeypatch):
    def sleepy(X, y, budget, seed):
        time.sleep(10)

    monkeypatch.setitem(tools.TOOLS, "sleepy", tools.Tool("sleepy", sleepy))
    row = runner.run_task(_task("sleepy", hard_limit=0.3))
    assert row["error"].startswith("TimeLimitExceeded")
    assert row["seconds"] < 3


def test_the_hard_limit_survives_a_tool_that_uses_alarms(monkeypatch):
    def alarming(X, y, budget, seed):  # as FFX does around each of its fits
        try:
            while True:
                signal.alarm(5)
                time.sleep(0.05)
                signal.alarm(0)  # cancels any other alarm, as FFX's does
        finally:
            signal.alarm(0)

    monkeypatch.setitem(tools.TOOLS, "alarming", tools.Tool("alarming", alarming))
    row = runner.run_task(_task("alarming", hard_limit=0.3))
    assert row["error"].startswith("TimeLimitExceeded")
    assert row["seconds"] < 3


def test_a_correct_formula_is_scored_and_judged(monkeypatch):
    def oracle(X, y, budget, seed):
        return 1.00001 * x0 * x1

    monkeypatch.setitem(tools.TOOLS, "oracle", tools.Tool("oracle", oracle))
    row = runner.run_task(_task("oracle"))
    assert row["solved"] is True and row["accurate"] is True
    assert row["r2_extrapolation"] > 0.999
    assert row["complexity"] == 3  # 1.00001 rounds to 1: x0*x1
    assert row["claimed_exact"] == ""  # a bare formula claims nothing


def test_an_exact_claim_is_recorded_and_a_false_one_counted(monkeypatch):
    def boaster(X, y, budget, seed):
        return tools.Fitted(x0 + x1, claims_exact=True)

    monkeypatch.setitem(tools.TOOLS, "boaster", tools.Tool("boaster", boaster))
    row = runner.run_task(_task("boaster"))
    assert row["claimed_exact"] is True and row["solved"] is False
    stored = {key: str(value) for key, value in row.items()}
    unclaimed = {**stored, "tool": "other", "claimed_exact": ""}
    assert tables.exactness_lines([stored, unclaimed]) == [
        "boaster called 1 of 1 runs exact; 0 of the 0 solved runs; "
        f"false claims: 1 ({row['problem']})."
    ]


# -- suites ---------------------------------------------------------------------


def _run(argv: list[str]) -> int:
    """Run a suite through its own options (independent of other suites)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("suite")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--output")
    suite.add_arguments(parser)
    return suite.run(parser.parse_args(argv))


def test_runs_resume_from_the_result_file(monkeypatch, tmp_path):
    calls = []

    def counting(X, y, budget, seed):
        calls.append(seed)
        return x0 * x1

    monkeypatch.setitem(tools.TOOLS, "counting", tools.Tool("counting", counting))
    argv = ["arithmetic", "--problems", "x0*x1", "--tools", "counting",
            "--seeds", "2", "--rows", "200", "--output", str(tmp_path)]  # fmt: skip
    assert _run(argv) == 0
    assert _run(argv) == 0
    assert calls == [0, 1]
    lines = (tmp_path / "arithmetic.csv").read_text().splitlines()
    assert len(lines) == 3
    assert "| counting | 0 | 100% (34–100)" in (tmp_path / "arithmetic.md").read_text()


def test_unknown_names_are_errors(tmp_path, capsys):
    assert _run(["arithmetic", "--problems", "nope", "--output", str(tmp_path)]) == 2
    assert _run(["arithmetic", "--tools", "nope", "--output", str(tmp_path)]) == 2


def test_missing_shared_data_skips_cleanly(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NALU_SR_BENCHMARK_DATA", str(tmp_path / "absent"))
    assert _run(["feynman", "--output", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out


@needs_data
def test_feynman_loader_follows_srbench():
    problems = feynman_problems()
    names = {p.name for p in problems}
    assert len(problems) == 116
    assert not names & {"I.26.2", "I.30.5", "test_10", "II.11.17"}
    by_name = {p.name: p for p in problems}
    # gamma is a variable here, not SymPy's gamma function
    gamma = by_name["I.39.11"].truth.free_symbols
    assert "gamma" in {s.name for s in gamma} and all(s.is_positive for s in gamma)
    assert len(suite.select_problems(problems, "feynman", None, quick=True)) == 12


@needs_data
def test_strogatz_loader_reads_fixed_rows():
    problems = strogatz_problems()
    assert len(problems) == 14
    assert len(suite.select_problems(problems, "strogatz", None, quick=True)) == 4
    for problem in problems:
        assert problem.X.shape == (400, 2)
        assert np.allclose(problem.evaluate(problem.X), problem.y, atol=1e-9)
    data = make_dataset(problems[0], 0.0, seed=0, rows=10_000)
    assert (len(data.y_train), len(data.y_test)) == (300, 100)


def test_ci_smoke_run_of_the_harness(tmp_path):
    pytest.importorskip("gplearn")
    from benchmarks.__main__ import main

    argv = ["run", "arithmetic", "--problems", "x0*x1", "x0+x1",
            "--tools", "nalu_sr", "gplearn", "--budget", "2", "--rows", "400",
            "--output", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    with (tmp_path / "arithmetic.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    nalu = {row["problem"]: row["solved"] for row in rows if row["tool"] == "nalu_sr"}
    assert nalu == {"x0*x1": "True", "x0+x1": "True"}
    report = (tmp_path / "arithmetic.md").read_text()
    assert "| tool | noise | solution rate (95% CI)" in report
    assert "| nalu_sr | 0 | 100% (34–100)" in report
