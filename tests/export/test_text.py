import pytest
import sympy

from nalu_sr.export.text import sympy_to_latex, sympy_to_string

x, y = sympy.symbols("x y", real=True)


@pytest.mark.parametrize(
    ("expression", "precision", "text", "latex"),
    [
        (sympy.Float(1.23456789) * x, 3, "1.23*x", "1.23 x"),
        (sympy.Float(1.23456789) * x, 5, "1.2346*x", "1.2346 x"),
        (sympy.Float(1.23456789) * x, 1, "1.0*x", "1.0 x"),
        (sympy.Float(123456.789) * x, 3, "1.23e+5*x", r"1.23 \cdot 10^{5} x"),
        (sympy.Float(0.000123456), 2, "0.00012", "0.00012"),
        (sympy.Float(0.0000123456), 3, "1.23e-5", r"1.23 \cdot 10^{-5}"),
        (sympy.Float(2.0000001) * x, 3, "2.0*x", "2.0 x"),
        (sympy.Float(-1.23456) * x + y, 3, "-1.23*x + y", "- 1.23 x + y"),
        (x ** sympy.Float(-1.23456), 3, "x**(-1.23)", "x^{-1.23}"),
        (
            sympy.Float(3.14159265) * sympy.sqrt(x) + sympy.exp(sympy.Float(-0.5) * x),
            2,
            "3.1*sqrt(x) + exp(-0.5*x)",
            r"3.1 \sqrt{x} + e^{- 0.5 x}",
        ),
    ],
)
def test_floats_are_rounded_to_significant_digits(expression, precision, text, latex):
    assert sympy_to_string(expression, precision) == text
    assert sympy_to_latex(expression, precision) == latex


@pytest.mark.parametrize("precision", [1, 3, 10])
def test_exact_numbers_are_left_alone(precision):
    expression = sympy.Rational(1, 3) * x + sympy.pi * y**2 - sympy.Rational(7, 2)
    assert sympy_to_string(expression, precision) == "x/3 + pi*y**2 - 7/2"
    assert (
        sympy_to_latex(expression, precision)
        == r"\frac{x}{3} + \pi y^{2} - \frac{7}{2}"
    )


def test_no_precision_prints_in_full():
    expression = sympy.Float(1.23456789) * x + sympy.pi
    assert sympy_to_string(expression) == str(expression) == "1.23456789*x + pi"
    assert sympy_to_latex(expression, None) == sympy.latex(expression)


def test_rounding_does_not_change_the_formula():
    expression = sympy.Float(1.23456789) * x
    sympy_to_string(expression, 2)
    assert expression == sympy.Float(1.23456789) * x


@pytest.mark.parametrize("precision", [0, -1, 2.5, True, "3"])
def test_bad_precision_is_refused(precision):
    with pytest.raises(ValueError, match="precision must be a positive int or None"):
        sympy_to_latex(x, precision)
    with pytest.raises(ValueError, match="precision must be a positive int or None"):
        sympy_to_string(x, precision)
