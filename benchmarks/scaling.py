"""Fit time and peak memory against rows and features (issue 12's scaling table).

Each fit runs in a fresh Python process: the law ``x0*x1 + x2/x3`` among
``p`` uniform U(1, 5) features, default ``NALURegressor`` settings and
``random_state=0``. The process reports its wall time for ``fit`` and the
growth of its peak resident memory during ``fit`` (the data are generated
before, without temporaries), which the table compares with the size of the
input array::

    python -m benchmarks run scaling [--quick] [--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchmarks._common import markdown_table, report_header, write_report

DESCRIPTION = "fit time and peak memory against rows and features"

ROWS = (10_000, 100_000, 1_000_000, 10_000_000)
FEATURES = (10, 30, 100, 300)
QUICK_ROWS = (10_000, 100_000)
QUICK_FEATURES = (10, 30)
#: Rows of the fits that vary the number of features.
FEATURE_ROWS = 10_000

_CHILD = """
import json, resource, sys, time
import numpy as np
from nalu_sr import NALURegressor

def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20

rows, features, dtype = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
# Drawn in the benchmark's dtype (no float64 draft that would raise the peak)
# and in place; the target is computed in float64 from those exact values.
X = rng.random((rows, features), dtype=np.dtype(dtype))
X *= 4
X += 1
law = X[:, :4].astype(np.float64)
y = law[:, 0] * law[:, 1] + law[:, 2] / law[:, 3]
del law
before = rss_mib()
started = time.perf_counter()
model = NALURegressor(random_state=0).fit(X, y)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_growth_mib": peak - before,
                  "input_mib": X.nbytes / 2**20, "formula": str(model.expression_),
                  "exact": bool(model.exact_)}))
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the scaling measurement."""
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")


def measure(rows: int, features: int, dtype: str) -> dict:
    """Fit once in a fresh process; return its measurements."""
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(rows), str(features), dtype],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"rows": rows, "features": features, **result}


def _row(result: dict) -> list:
    ratio = result["peak_growth_mib"] / result["input_mib"]
    return [
        f"{result['rows']:,}", result["features"], f"{result['seconds']:.1f}",
        f"{result['input_mib']:.0f}", f"{result['peak_growth_mib']:.0f}",
        f"{ratio:.1f}", result["formula"], "yes" if result["exact"] else "no",
    ]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Measure every size, print the table and write the report."""
    rows = QUICK_ROWS if args.quick else ROWS
    features = QUICK_FEATURES if args.quick else FEATURES
    sizes = [(n, 10) for n in rows] + [(FEATURE_ROWS, p) for p in features if p != 10]
    results = []
    for n, p in sizes:
        results.append(measure(n, p, args.dtype))
        print(f"{n} rows x {p} features: {results[-1]['seconds']:.1f} s", flush=True)
    headers = ["rows", "features", "fit s", "input MiB", "peak growth MiB",
               "growth / input", "formula", "exact"]  # fmt: skip
    table = markdown_table(headers, [_row(r) for r in results])
    text = report_header(f"Scaling: rows and features ({args.dtype})") + (
        "\n`x0*x1 + x2/x3` among the features, U(1, 5), default settings, one "
        "fit per process. *Peak growth* is the rise of the process's peak "
        "resident memory during `fit`.\n\n" + table
    )
    print(table)
    write_report(Path(args.output) / f"scaling-{args.dtype}.md", text)
    return 0
