"""Exact stochastic simulation: Gillespie's direct method (Gillespie 1977) with a
dependency graph (Gibson & Bruck 2000): after an event only the propensities that read a
changed count or a changed membrane potential are recomputed.
"""
import math

import numpy as np

from ionmc.engine import checks, lattice
from ionmc.engine.fastrand import _exponential, _uniform, new_state
from ionmc.engine.kernels import all_propensities, apply_transition, ledger_arg, pick, prop_arrays, \
    record, refresh, voltages
from ionmc.numba_conf import inlined, leaf, njit
from ionmc.mechanisms.base import LEDGER_DRIVEN

_apply_transition, _voltages, _prop_arrays, _refresh, _ledger_arg, _pick = (
    inlined(k) for k in (apply_transition, voltages, prop_arrays, refresh, ledger_arg, pick))


@leaf
def fire(j, x, firings, S, ledger_sum, V, a, M):
    """Fire transition j with its bookkeeping, for both exact methods (this module and
    paired.py): the ledger's argument into ledger_sum[j], the jump, firings[j], the potentials, the
    propensities it changed (dependency graph) and ln(a_j(x)/a_r(x')) into S[j]. Returns the
    change of the sum of the propensities."""
    dep_ptr, dep_idx, rev, ledger = M.dep_ptr, M.dep_idx, M.rev, M.ledger
    kind, src, mem, half_dv, P, II, inv_nvol = _prop_arrays(M)
    aj = a[j]
    ledger_sum[j] += _ledger_arg(j, x, V, kind, mem, half_dv, ledger, P, II, inv_nvol)
    _apply_transition(j, x, 1, M)
    firings[j] += 1
    _voltages(x, V, M)
    d = _refresh(dep_idx, dep_ptr[j], dep_ptr[j + 1], x, V, a, kind, src, mem, half_dv, P, II,
                 inv_nvol, M.lat_row, M.lat_tab, M.lat_qlo, M.lat_qc)
    ar = a[rev[j]]  # the reverse reads every count j changed, so it is fresh
    if ar > 0.0 and ledger[j] != LEDGER_DRIVEN:
        # ln(a_j/a_r) is summed as a running product Sp[j], logged into S[j] when it
        # leaves [1e-100, 1e100] and at the end of every advance (`flush_entropy`): a
        # multiplication instead of a log per event (10% of the SSA's time on a spine)
        Sp = M.sprod
        q = aj / ar
        p = Sp[j] * q
        if 1e-100 < p < 1e100:
            Sp[j] = p
        else:
            S[j] += math.log(Sp[j]) + math.log(q)
            Sp[j] = 1.0
    return d


@leaf
def flush_entropy(S, M):
    """Add the pending products of `fire` to S (see there); every caller of `fire`
    calls this before S is read."""
    Sp = M.sprod
    for j in range(S.shape[0]):
        if Sp[j] != 1.0:
            S[j] += math.log(Sp[j])
            Sp[j] = 1.0


_fire, _flush_entropy = inlined(fire), inlined(flush_entropy)


@leaf
def _total(a):
    """The propensities' sum afresh, or -inf if one is negative (a broken rate law)."""
    a0 = 0.0
    for k in range(a.shape[0]):
        if a[k] < 0.0:
            return -np.inf
        a0 += a[k]
    return a0


