"""Fuzz model file loading: random and mutated files, timed one by one.

Every case is written to disk, loaded with ``NALURegressor.load`` and, when
it loads, evaluated with ``predict`` on a few rows. The script prints the
number of cases, the outcomes by exception type and the slowest case, the
figures quoted in docs/reliability.md::

    python -m benchmarks run fuzz --cases 3000 --seed 0

A formula that loads but cannot be evaluated at all ends ``predict`` with a
one-line ``ValueError`` (``cannot evaluate the formula ...``); that outcome
is counted apart from unexpected exceptions, and the command fails (exit
status 1) on any unexpected exception or any case over a second.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nalu_sr import NALURegressor

_NODE_KEYS = ["function", "args", "integer", "float", "symbol", "rational",
              "constant", "pair", "precision", "value"]  # fmt: skip
_FUNCTIONS = ["Add", "Mul", "Pow", "sin", "exp", "log", "Abs", "Piecewise",
              "Max", "And", "Equality", "eval", "Function"]  # fmt: skip
_HUGE = [10**9, 10**12, 10**100, -(10**9), 2**64, 10**300]


def base_document() -> dict[str, Any]:
    """A small valid model file: x0 / x1, as save writes it."""
    tree = {"function": "Mul", "args": [
        {"symbol": "x0"},
        {"function": "Pow", "args": [{"symbol": "x1"}, {"integer": "-1"}]},
    ]}  # fmt: skip
    entry = {"complexity": 3, "train_loss": 0.0, "validation_loss": 0.0,
             "architecture": "power", "width": 1, "seed": 0,
             "expression": tree, "chosen": True}  # fmt: skip
    return {"format": "nalu_sr-model", "format_version": 1,
            "nalu_sr_version": "0", "symbols": ["x0", "x1"],
            "feature_names_in": None, "params": {"tol": 1e-10},
            "expression": tree, "loss": 0.0, "exact": True, "n_iter": 1,
            "best_index": 0, "equations": [entry]}  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value biased towards node-like and oversized content."""
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([
            None, True, 0, 1, -1, 53, rng.choice(_HUGE), rng.random() * 1e308,
            float("nan"), "x0", "pi", "zoo", rng.choice(_FUNCTIONS),
            "9" * rng.choice([1, 300, 301, 5000]),
        ])  # fmt: skip
    if roll < 0.55:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return random_node(rng, depth + 1)


def random_node(rng: random.Random, depth: int = 0) -> Any:
    """A random formula node, valid or not."""
    kind = rng.choice(_NODE_KEYS[:8])
    if kind == "function" or depth == 0:
        node: dict[str, Any] = {"function": rng.choice(_FUNCTIONS)}
        node["args"] = [random_node(rng, depth + 1) if rng.random() < 0.7
                        else random_value(rng, depth + 1)
                        for _ in range(rng.randint(0, 3))]  # fmt: skip
    elif kind == "float":
        node = {"float": [rng.choice([0, 1, 2]), rng.choice([1, 3, 4, 10**20]),
                          rng.choice([0, -55, *_HUGE]), rng.choice([1, 2, 53])],
                "precision": rng.choice([53, 1024, 1025, *_HUGE])}  # fmt: skip
    else:
        node = {kind: random_value(rng, depth + 1)}
    if rng.random() < 0.1:
        node[rng.choice(_NODE_KEYS)] = random_value(rng, depth + 1)
    return node


def random_case(rng: random.Random) -> tuple[str, str]:
    """A label and the text of one model file."""
    document = base_document()
    roll = rng.random()
    if roll < 0.05:
        depth = rng.choice([33, 300, 3000])
        # Written as text: json.dumps itself cannot nest 3000 deep.
        tree = (
            '{"function": "sin", "args": [' * depth + '{"symbol": "x0"}' + "]}" * depth
        )
        text = json.dumps({**document, "expression": None})
        return "deep", text.replace('"expression": null', f'"expression": {tree}')
    if roll < 0.08:
        return "bytes", rng.choice(["[" * 100_000, "{" * 50, "", "nul\x00l", "1e999"])
    key = rng.choice([*document, "expression", "expression", "equations.0"])
    value = random_node(rng) if rng.random() < 0.7 else random_value(rng)
    if key == "equations.0":
        document["equations"][0]["expression"] = value
    else:
        document[key] = value
    return key, json.dumps(document)


DESCRIPTION = "fuzz model files: random and mutated files loaded and predicted"
#: Outcomes that are the documented behaviour; anything else fails the run.
EXPECTED = ("load: ModelFileError", "loaded, predicted", "loaded, predict: ValueError")
#: No case may take longer than this.
MAX_SECONDS = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the fuzz run."""
    parser.add_argument("--cases", type=int, help="cases to try (3000; quick 300)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    """Run the fuzz cases; 0 when every outcome is expected and fast."""
    cases = args.cases or (300 if getattr(args, "quick", False) else 3000)
    outcomes, slowest = fuzz(cases, args.seed)
    unexpected = sum(n for outcome, n in outcomes.items() if outcome not in EXPECTED)
    return 0 if unexpected == 0 and slowest <= MAX_SECONDS else 1


def fuzz(cases: int, seed: int) -> tuple[collections.Counter[str], float]:
    """Try ``cases`` files; print and return the outcomes and the slowest time."""
    rng = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    slowest = (0.0, "", "")
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        for _ in range(cases):
            label, text = random_case(rng)
            path.write_text(text)
            started = time.perf_counter()
            outcome = _attempt(path, X)
            elapsed = time.perf_counter() - started
            outcomes[outcome] += 1
            if elapsed > slowest[0]:
                slowest = (elapsed, label, text[:120])
    print(f"cases tried: {cases} (seed {seed})")
    for outcome, count in outcomes.most_common():
        print(f"  {count:6d}  {outcome}")
    print(f"slowest case: {slowest[0]:.3f} s, mutated {slowest[1]!r}: {slowest[2]}")
    return outcomes, slowest[0]


def _attempt(path: Path, X: np.ndarray) -> str:
    """Load and predict; name the outcome by exception type."""
    try:
        model = NALURegressor.load(path)
    except Exception as error:
        return f"load: {type(error).__name__}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.predict(X)
    except Exception as error:
        return f"loaded, predict: {type(error).__name__}"
    return "loaded, predicted"


def main() -> int:
    """Run from the script's own command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
