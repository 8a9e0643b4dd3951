"""A finite, physical result or a failure that says where: the kernels stop when the sum
of the propensities is not finite (`KernelArgs.fail` holds the time), and the method
object raises a SimulationError naming the mechanism whose rate law gave inf or NaN."""
import math

import numpy as np
import pyarrow as pa


class SimulationError(Exception):
    """A run that cannot go on with finite numbers. `str()` is the one line the CLI
    prints (exit 1)."""


def _propensities(model, x):
    """Every propensity at counts x and the membrane potentials: (a, V). Integer counts
    stay integer: the exact methods compile `all_propensities` for those alone, and a
    float copy would compile every rate law a second time (~4 s of a first SSA run)."""
    from ionmc.engine.kernels import all_propensities, voltages

    M = model.kernel_args()
    V = np.zeros(len(model.mems))
    a = np.zeros(model.nt)
    x = np.asarray(x)
    if x.dtype.kind != "i":
        x = x.astype(float)
    with np.errstate(all="ignore"):
        voltages(np.where(np.isfinite(x), x, 0).astype(np.int64), V, M)
        all_propensities(x, V, a, M)
    return a, V


def diagnose(model, x, t):
    """The SimulationError for counts x at time t: the first transition whose propensity
    is not finite (or negative), by mechanism."""
    where = f"at t = {t:.6g} s"
    if not np.all(np.isfinite(np.asarray(x, float))):
        return SimulationError(f"the state became non-finite {where}")
    a, V = _propensities(model, x)
    bad = np.nonzero(~np.isfinite(a) | (a < 0))[0]
    if not len(bad):
        return SimulationError(f"the propensities' sum became non-finite {where}")
    j = int(bad[0])
    mech = model.mechs[model.tr_mech[j]]
    return SimulationError(f"mechanism {mech.name!r} ({mech.type}): a rate of {a[j]:g}/s "
                           f"{where} (V = {', '.join(f'{v * 1e3:.4g}' for v in V)} mV); "
                           "check its parameters' units and magnitudes")


def raise_on_failure(model, M, x):
    """After a kernel call: raise if a kernel stopped on a non-finite propensity sum."""
    t = M.fail[0]
    if not math.isnan(t):
        raise diagnose(model, x, t)


def check_table(table):
    """Before output rows are written: every count non-negative, every float finite (a
    current is undefined, NaN, at t = 0 only). Raises SimulationError naming the first
    column and time that is not."""
    t = table.column("time_s").to_numpy()
    for name in table.column_names:
        col = table.column(name)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            continue
        v = col.to_numpy(zero_copy_only=False)
        if v.dtype.kind == "f":
            bad = ~np.isfinite(v)
            if name.endswith("current_pA"):
                bad &= t != 0.0
        elif name.endswith(".count"):
            bad = v < 0
        else:
            continue
        if bad.any():
            i = int(np.argmax(bad))
            raise SimulationError(f"column {name!r} is {v[i]} at t = {t[i]:.6g} s: the run "
                                  "left the physical range (check the parameters' units)")


#: the most events an `ssa` replicate may be expected to fire (its starting propensity sum
#: times its duration): a few minutes at 1e7 events/s. IONMC_MAX_SSA_EVENTS overrides it.
MAX_SSA_EVENTS = 2e9


def expected_events(model, x, duration):
    """The starting propensity sum times `duration`: how many events an exact run of
    this model would fire if its rates stayed where they start."""
    return float(_propensities(model, x)[0].sum()) * duration
