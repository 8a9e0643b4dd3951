"""Numba options, in one place (as PySDM's impl_numba/conf.py).

`cache=True` so that a user compiles once; `error_model="numpy"` so that kernels do not
pay for Python-style division checks.
"""
import hashlib
import os
from pathlib import Path

import numba

# Numba invalidates a cached kernel only when its own file changes, not when a kernel it
# calls (in another module) does, so a stale compiled kernel could survive an edit. Cache
# under a directory named by a hash of all of ionmc's sources instead: any change to the
# package compiles afresh. A user's NUMBA_CACHE_DIR is respected.
_src = hashlib.sha256()
for _f in sorted(Path(__file__).resolve().parent.glob("*.py")):
    _src.update(_f.read_bytes())
#: the sources this process compiled from (cluster.py checks Dask workers run the same)
SOURCE_DIGEST = _src.hexdigest()[:12]
if not os.environ.get("NUMBA_CACHE_DIR"):
    _base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ionmc"
    numba.config.CACHE_DIR = str(_base / f"numba-{SOURCE_DIGEST}")

JIT = dict(cache=True, nogil=True, error_model="numpy")
#: leaf kernels (they allocate nothing) compile without NRT reference counting: a call
#: that passes arrays otherwise increfs and decrefs each one (atomic operations), which
#: measured 4x the arithmetic of a propensity (benchmarks/bench_engine.py).
LEAF = dict(JIT, _nrt=False)


def njit(*args, **kwargs):
    opts = dict(JIT)
    opts.update(kwargs)
    if args and callable(args[0]):
        return numba.njit(**opts)(args[0])
    return numba.njit(**opts)


def leaf(func):
    """Decorator for leaf kernels: arrays and scalars in, nothing allocated."""
    return numba.njit(**LEAF)(func)


def inlined(kernel):
    """An NRT-free copy of a compiled kernel, inlined into its caller at the Numba IR level.

    The SSA's inner loop calls a handful of small kernels per event; as separate calls each
    passes its arrays on the stack, and how the cached objects happen to be laid out then
    decided speed (0.17-0.55 of a hand-written loop). Inlined, the loop is one function and
    runs at ~0.95 of it (benchmarks/bench_engine.py). `cache=False` because the copy only
    ever exists inside a cached caller."""
    return numba.njit(**dict(LEAF, cache=False), inline="always")(kernel.py_func)
