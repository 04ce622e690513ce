import numpy as np
import pytest
import torch

# The test problems are tiny: thread start-up costs more than it saves, and
# CI machines have two cores shared with other jobs.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_global_seeds():
    """Keep tests that touch the global generators reproducible."""
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - the legacy global generator, reset for tests
    yield
