"""Measurements of unequal quality: ``sample_weight`` and rows left out.

A pendulum-like law, ``T = 2*pi*sqrt(L/g)`` with ``g`` varied, is measured by
two instruments: most rows have 0.1% noise, but a fifth come from a poor
instrument with 20% noise, and a few rows were mistyped. With
``sample_weight = 1 / sigma**2`` (the usual inverse-variance weights) and
weight zero for the mistyped rows, the law comes out exactly; without
weights the poor rows and the typos pull the search to an approximation.

Run it from the repository root (about 10-30 s on a 2-core CPU)::

    python examples/weighted_measurements.py
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from nalu_sr import NALURegressor, PoorFitWarning


def measurements(n_rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, Any, Any]:
    """Periods of pendulums of length ``L`` under gravity ``g``, with noise levels."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {"L": rng.uniform(0.5, 3, n_rows), "g": rng.uniform(2, 12, n_rows)}
    )
    period = 2 * np.pi * np.sqrt(data["L"] / data["g"])
    sigma = np.where(rng.random(n_rows) < 0.2, 0.2, 0.001) * period
    measured = period + rng.normal(0, 1, n_rows) * sigma
    mistyped = rng.random(n_rows) < 0.02
    measured[mistyped] *= 10  # a shifted decimal point
    weights = np.where(mistyped, 0.0, 1 / sigma**2)
    return data, measured.to_numpy(), weights


def main(max_time: float = 20.0) -> dict[str, Any]:
    """Fit with and without weights; print and return both formulas."""
    X, y, weights = measurements()
    results: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        for label, sample_weight in (("weighted", weights), ("unweighted", None)):
            model = NALURegressor(random_state=0, max_time=max_time)
            model.fit(X, y, sample_weight=sample_weight)
            results[label] = model.expression_
            print(f"{label:>10}: T = {model.expression_}  (loss {model.loss_:.2g})")
    return results


if __name__ == "__main__":
    main()
