"""Numba options, in one place (as PySDM's impl_numba/conf.py).

`cache=True` so that a user compiles once; `error_model="numpy"` so that kernels do not
pay for Python-style division checks.
"""
import copy
import hashlib
import os
from pathlib import Path

import numba
from numba.core.caching import CacheImpl, UserProvidedCacheLocator

_PKG = Path(__file__).resolve().parent
# Numba invalidates a cached kernel only when its own file changes, not when a kernel it
# calls (in another module) does, so a stale compiled kernel could survive an edit. ionmc's
# kernels are cached under a directory named by a hash of every source file of the package
# (subpackages included): any change to ionmc compiles afresh.
_src = hashlib.sha256()
for _f in sorted(_PKG.rglob("*.py")):
    _src.update(str(_f.relative_to(_PKG)).encode())
    _src.update(_f.read_bytes())
#: the sources this process compiled from (cluster.py checks Dask workers run the same)
SOURCE_DIGEST = _src.hexdigest()[:12]
#: where ionmc's kernels are cached: under NUMBA_CACHE_DIR when the user set it, else under
#: $XDG_CACHE_HOME/ionmc (~/.cache/ionmc)
CACHE_DIR = Path(os.environ.get("NUMBA_CACHE_DIR") or
                 Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ionmc") \
    / f"ionmc-numba-{SOURCE_DIGEST}"


class _IonmcCacheLocator(UserProvidedCacheLocator):
    """Numba's cache locator for functions defined in ionmc's own files, and no others: a
    process that imports ionmc keeps its Numba settings (numba.config.CACHE_DIR untouched)
    for its own code."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(CACHE_DIR / self.get_suitable_cache_subpath(py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            Path(py_file).resolve().relative_to(_PKG)
        except (ValueError, OSError):
            return None
        # the source-file mixin's from_function: makes and checks the directory
        return super(UserProvidedCacheLocator, cls).from_function(py_func, py_file)


if _IonmcCacheLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, _IonmcCacheLocator)

def _share_scope_copies():
    """Make Numba's IR inliner copy a callee's variable scope once per inlining instead of
    once per block.

    `inline="always"` (`entry`, `inlined` below) copies the callee's IR block by block,
    each with a deepcopy of its own, and every variable in a block drags a copy of the
    whole scope (all of the callee's variables) into it: blocks x variables. For the SSA's
    `fire` (197 blocks, 2452 variables once its own callees are in) that was 3.2 s, and
    inlining was 9.4 s of a first SSA run's 23 s of compilation; with one copy of the scope
    per inlining, 1.3 s (benchmarks/bench_compile.py). The copied blocks then share one
    scope, as the callee's own blocks do (Numba's inliner asserts it finds one scope and
    renames through the first copy). The generated code is unchanged (the golden digests
    are bit-identical). Applied only where Numba's inliner has the method this wraps and
    `ir.Scope` has no deepcopy of its own; otherwise Numba runs as it is."""
    try:
        from numba.core import inline_closurecall, ir
        original = inline_closurecall.InlineWorker.inline_ir
    except (ImportError, AttributeError):
        return False
    if "__deepcopy__" in vars(ir.Scope) or getattr(original, "_ionmc_shared", False):
        return False

    def inline_ir(self, *args, **kwargs):
        copies = {}  # id(scope) -> (scope, its copy), for this inlining only

        def copy_scope(scope, memo):
            hit = copies.get(id(scope))
            if hit is not None:
                return hit[1]
            new = object.__new__(type(scope))
            memo[id(scope)] = new
            copies[id(scope)] = (scope, new)
            for key, value in vars(scope).items():
                setattr(new, key, copy.deepcopy(value, memo))
            return new

        before = vars(ir.Scope).get("__deepcopy__")  # an enclosing inlining's, if any
        ir.Scope.__deepcopy__ = copy_scope  # Numba compiles under one lock: no race
        try:
            return original(self, *args, **kwargs)
        finally:
            if before is None:
                del ir.Scope.__deepcopy__
            else:
                ir.Scope.__deepcopy__ = before

    inline_ir._ionmc_shared = True
    inline_closurecall.InlineWorker.inline_ir = inline_ir
    return True


#: whether the inliner's scope copies are shared (see `_share_scope_copies`)
SHARED_SCOPE_COPIES = _share_scope_copies()

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


def entry(func):
    """Decorator for a mechanism type's thin table entries (`propensity`, `ledger_arg`
    that only adapt the table's arguments to the type's own rate function): merged into
    engine/dispatch.py's table at the Numba IR level, not compiled as functions of their
    own. As separate leaf kernels, each added ~0.3 s (x2: the leaf and the inlined copy of
    the table) to a first run's compilation, +4 s of the SSA's 15 s over ten types
    (benchmarks/compare_revisions.py). `cache=False`: they exist only inside cached
    callers."""
    return numba.njit(**dict(LEAF, cache=False), inline="always")(func)


def inlined(kernel):
    """An NRT-free copy of a compiled kernel, inlined into its caller at the Numba IR level.

    The SSA's inner loop calls a handful of small kernels per event; as separate calls each
    passes its arrays on the stack, and how the cached objects happen to be laid out then
    decided speed (0.17-0.55 of a hand-written loop). Inlined, the loop is one function and
    runs at ~0.95 of it (benchmarks/bench_engine.py). `cache=False` because the copy only
    ever exists inside a cached caller."""
    return numba.njit(**dict(LEAF, cache=False), inline="always")(kernel.py_func)
