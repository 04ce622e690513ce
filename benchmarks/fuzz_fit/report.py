"""The verdict on fuzz results: defects, the summary table and the report."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from benchmarks._common import markdown_table
from benchmarks.fuzz_fit.cases import Case

#: A fit may run this long past ``max_time`` before it counts as an overrun.
OVERRUN_SLACK = 3.0
#: Peak resident memory of a fit's process above this is a defect (2 GiB).
MEMORY_LIMIT_MIB = 2048.0
#: An exact fit off the law by more than this on fresh rows is a false claim.
FALSE_EXACT_ERROR = 1e-6


def defects(case: Case, result: dict[str, Any], max_time: float) -> list[str]:
    """The defects of one result: overrun, memory, traceback, nan, false-exact.

    Parameters
    ----------
    case : Case
        The case.
    result : dict
        Its result from :func:`fit_case` or :func:`run_cases`.
    max_time : float
        The fit's ``max_time``.

    Returns
    -------
    list of str
        Empty when the outcome is the documented behaviour.
    """
    found = []
    fit_s = result.get("fit_s")
    if result["outcome"] == "killed" or (fit_s or 0.0) > max_time + OVERRUN_SLACK:
        found.append("overrun")
    if result["outcome"] == "memory-killed" or result["peak_mib"] > MEMORY_LIMIT_MIB:
        found.append("memory")
    errored = result["outcome"] in ("error", "predict-error", "harness-error")
    clear = bool(result.get("refusal") and result.get("one_line"))
    # A refusal of a planted NaN in several lines is a "nan" defect only.
    refused_nan = bool(case.corrupt and result["outcome"] == "error")
    if result["outcome"] == "crashed" or (errored and not clear):
        if not (refused_nan and result.get("refusal")):
            found.append("traceback")
    # A skipped case lost every row (with its planted value) before the fit.
    if case.corrupt and result["outcome"] not in ("killed", "memory-killed", "skipped"):
        message = str(result.get("message", "")).lower()
        named = any(word in message for word in ("nan", "inf", "finite"))
        if not (refused_nan and clear and named):
            found.append("nan")
    if result.get("fresh_error", 0.0) > FALSE_EXACT_ERROR:
        found.append("false-exact")
    return found


def summary_table(
    cases: Sequence[Case], results: Sequence[dict[str, Any]], max_time: float
) -> str:
    """The markdown table of a run: counts of outcomes and defects, maxima.

    Parameters
    ----------
    cases : sequence of Case
        The cases, in the order of ``results``.
    results : sequence of dict
        Their results.
    max_time : float
        The fits' ``max_time``.

    Returns
    -------
    str
        A one-row markdown table.
    """
    kinds = collections.Counter(
        kind for c, r in zip(cases, results, strict=True)
        for kind in defects(c, r, max_time)
    )  # fmt: skip
    outcomes = collections.Counter(r["outcome"] for r in results)
    refused = sum(
        r["outcome"] == "error" and bool(r.get("refusal") and r.get("one_line"))
        for r in results
    )
    headers = ["cases", "fitted", "refused", "skipped", "overruns",
               "memory over limit", "tracebacks", "NaN/inf not refused",
               "exact", "false exact",
               "max seconds", "max peak MiB"]  # fmt: skip
    row = [len(results), outcomes["fitted"], refused,
           outcomes["skipped"], kinds["overrun"], kinds["memory"],
           kinds["traceback"], kinds["nan"],
           sum(bool(r.get("exact")) for r in results), kinds["false-exact"],
           max((r["fit_s"] or 0.0 for r in results), default=0.0),
           max((r["peak_mib"] for r in results), default=0.0)]  # fmt: skip
    return markdown_table(headers, [row])


def _signature(kind: str, result: dict[str, Any]) -> str:
    """What makes two defects the same: kind, exception and innermost frame."""
    if kind in ("overrun", "memory", "false-exact"):
        return kind
    frame = (result.get("frames") or ["?"])[-1]
    what = result.get("error_type", result["outcome"])
    first = (str(result.get("message") or "").splitlines() or [""])[0][:100]
    return f"{kind}: {what} at {frame}" + (f": {first}" if kind == "nan" else "")


def defect_report(
    cases: Sequence[Case], results: Sequence[dict[str, Any]], max_time: float
) -> str:
    """Every defect, grouped by signature, each with its case's description.

    Parameters
    ----------
    cases : sequence of Case
        The cases, in the order of ``results``.
    results : sequence of dict
        Their results.
    max_time : float
        The fits' ``max_time``.

    Returns
    -------
    str
        Markdown: one heading a defect kind and one item a case.
    """
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for case, result in zip(cases, results, strict=True):
        for kind in defects(case, result, max_time):
            message = str(result.get("message", "")).splitlines()
            if len(message) > 1:
                message[0] += f" (and {len(message) - 1} more lines)"
            seconds = f"{result['fit_s']:.1f} s" if result["fit_s"] is not None else "?"
            detail = (
                f"{seconds}, {result['peak_mib']:.0f} MiB, "
                f"{result['outcome']}: {message[0][:160] if message else ''}"
            )
            if kind == "false-exact":
                detail += (f"fresh error {result['fresh_error']:.2g}: "
                           f"`{result['expression']}`")  # fmt: skip
            frames = " <- ".join(reversed(result.get("frames") or []))
            where = f"\n  - at {frames}" if frames else ""
            groups[_signature(kind, result)].append(
                f"- {case.describe()}\n  - {detail}{where}"
            )
    if not groups:
        return "No defects.\n"
    parts = []
    for signature, items in sorted(groups.items(), key=lambda g: -len(g[1])):
        parts.append(f"### {signature} ({len(items)} cases)\n\n" + "\n".join(items))
    return "\n\n".join(parts) + "\n"


def refusal_report(cases: Sequence[Case], results: Sequence[dict[str, Any]]) -> str:
    """The one-line refusals of clean cases, grouped by message (not defects).

    Parameters
    ----------
    cases : sequence of Case
        The cases, in the order of ``results``.
    results : sequence of dict
        Their results.

    Returns
    -------
    str
        Markdown items: count, exception, innermost frame and a first case.
    """
    groups: dict[str, list[Case]] = collections.defaultdict(list)
    for case, result in zip(cases, results, strict=True):
        refused = result.get("refusal") and result.get("one_line")
        if result["outcome"] == "error" and refused and not case.corrupt:
            frame = (result.get("frames") or ["?"])[-1]
            key = f"{result['error_type']}: {result['message'][:140]} (at {frame})"
            groups[key].append(case)
    return "".join(
        f"- {len(found)} x {key}; first: {found[0].describe()}\n"
        for key, found in sorted(groups.items(), key=lambda g: -len(g[1]))
    )


def nonfinite_report(cases: Sequence[Case], results: Sequence[dict[str, Any]]) -> str:
    """Fitted formulas not finite on some of their own training rows (not defects).

    Parameters
    ----------
    cases : sequence of Case
        The cases, in the order of ``results``.
    results : sequence of dict
        Their results.

    Returns
    -------
    str
        Markdown items: the case, the rows and the formula.
    """
    return "".join(
        f"- {case.describe()}\n  - {result['nonfinite_predictions']} of "
        f"{result['rows_used']} rows: `{result['expression']}`\n"
        for case, result in zip(cases, results, strict=True)
        if result.get("nonfinite_predictions")
    )


def report_text(
    seed: int, cases: Sequence[Case], results: Sequence[dict[str, Any]], max_time: float
) -> str:
    """The markdown report of a run: table, defects, refusals, non-finite fits.

    Parameters
    ----------
    seed : int
        The run's seed.
    cases : sequence of Case
        The finished cases, in the order of ``results``.
    results : sequence of dict
        Their results.
    max_time : float
        The fits' ``max_time``.

    Returns
    -------
    str
    """
    return (
        f"# Fuzzing fit: {len(cases)} cases, seed {seed}, max_time {max_time:g} s\n\n"
        f"{summary_table(cases, results, max_time)}\n## Defects\n\n"
        f"{defect_report(cases, results, max_time)}\n"
        "## Refusals of clean data (not defects)\n\n"
        f"{refusal_report(cases, results) or 'None.'}\n\n"
        "## Formulas not finite on their own training rows (not defects)\n\n"
        f"{nonfinite_report(cases, results) or 'None.'}\n"
    )
