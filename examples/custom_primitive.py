"""Add your own primitive function and let the attention unit choose it.

``make_primitive`` checks a custom function on creation (arity, output shape,
finite values and gradients on zeros, negatives and large inputs, agreement of
its torch and SymPy versions), then ``NALURegressor`` with the ``"attention"``
architecture attends over it next to built-ins.

Run: ``python examples/custom_primitive.py``
"""

import numpy as np
import sympy
import torch

from nalu_sr import NALURegressor, PrimitiveError, make_primitive


def safe_sinh(x: torch.Tensor) -> torch.Tensor:
    """sinh with its argument clamped, so training never overflows."""
    return torch.sinh(x.clamp(-20.0, 20.0))


def main(n_rows: int = 300, seed: int = 0) -> sympy.Expr:
    sinh = make_primitive(
        name="sinh",
        arity=1,
        torch_fn=torch.sinh,
        sympy_fn=sympy.sinh,
        safe_torch_fn=safe_sinh,
        complexity=3,
    )
    try:  # a broken primitive is refused with the failed check named
        make_primitive(name="bad", arity=1, torch_fn=torch.sin, sympy_fn=sympy.cos)
    except PrimitiveError as error:
        print(f"refused: {error}")

    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n_rows, 2))
    y = 3 * np.sinh(X[:, 0] - X[:, 1]) + 1
    model = NALURegressor(
        architectures=("attention",),
        primitives=("identity", "sin", sinh),
        random_state=seed,
    ).fit(X, y)
    print(f"found: {model.expression_}")
    return model.expression_


if __name__ == "__main__":
    main()
