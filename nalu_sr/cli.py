"""The ``nalu-sr`` command line: fit a CSV file, predict, show a model, demo.

The commands only call the public API. Errors a user can cause (a missing
file, an unknown column, a bad model file) print one line and exit with 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nalu_sr._equations import table_rows
from nalu_sr._version import __version__
from nalu_sr.exceptions import NaluSRError

if TYPE_CHECKING:
    from nalu_sr.estimator import NALURegressor


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nalu-sr",
        description="Symbolic regression with neural arithmetic units.",
    )
    parser.add_argument("--version", action="version", version=f"nalu-sr {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="recover (x0 + x1) * x2 from data and print the formula"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit = commands.add_parser("fit", help="find the formula behind a CSV file")
    fit.add_argument("data", help="CSV file with a header row of column names")
    fit.add_argument("--target", required=True, help="name of the column to explain")
    fit.add_argument("--output", default="model.json", help="model file to write")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument("--restarts", type=int, default=3, help="runs per family/width")
    fit.add_argument("--max-time", type=float, default=None, help="budget in seconds")
    fit.add_argument(
        "--architectures", nargs="+", default=None, help="body families to search"
    )
    fit.add_argument("--primitives", nargs="+", default=None, help="built-in names")
    fit.add_argument(
        "--report",
        metavar="DIR",
        default=None,
        help="also write plots and a markdown report to DIR (needs matplotlib)",
    )
    predict = commands.add_parser("predict", help="evaluate a model on a CSV file")
    predict.add_argument("model", help="model file written by 'fit'")
    predict.add_argument("data", help="CSV file with the model's feature columns")
    show = commands.add_parser("show", help="print a model's formula and candidates")
    show.add_argument("model", help="model file written by 'fit'")
    return parser


def read_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read a numeric CSV file with a header row.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    (list of str, numpy.ndarray)
        Column names and the values, shape ``(n_rows, n_columns)``.

    Raises
    ------
    ValueError
        Naming the row and column of the first value that is not a number.
    """
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{path} is empty")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    values = np.empty((len(body), len(header)))
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {i}: {len(row)} fields, expected {len(header)}"
            )
        for j, field in enumerate(row):
            try:
                values[i - 2, j] = float(field)
            except ValueError:
                raise ValueError(
                    f"{path}, line {i}, column {header[j]!r}: {field!r} is not a number"
                ) from None
    return header, values


def _run_fit(arguments: argparse.Namespace) -> int:
    from nalu_sr.estimator import NALURegressor

    if arguments.report is not None:
        from nalu_sr.plotting import require_matplotlib

        require_matplotlib()  # before the fit, not after it
    header, values = read_csv(arguments.data)
    if arguments.target not in header:
        raise ValueError(
            f"no column {arguments.target!r} in {arguments.data}; columns: {header}"
        )
    target = header.index(arguments.target)
    features = [name for name in header if name != arguments.target]
    X = _frame_or_array(values[:, [header.index(f) for f in features]], features)
    params: dict[str, Any] = {
        "random_state": arguments.seed,
        "n_restarts": arguments.restarts,
        "max_time": arguments.max_time,
        # The progress line; it draws only where stderr is a terminal.
        "verbose": 1,
    }
    if arguments.architectures:
        params["architectures"] = tuple(arguments.architectures)
    if arguments.primitives:
        params["primitives"] = tuple(arguments.primitives)
    model = NALURegressor(**params).fit(X, values[:, target])
    model.save(arguments.output)
    _print_model(model)
    print(f"model written to {arguments.output}")
    if arguments.report is not None:
        from nalu_sr.plotting import write_report

        report = write_report(model, X, values[:, target], arguments.report)
        print(f"report written to {report}")
    return 0


def _frame_or_array(values: np.ndarray, names: list[str]) -> object:
    """Wrap values in a DataFrame (for named symbols) when pandas is installed."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return values
    return pd.DataFrame(values, columns=names)


def _print_model(model: NALURegressor) -> None:
    print(f"formula: {model.expression_}")
    verdict = "exact" if model.exact_ else "approximate"
    print(f"relative validation error: {model.loss_:.3g} ({verdict})")
    print("candidates (complexity, validation error, formula):")
    for row in table_rows(model.equations_):
        mark = "*" if row["chosen"] else " "
        print(f" {mark} {row['complexity']:4d}  {row['loss']:10.3g}  {row['equation']}")


def _run_predict(arguments: argparse.Namespace) -> int:
    from nalu_sr.estimator import NALURegressor

    model = NALURegressor.load(arguments.model)
    header, values = read_csv(arguments.data)
    names = [str(n) for n in getattr(model, "feature_names_in_", [])] or [
        s.name for s in model.feature_symbols_
    ]
    missing = [name for name in names if name not in header]
    if missing:
        raise ValueError(f"{arguments.data} lacks the model's columns {missing}")
    X = _frame_or_array(values[:, [header.index(n) for n in names]], names)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["prediction"])
    writer.writerows([[repr(float(v))] for v in model.predict(X)])
    return 0


def _run_show(arguments: argparse.Namespace) -> int:
    from nalu_sr.estimator import NALURegressor

    model = NALURegressor.load(arguments.model)
    _print_model(model)
    print(f"latex: {model.latex()}")
    return 0


def _run_demo(seed: int) -> int:
    from nalu_sr.demo import run_demo

    result = run_demo(seed=seed)
    print(f"true formula:  {result.truth}")
    print(f"found formula: {result.found}")
    verdict = "exact" if result.exact else "NOT exact"
    print(f"recovery:      {verdict}, in {result.seconds:.1f} s")
    print(f"R^2 on U(5, 25), outside the training range: {result.extrapolation_r2:.6f}")
    return 0 if result.exact else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 on a usage or input error (or a missing optional
        dependency, such as matplotlib for ``fit --report``).
    """
    arguments = _build_parser().parse_args(argv)
    runners = {
        "demo": lambda: _run_demo(arguments.seed),
        "fit": lambda: _run_fit(arguments),
        "predict": lambda: _run_predict(arguments),
        "show": lambda: _run_show(arguments),
    }
    try:
        return runners[arguments.command]()
    except (NaluSRError, ValueError, OSError, ImportError) as error:
        print(f"nalu-sr: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
