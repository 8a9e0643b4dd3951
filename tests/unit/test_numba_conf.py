"""numba_conf's change to Numba's IR inliner (one copy of a callee's scope per inlining):
in force with the Numba this project installs, and inlined code computes what it did."""
import numba

from ionmc import numba_conf


def test_the_inliner_shares_its_scope_copies_with_this_numba():
    # if a Numba release renames what numba_conf wraps, the first SSA run's compilation
    # goes back up by ~8 s: this says so instead of the benchmark alone
    assert numba_conf.SHARED_SCOPE_COPIES, numba.__version__
    from numba.core import inline_closurecall, ir
    assert getattr(inline_closurecall.InlineWorker.inline_ir, "_ionmc_shared", False)
    assert "__deepcopy__" not in vars(ir.Scope)  # set only while an inlining runs


@numba.njit(inline="always")
def _branchy(k, x):
    # several blocks and variables, so that the copied blocks share one copied scope
    if k == 0:
        y = x + 1.0
    elif k == 1:
        y = x * 2.0
    else:
        y = 0.0
        for i in range(k):
            y += x - i
    return y


@numba.njit
def _caller(x):
    return _branchy(0, x) + 10.0 * _branchy(1, x) + 100.0 * _branchy(3, x) + _branchy(0, x + 1.0)


def test_inlined_twice_in_one_caller_each_copy_computes_its_own():
    x = 0.25
    want = _branchy.py_func(0, x) + 10.0 * _branchy.py_func(1, x) \
        + 100.0 * _branchy.py_func(3, x) + _branchy.py_func(0, x + 1.0)
    assert _caller(x) == want