@leaf
def ssa_advance(x, firings, S, ledger_sum, t, t_end, a, V, a0, rs, M, max_events, log=None):
    """Run events until t_end (or max_events). Returns (t, a0, events fired).

    Per transition j it accumulates firings[j], S[j] (the sum of ln(a_j(x)/a_r(x'))
    over its firings, r the reverse transition and x' the state after: entropy production
    in units of k_B, Schnakenberg 1976) and ledger_sum[j] (the sum of the midpoint potentials at
    its firings, from which the ledger computes V-dependent work; for a pump's ATP step
    on a metabolic pool, the sum of dG_ATP at its firings, `kernels.ledger_arg`).

    `rs`: the state of the exact steps' own generator (fastrand.py: an inlined
    xoshiro256** and ziggurat exponential, seeded from the replicate's SeedSequence).

    The waiting time that would cross t_end is discarded: by memorylessness, restarting
    the clock at t_end is exact.

    `log` (dwell.py; omitted otherwise): a tuple (flag per transition, times, transitions,
    [filled]) into which the firings of flagged transitions are written; when the buffer is
    full the loop returns at that event's time for Python to empty it. Omitted, the `log is
    not None` branches are pruned when Numba compiles, so the loop is the one without it.
    """
    fired = 0
    since_resum = 0
    while fired < max_events:
        if not 0.0 < a0 < np.inf:
            _flush_entropy(S, M)
            if a0 <= 0.0:
                # summed afresh: 0 is a state no transition leaves; a sum that drifted
                # below 0 by rounding goes on; a negative propensity is a broken rate law
                # (an SSA that treated it as 0 fired nothing and reported success)
                a0 = _total(a)
                if a0 == 0.0:
                    return t_end, a0, fired
                if 0.0 < a0 < np.inf:
                    continue
            # inf, NaN or negative: a rate law overflowed. Stop here (never loop with tau
            # = 0); the method object names the mechanism (engine/checks.py)
            if M.fail[0] != M.fail[0]:
                M.fail[0] = t
            return t_end, a0, fired
        tau = _exponential(rs) / a0
        if t + tau >= t_end:
            _flush_entropy(S, M)
            return t_end, a0, fired
        t += tau
        j = _pick(a, _uniform(rs) * a0)
        a0 += _fire(j, x, firings, S, ledger_sum, V, a, M)
        fired += 1
        if log is not None:
            if log[0][j]:
                n = log[3][0]
                log[1][n] = t
                log[2][n] = j
                log[3][0] = n + 1
                if n + 1 == log[1].shape[0]:
                    _flush_entropy(S, M)
                    return t, a0, fired
        since_resum += 1
        if since_resum >= 4096:  # bound the drift of the running sum
            a0 = _total(a)  # a broken rate law (-inf) stops at the check above
            since_resum = 0
    _flush_entropy(S, M)
    return t, a0, fired


@njit
def ssa_run(x, firings, S, ledger_sum, t, stop_times, out_x, out_firings, out_S, out_ledger_sum,
            rs, M):
    """Advance through stop_times, copying the state at each into the out_ rows."""
    a = np.zeros(firings.shape[0])
    V = np.zeros(M.mem_C.shape[0])
    voltages(x, V, M)
    a0 = all_propensities(x, V, a, M)
    total = 0
    for r in range(stop_times.shape[0]):
        t, a0, fired = ssa_advance(x, firings, S, ledger_sum, t, stop_times[r], a, V, a0, rs, M,
                                   1 << 62)
        total += fired
        a0 = all_propensities(x, V, a, M)
        record(r, x, firings, S, ledger_sum, out_x, out_firings, out_S, out_ledger_sum)
    return t, total


class SSA:
    """Method object: `advance(stop_times)` returns the states at those times."""

    name = "ssa"
    integer = True

    def __init__(self, model, x, rng):
        self.model = model
        self.M = model.kernel_args()
        self.x = np.array(x, np.int64)
        self.firings = np.zeros(model.nt, np.int64)
        self.S = np.zeros(model.nt)
        self.ledger_sum = np.zeros(model.nt)
        self.t = 0.0
        self.rng = rng
        self.rs = new_state(rng)  # the exact steps' own random numbers (fastrand.py)
        self.events = 0

    def _outputs(self, n):
        m = self.model
        return (np.empty((n, m.nx), np.int64), np.empty((n, m.nt), np.int64),
                np.empty((n, m.nt)), np.empty((n, m.nt)))

    def advance(self, stop_times):
        """States at stop_times: (counts, firings, entropy sums, potential sums) per row."""
        lattice.clear(self.M)  # parameters may have changed (events)
        out = self._outputs(len(stop_times))
        self.t, fired = ssa_run(self.x, self.firings, self.S, self.ledger_sum, self.t,
                                np.asarray(stop_times, float), *out, self.rs, self.M)
        self.events += fired
        checks.raise_on_failure(self.model, self.M, self.x)
        return out
