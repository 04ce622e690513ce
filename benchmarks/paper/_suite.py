"""Command line and resumable runs shared by the NALU-paper suites.

Every suite reads the same kind of options (seeds, models, fields of its
configuration that ``--quick`` shrinks), runs the tasks whose rows are not in
its CSV file yet, and reports on the stored rows of the requested tasks. The
static and recurrent suites share all of it through :class:`ArithmeticCommand`;
the MLP suite uses the pieces.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from benchmarks._common import ResultStore, parallel_map, progress, write_report
from benchmarks.paper._report import ArithmeticReport, Cells, Row
from benchmarks.paper._tasks import OPERATIONS, ArithmeticTask, ConfigT, task_fields

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DataclassT = TypeVar("DataclassT", bound="DataclassInstance")

#: Seeds per cell by default and with ``--quick`` (the same in every suite).
SEEDS, QUICK_SEEDS = 10, 3


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class ConfigOption:
    """A command-line option that overrides one field of a suite's configuration.

    The option is ``--field-name``; its help text ends with the field's value
    by default and with ``--quick``.
    """

    field: str
    type: Callable[[str], Any]
    help: str

    @property
    def flag(self) -> str:
        """The option as typed: ``--learning-rate`` for ``learning_rate``."""
        return "--" + self.field.replace("_", "-")

    def help_text(self, defaults: object, quick: object) -> str:
        """The help with the default and, if it differs, the quick value."""
        default = show_value(getattr(defaults, self.field))
        fast = show_value(getattr(quick, self.field))
        values = default if fast == default else f"{default}; quick {fast}"
        return f"{self.help} ({values})"


ITERATIONS = ConfigOption("iterations", int, "Adam iterations per run")
LEARNING_RATE = ConfigOption("learning_rate", float, "Adam learning rate")
RANDOM_INITS = ConfigOption("random_inits", int, "untrained networks per baseline")
SR_MAX_TIME = ConfigOption("sr_max_time", float, "NALURegressor budget, s")


def show_value(value: Any) -> str:
    """A value as help texts print it: ``1e-3`` as ``0.001``, ``60.0`` as ``60``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_suite_arguments(
    parser: argparse.ArgumentParser,
    options: Sequence[ConfigOption],
    defaults: object,
    quick: object,
    models: Iterable[str],
    seeds_per: str = "cell",
) -> None:
    """``--seeds``, one option per configuration field, and ``--models``."""
    parser.add_argument(
        "--seeds",
        type=int,
        help=f"seeds per {seeds_per} ({SEEDS}; quick {QUICK_SEEDS})",
    )
    for option in options:
        parser.add_argument(
            option.flag, type=option.type, help=option.help_text(defaults, quick)
        )
    parser.add_argument("--models", default=",".join(models), help="comma-separated")


def add_ops_argument(parser: argparse.ArgumentParser, quick_ops: Sequence[str]) -> None:
    """``--ops``: every operation by default, ``quick_ops`` with ``--quick``."""
    quick = ",".join(quick_ops)
    every = "all six" if quick == ",".join(OPERATIONS) else f"all six; quick {quick}"
    parser.add_argument("--ops", help=f"comma-separated ({every})")


def parse_csv_list(text: str, allowed: Iterable[str], what: str) -> list[str]:
    """Split a comma-separated option and check every entry is known."""
    allowed = list(allowed)
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise SystemExit(
            f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})"
        )
    return items


def resolve_config(
    args: argparse.Namespace,
    options: Sequence[ConfigOption],
    defaults: DataclassT,
    quick: DataclassT,
) -> DataclassT:
    """``quick`` or ``defaults`` (by ``--quick``), with the options given applied."""
    overrides = {
        option.field: getattr(args, option.field)
        for option in options
        if getattr(args, option.field)
    }
    return replace(quick if args.quick else defaults, **overrides)


def seed_count(args: argparse.Namespace) -> int:
    """Seeds per cell: ``--seeds``, else the default for ``--quick`` or not."""
    return int(args.seeds or (QUICK_SEEDS if args.quick else SEEDS))


def selected_models(args: argparse.Namespace, labels: Iterable[str]) -> list[str]:
    """The models named by ``--models``, checked against the suite's."""
    return parse_csv_list(args.models, labels, "model")


def selected_ops(args: argparse.Namespace, quick_ops: Sequence[str]) -> list[str]:
    """The operations named by ``--ops``; by default all, or ``quick_ops``."""
    text = args.ops or ",".join(quick_ops if args.quick else OPERATIONS)
    return parse_csv_list(text, OPERATIONS, "operation")


