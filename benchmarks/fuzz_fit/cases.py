"""The fuzz cases: random laws, ranges, degenerate columns and rows, from a seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_FUNCTIONS = ("np.sin", "np.cos", "np.exp", "np.log", "np.sqrt", "np.tanh",
              "np.abs", "np.arctan")  # fmt: skip
_CONSTANTS = ("0.5", "2", "3", "-1.5", "0.1", "7", "3.14159", "1000")
#: Input distributions: name -> (low, high, how) drawn by :func:`draw_column`.
RANGES: dict[str, tuple[float, float, str]] = {
    "U(1,5)": (1.0, 5.0, "uniform"),
    "U(-5,5)": (-5.0, 5.0, "uniform"),
    "U(0,1)": (0.0, 1.0, "uniform"),
    "int[-3,3]": (-3.0, 3.0, "integers"),
    "U(1,5)e-12": (1e-12, 5e-12, "uniform"),
    "U(1,5)e12": (1e12, 5e12, "uniform"),
    "U(-5,-1)e12": (-5e12, -1e12, "uniform"),
    "±1e-12..1e12": (-12.0, 12.0, "signed-log"),
}
_EXTREME = {"U(1,5)e-12", "U(1,5)e12", "U(-5,-1)e12", "±1e-12..1e12"}
_SIGNED = {"U(-5,5)", "int[-3,3]", "U(-5,-1)e12", "±1e-12..1e12"}
#: Law families, with their weights and how many inputs the law uses.
KINDS: dict[str, tuple[float, tuple[int, int]]] = {
    "nested": (0.2, (1, 2)),
    "product": (0.15, (2, 3)),
    "piecewise": (0.15, (1, 2)),
    "x**y": (0.15, (2, 3)),
    "many-inputs": (0.2, (5, 8)),
    "simple": (0.15, (1, 3)),
}
#: Row counts with their weights: tiny, small, medium and large data.
ROW_COUNTS = ((1, 2, 5, 10), (30, 100, 300), (1000, 2000, 5000), (20_000,))
ROW_WEIGHTS = (0.25, 0.3, 0.3, 0.15)


@dataclass(frozen=True)
class Case:
    """One fuzz case: everything needed to rebuild its data, in one line.

    Parameters
    ----------
    index : int
        Position of the case in its run.
    seed : int
        The case's own seed: of its structure, of its data and of the fit.
    kind : str
        The law family (a key of :data:`KINDS`).
    law : str
        The law, a NumPy expression over ``x0 .. x{n_features-1}``.
    n_features : int
        Columns of ``X``.
    n_rows : int
        Rows drawn (rows where the law is not finite are dropped).
    ranges : tuple of str
        Each column's distribution (keys of :data:`RANGES`).
    degenerate : tuple of (str, int, float)
        ``("constant", column, value)``, ``("duplicate", column, source)`` or
        ``("binary", column, 0)``, applied before the law is evaluated.
    noise : float
        Gaussian noise on ``y``, as a fraction of its root mean square.
    corrupt : tuple of (str, str, int, int) or None
        ``(value, "X" or "y", row, column)``: a NaN or infinity planted after
        the law and the noise.
    """

    index: int
    seed: int
    kind: str
    law: str
    n_features: int
    n_rows: int
    ranges: tuple[str, ...]
    degenerate: tuple[tuple[str, int, float], ...] = ()
    noise: float = 0.0
    corrupt: tuple[str, str, int, int] | None = None

    @property
    def categories(self) -> frozenset[str]:
        """The kinds of difficulty the case has (its law family among them)."""
        found = {self.kind}
        found |= {"many-inputs"} if self.n_features >= 5 else set()
        found |= {"degenerate"} if self.degenerate else set()
        found |= {"tiny-rows"} if self.n_rows <= 10 else set()
        found |= {"large-rows"} if self.n_rows >= 20_000 else set()
        found |= {"noise"} if self.noise > 0 else set()
        found |= {"nan"} if self.corrupt else set()
        found |= {"extreme"} if set(self.ranges) & _EXTREME else set()
        found |= {"negative"} if set(self.ranges) & _SIGNED else set()
        return frozenset(found)

    def describe(self) -> str:
        """The case in one line: law, shape, ranges, oddities and seed."""
        if len(set(self.ranges)) == 1:
            ranges = f"X ~ {self.ranges[0]}"
        else:
            ranges = "X ~ " + ", ".join(f"x{j} {r}" for j, r in enumerate(self.ranges))
        parts = [f"#{self.index} [{self.kind}] y = {self.law}",
                 f"{self.n_rows} rows x {self.n_features} cols", ranges]  # fmt: skip
        for op, column, value in self.degenerate:
            detail = {"constant": f"= {value:g}", "duplicate": f"= x{int(value)}",
                      "binary": "binary 0/1"}[op]  # fmt: skip
            parts.append(f"x{column} {detail}")
        if self.noise:
            parts.append(f"noise {self.noise:.1%}")
        if self.corrupt:
            planted, where, row, column = self.corrupt
            parts.append(f"{planted} in {where}[{row}, {column}]".replace(", -1]", "]"))
        return "; ".join([*parts, f"seed {self.seed}"])


def case_seed(seed: int, index: int) -> int:
    """The seed of case ``index`` of run ``seed`` (a 32-bit integer).

    Parameters
    ----------
    seed : int
        The run's seed.
    index : int
        The case's position.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``, usable as ``random_state``.
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def random_term(rng: random.Random, names: Sequence[str]) -> str:
    """A small term over one or two of ``names`` (a variable, product, function).

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    names : sequence of str
        Variables to draw from.

    Returns
    -------
    str
        A NumPy expression.
    """
    a, b = rng.choice(names), rng.choice(names)
    return rng.choice([
        a, f"{rng.choice(_CONSTANTS)}*{a}", f"{a}*{b}", f"{a}/{b}",
        f"{rng.choice(_FUNCTIONS)}({a})", f"{a}**2", f"{a}**3",
    ])  # fmt: skip


