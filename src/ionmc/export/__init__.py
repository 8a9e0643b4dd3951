"""Exports of a scenario's model to other tools' formats: `sbml.py` writes the ode model as
SBML Level 3 (docs/sbml.md). This module holds the infix helpers the mechanism types'
translations share (`Mechanism.sbml_rate`); it imports nothing optional."""


def sbml_number(v):
    """A float as an infix literal for libsbml.parseL3Formula: all 17 digits (repr), a
    negative one in parentheses."""
    s = repr(float(v))
    return f"({s})" if s.startswith("-") else s


def sbml_ghk(u):
    """physics.ghk_factor of the infix expression u, u/(1 - exp(-u)), with its series
    1 + u/2 + u^2/12 near u = 0."""
    return (f"piecewise(1 + ({u})/2 + ({u})^2/12, abs({u}) < 1e-5, "
            f"({u})/(1 - exp(-({u}))))")


def sbml_ramp(n, s=1.0):
    """physics.count_ramp(n, s) of the infix expression n: 0 below s - 1, 1 from s, linear
    between."""
    lo = sbml_number(s - 1.0)
    return f"piecewise(0, {n} <= {lo}, 1, {n} >= {sbml_number(s)}, {n} - {lo})"
