import numpy as np
import pytest
import sympy
import torch

from nalu_sr import NALURegressor
from nalu_sr.architectures import ARCHITECTURES, BuildContext, data_driven_init_
from nalu_sr.units import NAU, NMU, RealNPU
from nalu_sr.wide import (
    EXACT_LOSS,
    MIN_FEATURES,
    find_sum_groups,
    rank_sum_powers,
    sum_power_starts,
)

# A smaller static task: 40 inputs U[1, 2]; a and b sum 10 inputs each and
# share 5 (Madsen & Johansen's subset and overlap ratios at a quarter of the width).
N_FEATURES = 40
A = np.arange(5, 15)
B = np.arange(10, 20)
LAWS = {
    "mul": (lambda a, b: a * b, ((A, 1.0), (B, 1.0))),
    "div": (lambda a, b: a / b, ((A, 1.0), (B, -1.0))),
    "square": (lambda a, b: a**2, ((A, 2.0),)),
    "root": (lambda a, b: np.sqrt(a), ((A, 0.5),)),
}


def _data(law, n_rows=400, seed=0):
    X = np.random.default_rng(seed).uniform(1, 2, size=(n_rows, N_FEATURES))
    function, _ = LAWS[law]
    return X, function(X[:, A].sum(axis=1), X[:, B].sum(axis=1))


def _as_pairs(start):
    for weights in start.sums:
        assert set(np.unique(weights)) <= {-1.0, 0.0, 1.0}
    return {
        (tuple(np.flatnonzero(weights)), exponent)
        for weights, exponent in zip(start.sums, start.exponents, strict=True)
    }


@pytest.mark.parametrize("law", sorted(LAWS))
def test_the_best_start_is_the_law(law):
    X, y = _data(law)
    best = sum_power_starts(X, y)[0]
    _, truth = LAWS[law]
    assert _as_pairs(best) == {(tuple(s), e) for s, e in truth}
    assert best.loss < 1e-12


def test_a_difference_of_sums_is_a_signed_sum():
    X, _ = _data("mul")
    c = X[:, 30:36].sum(axis=1)
    y = (X[:, A].sum(axis=1) - X[:, B].sum(axis=1)) * c
    best = sum_power_starts(X, y)[0]
    difference, other = sorted(best.sums, key=lambda w: -np.count_nonzero(w < 0))
    # a - b: the shared inputs cancel, the rest keep their signs (up to one sign)
    assert set(np.flatnonzero(difference)) == {5, 6, 7, 8, 9, 15, 16, 17, 18, 19}
    assert abs(difference[5:10].sum() - difference[15:20].sum()) == 10
    assert set(np.flatnonzero(other)) == set(range(30, 36))
    assert best.exponents == (1.0, 1.0)


def test_groups_are_the_classes_of_inputs_and_the_unused_ones_are_irrelevant():
    X, y = _data("mul")
    groups = find_sum_groups(X, y)
    assert groups is not None
    classes = np.zeros(N_FEATURES, dtype=int)
    classes[A] += 1
    classes[B] += 2
    for label in np.unique(groups.labels):
        assert len(set(classes[groups.labels == label])) == 1
    unused = groups.labels[0]
    assert unused not in groups.relevant
    assert len(groups.relevant) == 3


def test_starts_are_sorted_by_loss():
    X, y = _data("div")
    groups = find_sum_groups(X, y)
    keys = [
        float(f"{max(start.loss, EXACT_LOSS):.6g}")
        for start in rank_sum_powers(X, y, groups)
    ]
    assert keys == sorted(keys)


def test_equal_fits_prefer_the_shorter_sums_also_under_noise():
    # a / b = 1 + (a - b) / b: both fit, a / b has fewer inputs and no minus
    X, y = _data("div")
    noise = 1e-3 * np.std(y) * np.random.default_rng(1).standard_normal(len(y))
    for target in (y, y + noise):
        best = sum_power_starts(X, target)[0]
        assert _as_pairs(best) == {(tuple(A), 1.0), (tuple(B), -1.0)}


def test_narrow_data_are_left_to_the_small_law_initialisation():
    X = _data("mul")[0][:, : MIN_FEATURES - 1]
    assert sum_power_starts(X, X[:, 0] * X[:, 1:3].sum(axis=1)) == []


@pytest.mark.parametrize(
    "target",
    [
        lambda X: X @ np.linspace(1.0, 3.0, X.shape[1]),  # distinct coefficients
        lambda X: np.full(len(X), 2.0),  # constant
        lambda X: X[:, 0] * X[:, 1] + X[:, 2] / X[:, 3],  # a small law
    ],
)
def test_no_sums_no_starts(target):
    X, _ = _data("mul")
    assert sum_power_starts(X, target(X)) == []


def test_non_finite_data_give_no_starts():
    X, y = _data("mul")
    y[3] = np.nan
    assert sum_power_starts(X, y) == []


@pytest.mark.parametrize(
    ("name", "second"), [("sum-power", RealNPU), ("sum-product", NMU)]
)
def test_sum_bodies_start_exactly_on_the_sums(name, second):
    X, y = _data("mul")
    context = BuildContext(N_FEATURES, 2, torch.Generator().manual_seed(0))
    body = ARCHITECTURES[name].build(context).double()
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    data_driven_init_(body, name, X_t, y_t, restart=0)
    first, product = body.arithmetic_units()
    assert isinstance(first, NAU)
    assert isinstance(product, second)
    rows = {tuple(np.flatnonzero(row.detach().numpy())) for row in first.weight}
    assert rows == {tuple(A), tuple(B)}
    with torch.no_grad():
        hidden = body(X_t)[:, 0]
    assert torch.allclose(hidden, y_t, rtol=1e-10)


def test_sum_product_skips_powers_it_cannot_express():
    X, y = _data("div")  # the best start, a / b, has a power -1: not an NMU's
    context = BuildContext(N_FEATURES, 2, torch.Generator().manual_seed(0))
    body = ARCHITECTURES["sum-product"].build(context).double()
    data_driven_init_(body, "sum-product", torch.as_tensor(X), torch.as_tensor(y), 0)
    _, product = body.arithmetic_units()
    assert set(np.unique(product.weight.detach().numpy())) <= {0.0, 1.0}


@pytest.mark.parametrize("law", ["mul", "div"])
def test_the_regressor_finds_a_product_or_ratio_of_wide_sums(law):
    X, y = _data(law, n_rows=500)
    found = NALURegressor(random_state=0).fit(X, y).expression_
    symbols = sympy.symbols(f"x0:{N_FEATURES}")
    found = found.subs({s: symbols[int(s.name[1:])] for s in found.free_symbols})
    a, b = sum(symbols[i] for i in A), sum(symbols[i] for i in B)
    truth = a * b if law == "mul" else a / b
    assert sympy.simplify(found - truth) == 0
