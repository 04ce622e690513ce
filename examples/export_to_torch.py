"""Export a found formula to torch and fine-tune its constants on new data.

A formula with float constants (constants nalu_sr could not identify as
simple exact numbers) becomes a ``torch.nn.Module`` whose constants
are trainable parameters (exact numbers stay exact); after fitting,
``module.sympy()`` reads the updated formula back.

Run: ``python examples/export_to_torch.py``
"""

import numpy as np
import torch

from nalu_sr import NALURegressor


def main(n_rows: int = 400, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, size=(n_rows, 2))
    y = 1.734 * X[:, 0] * X[:, 1] + 0.312  # not simple numbers: they stay floats
    model = NALURegressor(random_state=seed).fit(X, y)
    print(f"found:      {model.expression_}")

    # New measurements from a slightly different system: refit the constants only.
    y_new = 1.75 * X[:, 0] * X[:, 1] + 0.2
    module = model.to_torch()
    inputs, targets = torch.as_tensor(X), torch.as_tensor(y_new)
    optimizer = torch.optim.LBFGS(module.parameters(), line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.mean((module(inputs) - targets) ** 2)
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    tuned = module.sympy()
    print(f"fine-tuned: {tuned}")
    return {"found": model.expression_, "tuned": tuned}


if __name__ == "__main__":
    main()
