"""Exports of fitted formulas to other forms."""

from nalu_sr.export.numpy import CallableExpression

__all__ = ["CallableExpression"]
