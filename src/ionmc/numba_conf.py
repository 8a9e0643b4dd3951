"""Numba options, in one place (as PySDM's impl_numba/conf.py).

`cache=True` so that a user compiles once; `error_model="numpy"` so that kernels do not
pay for Python-style division checks.
"""
import numba

JIT = dict(cache=True, nogil=True, error_model="numpy")


def njit(*args, **kwargs):
    opts = dict(JIT)
    opts.update(kwargs)
    if args and callable(args[0]):
        return numba.njit(**opts)(args[0])
    return numba.njit(**opts)
