"""Properties every registered unit must have."""

import pickle

import numpy as np
import pytest
import sympy
import torch
from torch.func import functional_call

from nalu_sr import UNITS, ArithmeticUnit, SnappedUnit

KINDS = sorted(UNITS)


def make_unit(kind, in_features=3, out_features=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return UNITS[kind](in_features, out_features, generator=generator)


def positive_inputs(n=7, in_features=3, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, in_features, generator=generator, dtype=torch.float64) + 0.5


def test_registry_names_match_kinds():
    assert set(UNITS) == {"nac", "nalu", "nau", "nmu", "npu", "realnpu", "attention"}
    for kind, unit_class in UNITS.items():
        assert unit_class.kind == kind
        assert issubclass(unit_class, ArithmeticUnit)


def test_registry_is_read_only():
    with pytest.raises(TypeError):
        UNITS["mine"] = UNITS["nau"]


@pytest.mark.parametrize("kind", KINDS)
class TestContract:
    def test_output_shape_with_batch_dimensions(self, kind):
        unit = make_unit(kind)
        assert unit(torch.rand(5, 3) + 0.5).shape == (5, 2)
        assert unit(torch.rand(4, 5, 3) + 0.5).shape == (4, 5, 2)

    def test_forward_is_finite_on_hard_inputs(self, kind):
        unit = make_unit(kind)
        hard = torch.tensor([[0.0, 0.0, 0.0], [-3.0, 2.0, -0.5], [1e3, -1e3, 7.0]])
        assert torch.isfinite(unit(hard)).all()

    def test_same_generator_seed_gives_same_parameters(self, kind):
        first, second = make_unit(kind, seed=7), make_unit(kind, seed=7)
        third = make_unit(kind, seed=8)
        for (name, a), b in zip(
            first.state_dict().items(), second.state_dict().values(), strict=False
        ):
            assert torch.equal(a, b), name
        differs = [
            not torch.equal(a, c)
            for a, c in zip(
                first.state_dict().values(), third.state_dict().values(), strict=False
            )
        ]
        assert any(differs)

    def test_reset_parameters_reproduces_initialisation(self, kind):
        unit = make_unit(kind, seed=3)
        initial = {k: v.clone() for k, v in unit.state_dict().items()}
        with torch.no_grad():
            for parameter in unit.parameters():
                parameter.add_(0.123)
        unit.reset_parameters(torch.Generator().manual_seed(3))
        for name, value in unit.state_dict().items():
            assert torch.equal(value, initial[name]), name

    def test_gradcheck_inputs(self, kind):
        unit = make_unit(kind).double()
        x = positive_inputs().requires_grad_(True)
        assert torch.autograd.gradcheck(unit, (x,), eps=1e-6, atol=1e-5)

    def test_gradcheck_parameters(self, kind):
        unit = make_unit(kind).double()
        x = positive_inputs()
        names = [name for name, _ in unit.named_parameters()]
        values = tuple(
            p.detach().clone().requires_grad_(True) for p in unit.parameters()
        )

        def forward(*parameters):
            return functional_call(
                unit, dict(zip(names, parameters, strict=False)), (x,)
            )

        assert torch.autograd.gradcheck(forward, values, eps=1e-6, atol=1e-5)

    def test_penalty_is_a_finite_non_negative_scalar(self, kind):
        penalty = make_unit(kind).penalty()
        assert penalty.shape == ()
        assert torch.isfinite(penalty) and float(penalty.detach()) >= 0
        penalty.backward()

    def test_discreteness_error_is_a_float_in_range(self, kind):
        error = make_unit(kind).discreteness_error()
        assert isinstance(error, float)
        assert 0.0 <= error <= 1.0

    def test_snap_describes_every_output(self, kind):
        unit = make_unit(kind)
        record = unit.snap(positive_inputs().float())
        assert isinstance(record, SnappedUnit)
        assert record.kind == kind
        assert (record.in_features, record.out_features) == (3, 2)
        expressions = record.to_sympy(sympy.symbols("a b c", positive=True))
        assert len(expressions) == 2
        assert all(isinstance(e, sympy.Expr) for e in expressions)

    def test_constrain_keeps_forward_finite(self, kind):
        unit = make_unit(kind)
        with torch.no_grad():
            for parameter in unit.parameters():
                parameter.mul_(5.0)
        unit.constrain_()
        assert torch.isfinite(unit(positive_inputs().float())).all()

    def test_pickle_round_trip_keeps_outputs(self, kind):
        unit = make_unit(kind)
        x = positive_inputs().float()
        clone = pickle.loads(pickle.dumps(unit))
        assert torch.equal(unit(x), clone(x))

    def test_extra_repr_names_sizes(self, kind):
        text = repr(make_unit(kind))
        assert "in_features=3" in text and "out_features=2" in text

    def test_rejects_bad_sizes(self, kind):
        with pytest.raises(ValueError, match="in_features must be a positive int"):
            UNITS[kind](0, 2)
        with pytest.raises(ValueError, match="out_features must be a positive int"):
            UNITS[kind](2, 1.5)


@pytest.mark.parametrize("kind", KINDS)
def test_snapped_record_matches_forward_once_discrete(kind):
    """Drive a unit to discrete values; its record must then compute the same."""
    unit = make_unit(kind).double()
    _make_discrete(unit)
    x = positive_inputs(n=11)
    record = unit.snap(x)
    assert record.discreteness_error < 1e-6
    with torch.no_grad():
        expected = unit(x).numpy()
    np.testing.assert_allclose(record.evaluate(x.numpy()), expected, rtol=1e-5)


def _make_discrete(unit):
    """Set every weight and gate of a unit to an exact value it snaps to."""
    big = 40.0  # tanh(40) and sigmoid(40) are 1 in float64
    with torch.no_grad():
        if unit.kind == "nac":
            unit.w_hat.copy_(torch.tensor([[big, -big, big], [-big, big, big]]))
            unit.m_hat.copy_(torch.tensor([[big, big, -big], [big, -big, big]]))
        elif unit.kind == "nalu":
            unit.w_hat.copy_(torch.tensor([[[big, -big, big], [big, big, big]]]))
            unit.m_hat.copy_(torch.tensor([[[big, big, -big], [big, -big, big]]]))
            unit.gate_weight.copy_(torch.tensor([[big] * 3, [-big] * 3]))
        elif unit.kind == "nau":
            unit.weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]]))
        elif unit.kind == "nmu":
            unit.weight.copy_(torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]))
        elif unit.kind in ("npu", "realnpu"):
            unit.real_weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [2.0, 0.0, 1.0]]))
            unit.gate.copy_(torch.tensor([1.0, 1.0, 1.0]))
            if unit.imaginary_weight is not None:
                unit.imaginary_weight.zero_()
        elif unit.kind == "attention":
            unit.logits.fill_(-big)
            unit.logits[0, unit.primitives.names.index("mul")] = big
            unit.logits[1, unit.primitives.names.index("div")] = big
            unit.weight.copy_(torch.round(unit.weight.clamp(-1, 1)))
            unit.weight[0, :, 0] = torch.tensor([1.0, 0.0, 0.0])
            unit.weight[0, :, 1] = torch.tensor([0.0, 1.0, 1.0])
            unit.weight[1, :, 0] = torch.tensor([1.0, 1.0, 0.0])
            unit.weight[1, :, 1] = torch.tensor([0.0, 0.0, 1.0])
        else:  # pragma: no cover - a new unit must be added here
            raise AssertionError(f"no discrete setting for {unit.kind}")
