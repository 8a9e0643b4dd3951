"""One random stream per transition, for paired (common-random-number) runs: the exact SSA
(below) and tau-leaping (`PairedTauLeap`, with the streams of streams.py).

Anderson's modified next reaction method (Anderson 2007, J Chem Phys 127:214107; the
coupling of Anderson & Higham 2012): transition j fires when its internal time
T_j = integral of a_j dt reaches P_j, the next point of a unit-rate Poisson process of its
own. With `[scenario] random_streams = "per_transition"`, the Poisson process of transition
j in replicate r is a fixed function of (root seed, r, j): a counter-based generator
(SplitMix64 on the triple), not a shared sequential stream. Run a control and a treatment
with the same seed and each replicate pair shares every transition's Poisson process; where
their propensities agree their events coincide, so after an event in the treatment the pair
drifts apart only as fast as the treatment really changes the rates. A shared uniform
stream (the direct method) decorrelates within a few events instead.

Exact like the direct method (same process, another sampling of it); O(transitions) per
event, so meant for the small networks noise studies use.
"""
import math

import numpy as np

from ionmc.engine import checks, lattice
from ionmc.engine.kernels import all_propensities, record, voltages
from ionmc.numba_conf import inlined, leaf, njit
from ionmc.engine.ssa import fire, flush_entropy
from ionmc.engine.streams import _GOLDEN, _mix, next_firing
from ionmc.engine.tauleap import TauLeap

_fire, _flush_entropy, _next_firing = (inlined(k) for k in (fire, flush_entropy, next_firing))


@njit
def stream_exp(key, j, k):
    """The k-th Exp(1) variate of transition j's stream (key: the replicate's seed)."""
    h = _mix(key ^ _mix(np.uint64(j) * _GOLDEN + np.uint64(1)))
    z = _mix(h + np.uint64(k) * _GOLDEN)
    u = (float(z >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)  # (0, 1)
    return -math.log(u)


@leaf
def mnrm_advance(x, firings, S, ledger_sum, t, t_end, a, V, Tin, P, cnt, key, M):
    """Fire events until t_end; returns (t, events fired). Tin: internal times, P: next
    Poisson points, cnt: draws used per stream. Accumulates firings, S,
    ledger_sum like `ssa_advance`."""
    fired = 0
    while True:
        mu, t = _next_firing(a, P, Tin, t, t_end)
        if mu < 0:
            _flush_entropy(S, M)
            return t_end, fired
        if not a[mu] < np.inf:  # an overflowed rate would fire forever at one instant
            _flush_entropy(S, M)
            if M.fail[0] != M.fail[0]:
                M.fail[0] = t
            return t_end, fired
        _fire(mu, x, firings, S, ledger_sum, V, a, M)  # the same step and bookkeeping as ssa.py
        fired += 1
        P[mu] += stream_exp(key, mu, cnt[mu])
        cnt[mu] += 1


@njit
def mnrm_run(x, firings, S, ledger_sum, t, stop_times, out_x, out_firings, out_S,
             out_ledger_sum, Tin, P, cnt, key, M):
    a = np.zeros(firings.shape[0])
    V = np.zeros(M.mem_C.shape[0])
    total = 0
    for r in range(stop_times.shape[0]):
        voltages(x, V, M)
        # parameters may have changed at an event
        if not all_propensities(x, V, a, M) < np.inf and M.fail[0] != M.fail[0]:
            M.fail[0] = t  # inf or NaN (engine/checks.py): stop here
            return t, total
        t, fired = mnrm_advance(x, firings, S, ledger_sum, t, stop_times[r], a, V, Tin, P, cnt,
                                key, M)
        total += fired
        record(r, x, firings, S, ledger_sum, out_x, out_firings, out_S, out_ledger_sum)
    return t, total


@njit
def first_points(key, nt):
    P = np.empty(nt)
    for j in range(nt):
        P[j] = stream_exp(key, j, 0)
    return P


class PairedSSA:
    """The `ssa` method with per-transition streams (`random_streams = "per_transition"`)."""

    name = "ssa"
    integer = True

    def __init__(self, model, x, rng, key):
        self.model = model
        self.M = model.kernel_args()
        self.x = np.array(x, np.int64)
        nt = model.nt
        self.firings = np.zeros(nt, np.int64)
        self.S = np.zeros(nt)
        self.ledger_sum = np.zeros(nt)
        self.key = np.uint64(key)
        self.Tin = np.zeros(nt)
        self.P = first_points(self.key, nt)
        self.cnt = np.ones(nt, np.int64)
        self.t = 0.0
        self.events = 0

    def advance(self, stop_times):
        m = self.model
        n = len(stop_times)
        out = (np.empty((n, m.nx), np.int64), np.empty((n, m.nt), np.int64),
               np.empty((n, m.nt)), np.empty((n, m.nt)))
        lattice.clear(self.M)  # parameters may have changed (events)
        self.t, fired = mnrm_run(self.x, self.firings, self.S, self.ledger_sum, self.t,
                                 np.asarray(stop_times, float), *out, self.Tin, self.P,
                                 self.cnt, self.key, self.M)
        checks.raise_on_failure(self.model, self.M, self.x)
        self.events += fired
        return out


class PairedTauLeap(TauLeap):
    """The `tau-leap` method with per-transition streams: each leap fires every transition
    by the increment of its own unit-rate Poisson process over its internal time
    (streams.py; Anderson 2008), so control and treatment leaps read the same points
    wherever their internal times agree, whatever step sizes each run picks."""

    def __init__(self, model, x, rng, key):
        super().__init__(model, x, rng)
        nt = model.nt
        self.streams = (np.uint64(key), np.zeros(nt), np.zeros(nt, np.int64),
                        np.zeros(nt, np.int64), np.zeros(nt, np.int64))

    def _streams(self):
        return (self.streams,)
