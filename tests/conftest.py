import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _fixed_global_seeds():
    """Keep tests that touch the global generators reproducible."""
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - the legacy global generator, reset for tests
    yield
