"""The narrow-range suite: its far check, its report and one real fit."""

import pytest
import sympy

from benchmarks import narrow_range
from benchmarks.narrow_range import far_error, fit_one, report, x0


def test_far_error_is_the_relative_rms_miss_on_the_far_range():
    law = sympy.cosh(x0)
    assert far_error(law, law, (-3, 3)) == 0.0
    assert far_error(1.01 * law, law, (-3, 3)) == pytest.approx(0.01)
    assert far_error(sympy.log(x0 - 10), law, (-3, 3)) == float("inf")


def test_the_taylor_series_of_cosh_is_far_off_outside_the_narrow_range():
    series = sum(x0 ** (2 * k) / sympy.factorial(2 * k) for k in range(5))
    assert far_error(series, sympy.cosh(x0), (-1, 1)) < 1e-6
    assert far_error(series, sympy.cosh(x0), (-3, 3)) > narrow_range.FALSE_CLAIM_ERROR


def _row(law, exact, error, low=-1.0, high=1.0):
    false = exact and error > narrow_range.FALSE_CLAIM_ERROR
    return {"law": law, "low": str(low), "high": str(high), "seed": "0",
            "exact": str(exact), "far_error": str(error),
            "false_claim": str(false), "expression": "x0"}  # fmt: skip


def test_the_report_counts_claims_and_false_ones():
    rows = [_row("cosh", True, 1e-12), _row("sinh", True, 0.1),
            _row("tanh", False, 0.5), _row("atan", False, 1e-4, 0.0, 0.5)]  # fmt: skip
    text = report(rows)
    assert "| [-1, 1] | 3 | 2 | 1 | 33% (6–79) |" in text
    assert "| [0, 0.5] | 1 | 0 | 0 | 100% (21–100) |" in text
    assert "- sinh on [-1, 1], seed 0: `x0` (far error 0.1) **false**" in text


def test_a_fit_of_cosh_on_the_narrow_range_claims_no_false_law():
    row = fit_one(("cosh", -1.0, 1.0, 0, 2.0))
    assert not row["false_claim"], row["expression"]
