"""The fit fuzzer: its generator, its verdicts and a small slice of real fits."""

import json

import numpy as np
import pytest

from benchmarks import fuzz_fit
from benchmarks.__main__ import main
from benchmarks.fuzz_fit import (
    Case,
    defects,
    fit_case,
    fresh_error,
    generate_case,
    generate_cases,
    make_data,
    run_cases,
)

#: Small cases of seed 0 (at most 100 rows and 4 columns, not all dropped as
#: non-finite): cheap to fit.
CHEAP = [
    case
    for case in generate_cases(0, 200)
    if case.n_rows <= 100 and case.n_features <= 4 and len(make_data(case)[1])
]
#: Two cheap clean cases, then a cheap one with a planted NaN or infinity.
CLEAN = [c for c in CHEAP if not c.corrupt]
PROCESS_SLICE = [*CLEAN[4:6], next(c for c in CHEAP if c.corrupt)]
MAX_TIME = 1.0


def test_same_seed_gives_the_same_cases_and_data():
    first = [case.describe() for case in generate_cases(0, 100)]
    assert first == [case.describe() for case in generate_cases(0, 100)]
    assert first != [case.describe() for case in generate_cases(1, 100)]
    assert generate_case(0, 37) == generate_cases(0, 40)[37]
    for case in generate_cases(0, 20):
        (X1, y1), (X2, y2) = make_data(case), make_data(case)
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(y1, y2)


def test_every_category_is_drawn():
    seen = set().union(*(case.categories for case in generate_cases(0, 300)))
    wanted = {"nested", "product", "piecewise", "x**y", "many-inputs",
              "degenerate", "tiny-rows", "large-rows", "noise", "nan",
              "extreme", "negative"}  # fmt: skip
    assert wanted <= seen


def test_a_case_is_described_in_one_line():
    for case in generate_cases(0, 100):
        line = case.describe()
        assert "\n" not in line
        assert line.startswith(f"#{case.index} [{case.kind}] y = {case.law}; ")
        assert line.endswith(f"seed {case.seed}")


def test_only_the_planted_nan_or_inf_is_not_finite():
    for case in generate_cases(0, 300):
        X, y = make_data(case)
        assert X.shape == (len(y), case.n_features)
        finite = bool(np.isfinite(X).all() and np.isfinite(y).all())
        assert finite == (case.corrupt is None or len(y) == 0), case.describe()


def _result(outcome="error", **fields):
    return {"index": 0, "outcome": outcome, "fit_s": 1.0, "peak_mib": 400.0,
            **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("result", "corrupt", "found"),
    [
        (_result("fitted"), None, []),
        (_result(error_type="ValueError", refusal=True, one_line=True,
                 message="Found array with 1 sample(s)"), None, []),
        (_result(error_type="ValueError", refusal=True, one_line=False,
                 message="Input X contains NaN.\nmore"), None, ["traceback"]),
        (_result(error_type="ZeroDivisionError", refusal=False, one_line=True,
                 message="division by zero"), None, ["traceback"]),
        (_result("crashed", message="exit code -11"), None, ["traceback"]),
        (_result("killed", fit_s=None), None, ["overrun"]),
        (_result("fitted", fit_s=MAX_TIME + 3.5), None, ["overrun"]),
        (_result("fitted", peak_mib=3000.0), None, ["memory"]),
        (_result("fitted"), ("nan", "y", 0, -1), ["nan"]),
        (_result(error_type="ValueError", refusal=True, one_line=True,
                 message="Input y contains NaN."), ("nan", "y", 0, -1), []),
        (_result(error_type="ValueError", refusal=True, one_line=True,
                 message="bad data"), ("inf", "X", 0, 0), ["nan"]),
        (_result(error_type="ValueError", refusal=True, one_line=False,
                 message="Input X contains NaN.\nmore"), ("nan", "X", 0, 0),
         ["nan"]),
        (_result("skipped"), ("nan", "y", 0, -1), []),
        (_result("fitted", exact=True, fresh_error=1e-12), None, []),
        (_result("fitted", exact=True, fresh_error=0.01), None, ["false-exact"]),
        (_result(error_type="KeyError", refusal=False, one_line=True,
                 message="'x'"), ("nan", "X", 0, 0), ["traceback", "nan"]),
    ],
)  # fmt: skip
def test_defects_are_what_the_spec_calls_them(result, corrupt, found):
    case = Case(0, 0, "simple", "x0", 1, 10, ("U(1,5)",), corrupt=corrupt)
    assert defects(case, result, MAX_TIME) == found


@pytest.mark.parametrize("case", CLEAN[:3], ids=lambda case: f"case{case.index}")
def test_cheap_cases_fit_here_without_a_traceback(case):
    result = fit_case(case, MAX_TIME)
    assert result["outcome"] in ("fitted", "error", "skipped")
    found = [d for d in defects(case, result, MAX_TIME) if d != "memory"]
    assert found == [], (case.describe(), result.get("traceback"))


def test_the_suite_fits_each_case_in_its_own_process(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(
        fuzz_fit, "generate_cases", lambda seed, count: PROCESS_SLICE[:count]
    )
    argv = ["run", "fuzz-fit", "--cases", "3", "--max-time", str(MAX_TIME)]
    assert main([*argv, "--output", str(tmp_path)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "| cases | fitted | refused | skipped | overruns |" in out
    assert "No defects." in out
    lines = (tmp_path / "fuzz-fit-seed0.jsonl").read_text().splitlines()
    results = {json.loads(line)["index"]: json.loads(line) for line in lines}
    assert sorted(results) == sorted(case.index for case in PROCESS_SLICE)
    for case in PROCESS_SLICE:
        assert results[case.index]["description"] == case.describe()
        assert 0 < results[case.index]["peak_mib"] < fuzz_fit.MEMORY_LIMIT_MIB
    assert results[PROCESS_SLICE[-1].index]["error_type"] == "ValueError"
    assert (tmp_path / "fuzz-fit-seed0.md").exists()


def test_a_fit_past_the_hard_limit_is_killed_and_an_overrun():
    case = PROCESS_SLICE[0]
    (result,) = run_cases([case], MAX_TIME, hard_limit=0.5)
    assert result["outcome"] == "killed"
    assert "overrun" in defects(case, result, MAX_TIME)


class _ScaledLaw:
    """A stand-in model: the case's law times ``factor``."""

    def __init__(self, case, factor):
        self.case, self.factor = case, factor

    def predict(self, X):
        return self.factor * fuzz_fit.data.evaluate_law(self.case.law, X)


def test_fresh_error_is_the_relative_rms_miss_on_new_rows():
    case = Case(0, 5, "simple", "x0*x1", 2, 50, ("U(1,5)", "U(1,5)"))
    assert fresh_error(_ScaledLaw(case, 1.0), case) == 0.0
    assert fresh_error(_ScaledLaw(case, 1.01), case) == pytest.approx(0.01)


def test_an_exact_fit_of_a_law_is_checked_on_fresh_rows():
    case = Case(0, 5, "simple", "x0*x1 + x2", 3, 50, ("U(1,5)",) * 3)
    result = fit_case(case, 30.0)  # found in a fraction of a second; slack for CI
    assert result["exact"] is True, result["expression"]
    assert result["fresh_error"] < 1e-12
    assert defects(case, result, 30.0) == []
