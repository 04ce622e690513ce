"""The ``nalu-sr`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nalu_sr import __version__
from nalu_sr.exceptions import NaluSRError


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
    return parser


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
        0 on success.
    """
    arguments = _build_parser().parse_args(argv)
    try:
        if arguments.command == "demo":
            return _run_demo(arguments.seed)
    except (NaluSRError, ValueError, OSError) as error:
        print(f"nalu-sr: error: {error}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
