"""The ``nalu-sr`` command line: fit a CSV file, predict, show a model, demo.

The commands only call the public API. Errors a user can cause (a missing
file, an unknown column, a bad model file) print one line and exit with 2;
Ctrl-C prints one line and exits with 130.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nalu_sr._equations import formula_text, table_rows
from nalu_sr._version import __version__
from nalu_sr.exceptions import NaluSRError

if TYPE_CHECKING:
    from nalu_sr.estimator import NALURegressor

#: Exit status after Ctrl-C, as shells report a process ended by SIGINT.
EXIT_INTERRUPTED = 130
#: Exit status when stdout's reader went away, as shells report SIGPIPE.
EXIT_BROKEN_PIPE = 141
INTERRUPTED_MESSAGE = "interrupted: the best formula found so far was kept"


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
    fit.add_argument(
        "--target",
        required=True,
        help="column to explain; several, comma-separated (a,b), give one formula each",
    )
    fit.add_argument(
        "--weight",
        metavar="COLUMN",
        default=None,
        help="column of non-negative row weights (sample_weight); not a feature",
    )
    _add_sep(fit)
    fit.add_argument("--output", default="model.json", help="model file to write")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument("--restarts", type=int, default=3, help="runs per family/width")
    fit.add_argument("--max-time", type=float, default=None, help="budget in seconds")
    fit.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="candidate trainings at once (-1: all cores)",
    )
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
    _add_sep(predict)
    show = commands.add_parser("show", help="print a model's formula and candidates")
    show.add_argument("model", help="model file written by 'fit'")
    return parser


def _add_sep(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--sep",
        default=None,
        help="column separator (default: detected among comma, semicolon, tab)",
    )


def read_csv(
    path: str | Path,
    sep: str | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[list[str], np.ndarray]:
    """Read a numeric CSV file with a header row.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    sep : str or None, default=None
        The column separator; ``None`` detects a comma, semicolon or tab from
        the header row.
    columns : sequence of str or None, default=None
        Only these columns are read (other columns may hold anything); ``None``
        reads them all.

    Returns
    -------
    (list of str, numpy.ndarray)
        Column names and the values, shape ``(n_rows, n_columns)``: all the
        header's names, with the values of the columns read (the others NaN).

    Raises
    ------
    ValueError
        Naming the row and column of the first value that is not a finite
        number, or saying that the file has no data rows.
    """
    with open(path, newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        rows = list(csv.reader(handle, delimiter=sep or _detect_sep(first)))
    if not rows:
        raise ValueError(f"{path} is empty")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if not body:
        raise ValueError(f"{path} has a header row but no data rows")
    wanted = header if columns is None else list(columns)
    values = np.full((len(body), len(header)), np.nan)
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {i}: {len(row)} fields, expected {len(header)}"
            )
        for j in (header.index(name) for name in wanted):
            values[i - 2, j] = _number(
                row[j], f"{path}, line {i}, column {header[j]!r}"
            )
    return header, values


def _detect_sep(header_line: str) -> str:
    """Pick the separator the header row uses most: comma, semicolon or tab."""
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _number(field: str, where: str) -> float:
    """Parse one field as a finite float, naming ``where`` if it is not one."""
    try:
        value = float(field)
    except ValueError:
        raise ValueError(f"{where}: {field!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{where}: {field!r} is not a finite number")
    return value


def _column(name: str, header: list[str], path: str) -> int:
    """Index of column ``name``, or an error suggesting the nearest name."""
    if name in header:
        return header.index(name)
    close = difflib.get_close_matches(name, header, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {header}"
    raise ValueError(f"no column {name!r} in {path}{hint}")


def _check_output(output: str, inputs: Sequence[str]) -> None:
    """Refuse an output path that cannot be written, before a long fit."""
    target = Path(output)
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {output}: no folder {str(folder)!r}")
    if target.is_dir():
        raise ValueError(f"cannot write {output}: it is a folder")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {output}: the folder is not writable")
    for source in inputs:
        if target.resolve() == Path(source).resolve():
            raise ValueError(f"--output {output} would overwrite the input file")


def _run_fit(arguments: argparse.Namespace) -> int:
    if arguments.report is not None:
        from nalu_sr.plotting import require_matplotlib

        require_matplotlib()  # before the fit, not after it
    _check_output(arguments.output, [arguments.data])
    header, values = read_csv(arguments.data, arguments.sep)
    names = target_names(arguments.target)
    targets = [_column(name, header, arguments.data) for name in names]
    y = values[:, targets[0]] if len(targets) == 1 else values[:, targets]
    weights = None
    if arguments.weight is not None:
        weights = values[:, _column(arguments.weight, header, arguments.data)]
    left_out = {*names, arguments.weight}
    features = [name for name in header if name not in left_out]
    X = _frame_or_array(values[:, [header.index(f) for f in features]], features)
    model, interrupted = _fit(_fit_params(arguments), X, y, weights)
    # Printed before saving, so that a failed save never loses the formula.
    _print_model(model, names)
    model.save(arguments.output)
    print(f"model written to {arguments.output}")
    if interrupted:
        print(f"nalu-sr: {INTERRUPTED_MESSAGE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if arguments.report is not None:
        from nalu_sr.plotting import write_report

        if len(names) == 1:
            report = write_report(model, X, y, arguments.report)
            print(f"report written to {report}")
            return 0
        for k, (name, output) in enumerate(zip(names, model.estimators_, strict=True)):
            report = write_report(output, X, y[:, k], Path(arguments.report) / name)
            print(f"report on {name} written to {report}")
    return 0


def target_names(argument: str) -> list[str]:
    """Split ``--target a,b`` into column names; refuse empty or repeated ones.

    Parameters
    ----------
    argument : str
        The value of ``--target``.

    Returns
    -------
    list of str
        The target columns, in the order given.

    Raises
    ------
    ValueError
        If a name is empty or given twice.
    """
    names = [name.strip() for name in argument.split(",")]
    if not all(names):
        raise ValueError(f"--target {argument!r} has an empty column name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"--target names {repeated[0]!r} more than once")
    return names


def _fit_params(arguments: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {
        "random_state": arguments.seed,
        "n_restarts": arguments.restarts,
        "max_time": arguments.max_time,
        "n_jobs": arguments.jobs,
        # The progress line; it draws only where stderr is a terminal.
        "verbose": 1,
    }
    if arguments.architectures:
        params["architectures"] = tuple(arguments.architectures)
    if arguments.primitives:
        params["primitives"] = tuple(arguments.primitives)
    return params


def _fit(
    params: dict[str, Any], X: object, y: np.ndarray, weights: np.ndarray | None
) -> tuple[NALURegressor, bool]:
    """Fit, turning the estimator's warnings into one line each on stderr.

    Returns the model and whether Ctrl-C ended its search early.
    """
    from nalu_sr.estimator import NALURegressor

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = NALURegressor(**params).fit(X, y, sample_weight=weights)
    interrupted = False
    for warning in caught:
        if str(warning.message).startswith("search interrupted"):
            interrupted = True
        else:
            print(f"nalu-sr: warning: {warning.message}", file=sys.stderr)
    return model, interrupted


def _frame_or_array(values: np.ndarray, names: list[str]) -> object:
    """Wrap values in a DataFrame (for named symbols) when pandas is installed."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return values
    return pd.DataFrame(values, columns=names)


