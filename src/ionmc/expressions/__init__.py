"""User-written rate laws: a whitelisted expression language compiled with Numba.

Scenarios give channel gating rates and reaction rates as strings (Brian2-like):

    alpha = "0.1 * (V + 40) / (1 - exp(-(V + 40) / 10))"   # or 1 / exprel(-(V + 40) / 10)
    rate  = "Vmax_per_s * GABA_o**n / (Km_mM**n + GABA_o**n)"
    alpha = "Kd_mM / (Kd_mM + Ca_i) if V > -50 else 0.0"

Allowed: numbers; the names the caller allows (a mechanism's parameters, V in mV, T in K,
celsius, concentrations such as Ca_i in mM); unary + -; binary + - * / **; calls to exp,
log, sqrt, abs, exprel (one argument) and min, max (two or more); `a if cond else b`,
whose condition compares numbers (< <= > >= == !=, chained) joined by and/or/not.
Anything else raises ExpressionError (an InputError: one line, exit 2 in the CLI).
`exprel(x) = (exp(x) - 1)/x` with the value 1 at 0, as in Brian2.

    expr = parse(text, names, key)                 # -> Expression, or ExpressionError
    names_used(expr)                               # -> frozenset of the names it reads
    src = to_numba_source(expr, arg_of)            # -> Python source for Numba
    mod = compile_functions([(fname, args, src), ...], cache_dir)   # -> module of njit fns
"""
from .codegen import compile_functions, module_source, to_numba_source
from .parse import FUNCTIONS, Expression, ExpressionError, names_used, parse

__all__ = ["parse", "names_used", "to_numba_source", "compile_functions", "module_source",
           "Expression", "ExpressionError", "FUNCTIONS"]
