"""NALURegressor inside a scikit-learn Pipeline, on a pandas DataFrame.

A table of measurements has physical column names (``mass``, ``velocity``), a
categorical column (``material``) and a column the law does not use
(``temperature``). A ``ColumnTransformer`` keeps only the two physical columns
and passes them on as a DataFrame, so ``NALURegressor`` names the formula's
symbols after them and recovers the kinetic energy ``mass*velocity**2/2``.

The script then does what any scikit-learn regressor allows:

* ``cross_val_score`` (R^2 on each held-out fold);
* ``GridSearchCV`` over a parameter of the regressor inside the pipeline
  (here the body families it searches);
* ``predict`` on new rows, far outside the training range, given as a
  DataFrame with every column (the pipeline drops the ones it does not use).

Run it from the repository root (10-20 s on a 2-core CPU)::

    python examples/pipeline_dataframe.py
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline

from nalu_sr import NALURegressor, PoorFitWarning

PHYSICAL_COLUMNS = ["mass", "velocity"]


def measurements(
    n_rows: int, rng: np.random.Generator, scale: float = 1.0
) -> pd.DataFrame:
    """A table of moving bodies; ``scale`` stretches mass and velocity."""
    mass = scale * rng.uniform(0.5, 5.0, n_rows)  # kg
    velocity = scale * rng.uniform(1.0, 10.0, n_rows)  # m/s
    return pd.DataFrame(
        {
            "material": rng.choice(["steel", "wood", "glass"], n_rows),
            "mass": mass,
            "temperature": rng.uniform(270.0, 310.0, n_rows),  # K, not in the law
            "velocity": velocity,
            "kinetic_energy": 0.5 * mass * velocity**2,  # J
        }
    )


def make_pipeline(seed: int, n_restarts: int, max_iter: int) -> Pipeline:
    """Select the physical columns by name, then search for a formula."""
    select = ColumnTransformer(
        [("physical", "passthrough", PHYSICAL_COLUMNS)],
        remainder="drop",  # material and temperature
        verbose_feature_names_out=False,  # "mass", not "physical__mass"
    ).set_output(transform="pandas")  # a DataFrame keeps the column names
    regressor = NALURegressor(
        n_restarts=n_restarts, max_iter=max_iter, random_state=seed
    )
    return Pipeline([("select", select), ("nalu", regressor)])


def main(
    n_rows: int = 300, n_restarts: int = 3, max_iter: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Fit, cross-validate, grid-search and predict; print and return results.

    Parameters
    ----------
    n_rows : int, default=300
        Rows of the training table.
    n_restarts, max_iter : int, default=3, 200
        Training runs per body family and width, and optimiser steps per run,
        of ``NALURegressor``.
    seed : int, default=0
        Seeds the data, the folds and the regressor.

    Returns
    -------
    dict
        ``formula`` (SymPy), ``symbols`` (their names), ``cv_scores``,
        ``best_params``, ``predictions`` and ``truth`` on the new rows, and
        ``max_relative_error`` of those predictions.
    """
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    data = measurements(n_rows, rng)
    X, y = data.drop(columns="kinetic_energy"), data["kinetic_energy"]
    print(data.head(3).to_string(index=False), "\n")

    pipeline = make_pipeline(seed, n_restarts, max_iter).fit(X, y)
    regressor = pipeline.named_steps["nalu"]
    print(f"features seen by the regressor: {list(regressor.feature_names_in_)}")
    print(f"formula: kinetic_energy = {regressor.expression_}")
    print(f"LaTeX:   {regressor.latex()}\n")

    folds = KFold(n_splits=3, shuffle=True, random_state=seed)
    scores = cross_val_score(make_pipeline(seed, n_restarts, max_iter), X, y, cv=folds)
    print(f"3-fold cross-validated R^2: {np.round(scores, 6)}")

    # NAU -> NMU of width 2 multiplies two sums: mass*velocity at best, not
    # mass*velocity**2. It warns on every fold that no formula fits well.
    search = GridSearchCV(
        make_pipeline(seed, n_restarts, max_iter),
        {"nalu__architectures": [("sum-product",), ("power",)]},
        cv=folds,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorFitWarning)
        search.fit(X, y)
    print(f"grid search: best {search.best_params_}, R^2 {search.best_score_:.6f}")
    for params, score in zip(
        search.cv_results_["params"],
        search.cv_results_["mean_test_score"],
        strict=True,
    ):
        print(f"  {params['nalu__architectures']}: mean R^2 {score:.6f}")

    new = measurements(5, rng, scale=10.0)  # masses up to 50 kg, speeds to 100 m/s
    predictions = pipeline.predict(new.drop(columns="kinetic_energy"))
    truth = new["kinetic_energy"].to_numpy()
    report = new[PHYSICAL_COLUMNS].assign(predicted=predictions, true=truth)
    print(f"\nnew rows, 10 times the training range:\n{report.to_string(index=False)}")
    return {
        "formula": regressor.expression_,
        "symbols": sorted(s.name for s in regressor.expression_.free_symbols),
        "cv_scores": scores,
        "best_params": search.best_params_,
        "predictions": predictions,
        "truth": truth,
        "max_relative_error": float(np.max(np.abs(predictions - truth) / truth)),
    }


if __name__ == "__main__":
    main()