def random_law(rng: random.Random, kind: str, names: Sequence[str]) -> str:
    """A random law of family ``kind`` that uses ``names``.

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    kind : str
        A key of :data:`KINDS`.
    names : sequence of str
        The law's variables, in the order they are to appear.

    Returns
    -------
    str
        A NumPy expression over ``names`` (``np`` is NumPy).
    """
    f, g, h = (rng.choice(_FUNCTIONS) for _ in range(3))
    a, b, *rest = [*names, *names]
    if kind == "nested":
        law = f"{f}({g}({a}))"
        return law if len(names) == 1 else f"{law} + {random_term(rng, [b])}"
    if kind == "product":
        law = f"{f}({a}) * {g}({b})"
        return law if len(names) == 2 else f"{law} * {h}({rest[0]})"
    if kind == "piecewise":
        if rng.random() < 0.3:
            return f"np.where({a} > 0, {a}, -{a}**2)"
        cut = rng.choice(["0", "1", "2.5"])
        yes, no = random_term(rng, names), random_term(rng, names)
        return f"np.where({a} > {cut}, {yes}, {no})"
    if kind == "x**y":
        law = rng.choice([f"{a}**{b}", f"{rng.choice(_CONSTANTS)}*{a}**{b}",
                          f"({a} + 1)**{b}", f"{a}**{b}**2"])  # fmt: skip
        return law if len(names) == 2 else f"{law} + {random_term(rng, [rest[0]])}"
    if kind == "many-inputs":
        return many_inputs_law(rng, names)
    c = rest[0] if rest else a
    return rng.choice([
        f"{a}*{b} + {c}", f"{a}/{b}", f"3*{a} - {b}**2", a, f"2.5 + 0*{a}",
        f"{a}*{b}*{c}",
    ])  # fmt: skip


def many_inputs_law(rng: random.Random, names: Sequence[str]) -> str:
    """A sum of terms that uses every one of ``names`` (5 to 8 of them).

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    names : sequence of str
        The law's variables; consecutive pairs share a term.

    Returns
    -------
    str
        A NumPy expression such as ``x0*x3 - np.sin(x1) + x2/x4``.
    """
    law = ""
    for start in range(0, len(names), 2):
        a, *b = names[start : start + 2]
        if b:
            pair = f"{random_term(rng, [a])} + {random_term(rng, b)}"
            function = rng.choice(_FUNCTIONS)
            term = rng.choice(
                [f"{a}*{b[0]}", f"{a}/{b[0]}", f"{function}({a})*{b[0]}", pair]
            )
        else:
            term = random_term(rng, [a])
        sign = rng.choice([" + ", " - "]) if law else ""
        law += f"{sign}({term})" if sign == " - " and " + " in term else sign + term
    return law


