from fractions import Fraction

import pytest
import sympy
import torch

from nalu_sr import NALU, NAU, NMU, RealNPU, StackedModel, compose_sympy
from nalu_sr.extraction import build_graph, emit, prune
from nalu_sr.units import ProductOutput, SnappedUnit

ONE = Fraction(1)


def test_stack_checks_sizes():
    with pytest.raises(ValueError, match="NAU has 2 outputs but the next NMU takes 3"):
        StackedModel([NAU(3, 2), NMU(3, 1)])
    with pytest.raises(ValueError, match="at least one unit"):
        StackedModel([])


def test_stack_forward_penalty_and_constrain():
    model = StackedModel([NAU(3, 2), NMU(2, 1)])
    x = torch.rand(5, 3)
    expected = model.units[1](model.units[0](x))
    assert torch.equal(model(x), expected)
    penalty = model.penalty()
    assert float(penalty.detach()) == pytest.approx(
        float(model.units[0].penalty().detach() + model.units[1].penalty().detach())
    )
    with torch.no_grad():
        model.units[0].weight.fill_(3.0)
    model.constrain_()
    assert float(model.units[0].weight.detach().max()) == 1.0
    assert model.discreteness_error() == max(
        unit.discreteness_error() for unit in model.arithmetic_units()
    )


def test_composed_formula_of_exact_nau_nmu():
    model = StackedModel([NAU(3, 2), NMU(2, 1)])
    with torch.no_grad():
        model.units[0].weight.copy_(torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
        model.units[1].weight.fill_(1.0)
    x0, x1, x2 = sympy.symbols("x0:3", real=True)
    (found,) = compose_sympy(model.snap(), [x0, x1, x2])
    assert sympy.simplify(found - (x0 + x1) * x2) == 0


def test_nau_then_realnpu_gives_ratio_of_sums():
    model = StackedModel([NAU(3, 2), RealNPU(2, 1)])
    with torch.no_grad():
        model.units[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))
        model.units[1].real_weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.units[1].gate.fill_(1.0)
    x0, x1, x2 = sympy.symbols("x0:3", positive=True)
    (found,) = compose_sympy(model.snap(), [x0, x1, x2])
    assert sympy.simplify(found - x0 / (x1 + x2)) == 0


def test_snap_passes_reference_inputs_through_the_stack():
    big = 40.0
    nalu = NALU(2, 1)
    with torch.no_grad():
        nalu.w_hat.fill_(big)
        nalu.m_hat.fill_(big)
        nalu.gate_weight.fill_(-big)  # negative gate weights on positive sums
    model = StackedModel([NAU(2, 2), nalu])
    with torch.no_grad():
        model.units[0].weight.copy_(torch.eye(2))
    records = model.snap(torch.rand(8, 2) + 1)
    a, b = sympy.symbols("a b", positive=True)
    assert compose_sympy(records, [a, b]) == [a * b]
    with pytest.raises(ValueError, match="needs reference_inputs"):
        model.snap()


def test_reset_parameters_is_deterministic():
    model = StackedModel([NAU(3, 2), NMU(2, 1)])
    model.reset_parameters(torch.Generator().manual_seed(4))
    first = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters(torch.Generator().manual_seed(4))
    assert all(
        torch.equal(a, b) for a, b in zip(first, model.parameters(), strict=False)
    )


def test_compose_sympy_is_the_extraction_route():
    """compose_sympy reads the same graph the estimator's extraction reads."""
    model = StackedModel([NAU(3, 2), NMU(2, 1)])
    with torch.no_grad():
        model.units[0].weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 1.0, 1.0]]))
        model.units[1].weight.fill_(1.0)
    records = model.snap()
    x0, x1, x2 = symbols = sympy.symbols("x0:3")
    expected = emit(prune(build_graph(records, 3)), symbols)
    assert expected == [(x0 - x1) * (x1 + x2)]
    assert compose_sympy(records, symbols) == expected


def test_compose_sympy_accepts_expressions_as_inputs():
    a, b = sympy.symbols("a b")
    product = SnappedUnit("nmu", 2, (ProductOutput((ONE, ONE)),), 0.0)
    assert compose_sympy([product], [a + 1, b]) == [b * (a + 1)]


def test_compose_sympy_of_no_records_returns_the_inputs():
    a, b = sympy.symbols("a b")
    assert compose_sympy([], (a, b)) == [a, b]


def test_compose_sympy_names_a_width_mismatch():
    records = StackedModel([NAU(3, 2), NMU(2, 1)]).snap()
    with pytest.raises(
        ValueError, match=r"^unit 0 \(nau\) takes 3 inputs, but 2 values feed it$"
    ):
        compose_sympy(records, sympy.symbols("a b"))
