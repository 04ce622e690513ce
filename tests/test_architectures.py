import pytest
import torch

from nalu_sr.architectures import (
    _MAX_FEATURES_FOR_PAIRS,
    ARCHITECTURES,
    DEFAULT_ARCHITECTURES,
    FAMILY_NAMES,
    FUNCTIONS,
    BuildContext,
    _term_dictionary,
    data_driven_init_,
)
from nalu_sr.primitives import resolve_primitives
from nalu_sr.units import NALU, NAU, NMU, PrimitiveAttention, RealNPU


def _context(n_features=3, width=2, seed=0, primitives=None):
    generator = torch.Generator().manual_seed(seed)
    return BuildContext(n_features, width, generator, primitives)


# Unit types and output width of each family for 3 inputs and width 2.
SHAPES = {
    "power": ([RealNPU], 2),
    "sum-power": ([NAU, RealNPU], 1),
    "sum-product": ([NAU, NMU], 1),
    "nalu": ([NALU, NALU], 1),
    "attention": ([PrimitiveAttention], 2),
}


def test_every_architecture_has_its_shape_listed():
    assert set(SHAPES) == set(ARCHITECTURES)
    assert set(DEFAULT_ARCHITECTURES) <= set(FAMILY_NAMES)
    assert set(FAMILY_NAMES) == {*ARCHITECTURES, FUNCTIONS}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_builders_make_bodies_of_the_documented_shape(name):
    body = ARCHITECTURES[name].build(_context())
    units, out_features = SHAPES[name]
    assert [type(u) for u in body.arithmetic_units()] == units
    assert body.arithmetic_units()[0].in_features == 3
    assert body(1 + torch.rand(5, 3)).shape == (5, out_features)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_builders_draw_only_from_the_context_generator(name):
    first = ARCHITECTURES[name].build(_context(seed=4)).state_dict()
    second = ARCHITECTURES[name].build(_context(seed=4)).state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_attention_uses_the_context_primitives():
    primitives = resolve_primitives(("add", "mul"))
    body = ARCHITECTURES["attention"].build(_context(primitives=primitives))
    (unit,) = body.arithmetic_units()
    assert unit.primitives == primitives


def test_power_units_start_with_every_input_relevant():
    for name in ("power", "sum-power"):
        unit = ARCHITECTURES[name].build(_context()).arithmetic_units()[-1]
        assert torch.equal(unit.gate.detach(), torch.ones_like(unit.gate))


def test_power_init_finds_the_exponents_of_a_single_monomial():
    X = 1 + 4 * torch.rand(100, 3, generator=torch.Generator().manual_seed(1))
    X = X.double()
    y = 0.5 * X[:, 0] ** 2 * X[:, 1] ** -1.5 * X[:, 2] ** 0.5
    body = ARCHITECTURES["power"].build(_context(width=1)).double()
    data_driven_init_(body, "power", X, y, restart=0)
    (unit,) = body.arithmetic_units()
    weights = unit.real_weight.detach()
    assert weights.tolist()[0] == pytest.approx([2.0, -1.5, 0.5], abs=1e-9)
    assert unit.snapped_exponents().tolist() == [[2.0, -1.5, 0.5]]


def test_sum_init_puts_the_restart_input_alone_in_the_first_sum():
    body = ARCHITECTURES["sum-product"].build(_context())
    X = 1 + torch.rand(10, 3)
    data_driven_init_(body, "sum-product", X, X.sum(dim=1), restart=1)
    first = body.arithmetic_units()[0]
    assert first.weight.detach().tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    ("n_features", "count"),
    [
        (1, 6),  # six powers of the one input
        (3, 6 * 3 + 4 * 3),  # plus four sign patterns for each of 3 pairs
        (_MAX_FEATURES_FOR_PAIRS, 6 * 12 + 4 * 66),
        (_MAX_FEATURES_FOR_PAIRS + 1, 6 * 13),  # too many inputs: no pairs
    ],
)
def test_term_dictionary_counts(n_features, count):
    terms = _term_dictionary(n_features, torch.float64)
    assert len(terms) == count
    assert len({tuple(t.tolist()) for t in terms}) == count  # no duplicates