# ---------------------------------------------------------------- runs


def run_missing(
    store: ResultStore,
    tasks: Sequence[Any],
    function: Callable[[Any], dict[str, Any]],
    jobs: int,
    description: str,
) -> float | None:
    """Run the tasks whose rows are not stored yet; return the wall time.

    ``function(task)`` returns the task's row; each row is appended as soon
    as its run ends, so an interrupted suite resumes where it stopped.
    Returns ``None`` when nothing was left to run.
    """
    if not tasks:
        return None
    started = time.perf_counter()
    results = parallel_map(function, tasks, jobs)
    for row in progress(results, len(tasks), description):
        store.append(row)
    return time.perf_counter() - started


def key_text(row: Mapping[str, Any], key_fields: Sequence[str]) -> tuple[str, ...]:
    """A row's key as the store compares it: its key fields as strings."""
    return tuple(str(row.get(name, "")) for name in key_fields)


def run_tasks(
    args: argparse.Namespace,
    suite: str,
    key_fields: Sequence[str],
    tasks: Sequence[Any],
    run_task: Callable[[Any], dict[str, Any]],
) -> tuple[list[Row], float | None]:
    """Run the tasks not stored in ``<output>/<suite>.csv`` yet.

    A task's key is read by :func:`task_fields`. Returns the stored rows of
    every task (earlier and new, in file order) and the wall time of the new
    runs (``None`` when there were none).
    """
    store = ResultStore(Path(args.output) / f"{suite}.csv", key_fields)
    keys = [task_fields(task, key_fields) for task in tasks]
    missing = [
        task for task, key in zip(tasks, keys, strict=True) if not store.is_done(key)
    ]
    wall = run_missing(store, missing, run_task, args.jobs, suite)
    wanted = {key_text(key, key_fields) for key in keys}
    return [row for row in store.rows() if key_text(row, key_fields) in wanted], wall


def publish(args: argparse.Namespace, suite: str, report: str) -> None:
    """Print the report and write it to ``<output>/<suite>.md``."""
    print(report)
    write_report(Path(args.output) / f"{suite}.md", report)


# ---------------------------------------------------------------- arithmetic suites


@dataclass(frozen=True)
class ArithmeticCommand(Generic[ConfigT]):
    """The command line of an arithmetic-task suite (static or recurrent).

    Attributes
    ----------
    name : str
        Suite name; also the stem of its CSV and markdown files.
    key_fields : tuple of str
        Columns that identify a stored run (task fields, then config fields).
    labels : mapping
        Model name -> column label; all of them run by default.
    options : sequence of ConfigOption
        Configuration fields settable on the command line.
    defaults, quick : config
        The configuration without and with ``--quick``.
    quick_ops : sequence of str
        The operations run with ``--quick``.
    run_task : callable
        ``run_task(task)``: one run's CSV row; a module-level function, so
        that worker processes can import it.
    report : ArithmeticReport
        What the suite's report adds to the shared tables.
    """

    name: str
    key_fields: tuple[str, ...]
    labels: Mapping[str, str]
    options: Sequence[ConfigOption]
    defaults: ConfigT
    quick: ConfigT
    quick_ops: Sequence[str]
    run_task: Callable[[ArithmeticTask[ConfigT]], dict[str, Any]]
    report: ArithmeticReport[ConfigT]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The suite's options: seeds, configuration fields, models, operations."""
        add_suite_arguments(
            parser, self.options, self.defaults, self.quick, self.labels
        )
        add_ops_argument(parser, self.quick_ops)

    def tasks(
        self, config: ConfigT, seeds: int, ops: Sequence[str], models: Sequence[str]
    ) -> list[ArithmeticTask[ConfigT]]:
        """Every (seed, op, model) task, seeds outermost."""
        return [
            ArithmeticTask(op, model, seed, config)
            for seed, op, model in itertools.product(range(seeds), ops, models)
        ]

    def run(self, args: argparse.Namespace) -> int:
        """Run the missing cells, then print and write the report."""
        config = resolve_config(args, self.options, self.defaults, self.quick)
        seeds = seed_count(args)
        ops = selected_ops(args, self.quick_ops)
        models = selected_models(args, self.labels)
        tasks = self.tasks(config, seeds, ops, models)
        rows, wall = run_tasks(args, self.name, self.key_fields, tasks, self.run_task)
        cells = Cells(rows, ops, models, self.labels)
        report = self.report.build(cells, config, seeds, args.jobs, wall)
        publish(args, self.name, report)
        return 0
