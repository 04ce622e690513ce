"""Physical units: a law found over its dimensionless groups (Buckingham pi).

The relativistic energy ``E = m*c**2/sqrt(1 - v**2/c**2)`` of a mass ``m`` at
speed ``v`` (``c`` the speed of light, varied here as AI Feynman's data do)
is searched twice with the same budget: with the columns' SI units, the fit
searches ``E / (m*c**2)`` as a function of the one group ``v/c`` and finds
the law; without units it searches over the three inputs.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from nalu_sr import NALURegressor

UNITS = {"X_units": ["kg", "m/s", "m/s"], "y_units": "J"}


def relativistic_energy(
    n_rows: int = 500, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Masses in U(1, 5), speeds in U(1, 2), light speeds in U(3, 10)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"m": rng.uniform(1, 5, n_rows), "v": rng.uniform(1, 2, n_rows),
         "c": rng.uniform(3, 10, n_rows)}
    )  # fmt: skip
    y = X["m"] * X["c"] ** 2 / np.sqrt(1 - X["v"] ** 2 / X["c"] ** 2)
    return X, y.to_numpy()


def fit(X: pd.DataFrame, y: np.ndarray, max_time: float | None, units: bool) -> dict:
    """Fit with or without units; return the formula, exact_ and seconds."""
    model = NALURegressor(max_time=max_time, random_state=0)
    started = time.perf_counter()
    model.fit(X, y, **(UNITS if units else {}))
    return {
        "formula": model.expression_,
        "exact": bool(model.exact_),
        "seconds": time.perf_counter() - started,
    }


def main(max_time: float | None = 20.0, compare: bool = True) -> dict:
    """Fit with units (and, with ``compare``, without); print both."""
    X, y = relativistic_energy()
    results = {"with_units": fit(X, y, max_time, units=True)}
    if compare:
        results["without_units"] = fit(X, y, max_time, units=False)
    for name, found in results.items():
        print(
            f"{name:>13}: E = {found['formula']}  (exact: {found['exact']}, "
            f"{found['seconds']:.1f} s)"
        )
    return results


if __name__ == "__main__":
    main()