def _print_model(model: NALURegressor, names: Sequence[str] | None = None) -> None:
    """Print each target's formula and candidates (a heading per target)."""
    outputs = getattr(model, "estimators_", None)
    if outputs is None:
        _print_formulas(model)
        return
    for k, output in enumerate(outputs):
        name = f"target {k}" if names is None else names[k]
        print(f"{name}:")
        _print_formulas(output)


def _print_formulas(model: NALURegressor) -> None:
    print(f"formula: {formula_text(model.expression_, model.exact_)}")
    verdict = "exact" if model.exact_ else "approximate"
    print(f"relative validation error: {model.loss_:.3g} ({verdict})")
    print("candidates (complexity, validation error, formula):")
    for row in table_rows(model.equations_):
        mark = "*" if row["chosen"] else " "
        print(f" {mark} {row['complexity']:4d}  {row['loss']:10.3g}  {row['equation']}")


def _run_predict(arguments: argparse.Namespace) -> int:
    from nalu_sr.estimator import NALURegressor

    model = NALURegressor.load(arguments.model)
    names = [str(n) for n in getattr(model, "feature_names_in_", [])] or [
        s.name for s in model.feature_symbols_
    ]
    header, values = read_csv(arguments.data, arguments.sep, columns=())
    missing = [name for name in names if name not in header]
    if missing:
        raise ValueError(f"{arguments.data} lacks the model's columns {missing}")
    # Only the model's columns are parsed: the others may hold anything.
    header, values = read_csv(arguments.data, arguments.sep, columns=names)
    X = _frame_or_array(values[:, [header.index(n) for n in names]], names)
    try:
        predictions = model.predict(X)
    except (ArithmeticError, KeyError, TypeError) as error:
        raise ValueError(f"cannot evaluate the model's formula: {error!r}") from error
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if predictions.ndim == 1:
        writer.writerow(["prediction"])
        writer.writerows([[repr(float(v))] for v in predictions])
        return 0
    writer.writerow([f"prediction_{k}" for k in range(predictions.shape[1])])
    writer.writerows([[repr(float(v)) for v in row] for row in predictions])
    return 0


def _run_show(arguments: argparse.Namespace) -> int:
    from nalu_sr.estimator import NALURegressor

    model = NALURegressor.load(arguments.model)
    _print_model(model)
    latex = model.latex()
    print(f"latex: {latex if isinstance(latex, str) else '; '.join(latex)}")
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
        dependency, such as matplotlib for ``fit --report``), 130 after
        Ctrl-C (``fit`` first writes the best model found so far), 141 when
        the reader of stdout went away (a pipe into ``head``), silently.
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
    except BrokenPipeError:
        # The reader left (``nalu-sr predict ... | head``): stop quietly.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (NaluSRError, ValueError, OSError, ImportError) as error:
        print(f"nalu-sr: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nalu-sr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
