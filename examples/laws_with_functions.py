"""Find laws with functions: a built-in (exp) and your own (softplus).

The default search tries sums of terms ``P(x) * u(a*g(x) + b)`` with ``u``
from the default primitives (exp, log, sin, cos, tanh, sqrt, inv), also under
``1/y``, ``log y`` and ``y**2``, once sums and products of powers do not fit.
A custom primitive from ``make_primitive`` takes part like a built-in. With
``max_time``, a second level searches over the functions found and the
inputs' exponentials: products and compositions of functions.

Run: ``python examples/laws_with_functions.py``
"""

import numpy as np
import sympy
import torch

from nalu_sr import DEFAULT_PRIMITIVES, NALURegressor, make_primitive


def main(n_rows: int = 500, seed: int = 0) -> dict[str, sympy.Expr]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(n_rows, 3))
    found = {}

    # Planck-like occupation 1/(exp(x0/x1) - 1): exp under the 1/y transform.
    y = 1 / (np.exp(X[:, 0] / X[:, 1]) - 1)
    model = NALURegressor(random_state=seed).fit(X[:, :2], y)
    print(f"1/(exp(x0/x1) - 1)  ->  {model.expression_}   exact: {model.exact_}")
    found["planck"] = model.expression_

    # A function that is not built in: softplus(x) = log(1 + exp(x)).
    softplus = make_primitive(
        name="softplus",
        arity=1,
        torch_fn=torch.nn.functional.softplus,
        sympy_fn=lambda x: sympy.log(1 + sympy.exp(x)),
    )
    y = X[:, 1] * np.log1p(np.exp(X[:, 0] - 2))
    model = NALURegressor(
        primitives=(*DEFAULT_PRIMITIVES, softplus), random_state=seed
    ).fit(X[:, :2], y)
    print(f"x1*softplus(x0 - 2) ->  {model.expression_}   exact: {model.exact_}")
    found["softplus"] = model.expression_

    # A product of two functions, on inputs with negatives: found by the
    # second level of the search, over the feature exp(x0), once max_time
    # lets the search go on past its first rounds.
    x = rng.uniform(-2, 2, size=(n_rows, 1))
    y = np.exp(-x[:, 0]) * np.sin(3 * x[:, 0])
    model = NALURegressor(max_time=30, random_state=seed).fit(x, y)
    print(f"exp(-x0)*sin(3*x0)  ->  {model.expression_}   exact: {model.exact_}")
    found["product"] = model.expression_
    return found


if __name__ == "__main__":
    main()
