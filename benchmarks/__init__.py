"""Benchmarks for nalu_sr: one entry point, ``python -m benchmarks``.

Run ``python -m benchmarks list`` for the suites and ``python -m benchmarks run
SUITE [--quick]`` for one of them. Every suite writes CSV results and a
markdown report with the command, the machine and the date.
"""