def random_degenerate(
    rng: random.Random, n_features: int
) -> tuple[int, tuple[tuple[str, int, float], ...]]:
    """Degenerate columns for about a third of the cases.

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    n_features : int
        Columns before any is added for a duplicate.

    Returns
    -------
    n_features : int
        Columns after (one more when a duplicate needs a second column).
    degenerate : tuple of (str, int, float)
        See :class:`Case`.
    """
    if rng.random() >= 0.3:
        return n_features, ()
    ops, used = [], set()
    for op in rng.sample(["constant", "duplicate", "binary"], rng.randint(1, 2)):
        if op == "duplicate" and n_features == 1:
            n_features += 1
        free = [j for j in range(n_features) if j not in used] or [0]
        column = rng.choice(free)
        used.add(column)
        if op == "constant":
            value = float(rng.choice([0.0, 1.0, 3.7, -2.0, 1e12]))
        elif op == "duplicate":
            value = float(rng.choice([j for j in range(n_features) if j != column]))
        else:
            value = 0.0
        ops.append((op, column, value))
    return n_features, tuple(ops)


def random_ranges(rng: random.Random, n_features: int) -> tuple[str, ...]:
    """Each column's distribution: one for all columns, or one per column.

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    n_features : int
        Columns.

    Returns
    -------
    tuple of str
        Keys of :data:`RANGES`, the plain ``U(1,5)`` most often.
    """
    names = list(RANGES)
    weights = [4.0] + [1.0] * (len(names) - 1)
    if rng.random() < 0.6:
        return (rng.choices(names, weights)[0],) * n_features
    return tuple(rng.choices(names, weights, k=n_features))


def random_corruption(
    rng: random.Random, n_rows: int, n_features: int
) -> tuple[str, str, int, int] | None:
    """A NaN or an infinity in ``X`` or ``y`` for about one case in 16.

    Parameters
    ----------
    rng : random.Random
        The case's structure generator.
    n_rows, n_features : int
        Shape of ``X``.

    Returns
    -------
    tuple of (str, str, int, int) or None
        ``(value, "X" or "y", row, column)``; the column is -1 for ``y``.
    """
    if rng.random() >= 1 / 16:
        return None
    value = rng.choice(["nan", "inf", "-inf"])
    if rng.random() < 0.5:
        return value, "X", rng.randrange(n_rows), rng.randrange(n_features)
    return value, "y", rng.randrange(n_rows), -1


def generate_case(seed: int, index: int) -> Case:
    """Draw case ``index`` of run ``seed``, from those two numbers alone.

    Parameters
    ----------
    seed : int
        The run's seed.
    index : int
        The case's position.

    Returns
    -------
    Case
        The case; the same for the same ``seed`` and ``index``.
    """
    own_seed = case_seed(seed, index)
    rng = random.Random(own_seed)
    kind = rng.choices(list(KINDS), [w for w, _ in KINDS.values()])[0]
    low, high = KINDS[kind][1]
    n_used = rng.randint(low, high)
    n_features = min(8, n_used + rng.choice([0, 0, 1, 2]))
    columns = rng.sample(range(n_features), n_used)
    law = random_law(rng, kind, [f"x{j}" for j in columns])
    n_features, degenerate = random_degenerate(rng, n_features)
    n_rows = rng.choice(rng.choices(ROW_COUNTS, ROW_WEIGHTS)[0])
    noise = 0.0 if rng.random() < 0.5 else round(rng.uniform(0.0, 0.05), 4)
    return Case(
        index=index, seed=own_seed, kind=kind, law=law, n_features=n_features,
        n_rows=n_rows, ranges=random_ranges(rng, n_features), degenerate=degenerate,
        noise=noise, corrupt=random_corruption(rng, n_rows, n_features),
    )  # fmt: skip


def generate_cases(seed: int, count: int, start: int = 0) -> list[Case]:
    """Cases ``start .. start + count - 1`` of run ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed.
    count : int
        How many cases.
    start : int, default=0
        Index of the first.

    Returns
    -------
    list of Case
    """
    return [generate_case(seed, index) for index in range(start, start + count)]
