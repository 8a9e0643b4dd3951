"""Adaptive tau-leaping with an implicit treatment of the fast variables.

The stiff part of an ion-gradient model is not the ions: it is the membrane potential
(a charge imbalance relaxes in the membrane time constant, ~1 ms) and the pump's cycle
states (relaxing in ~2 ms), while concentrations change over seconds to minutes. An
explicit leap would be throttled (and destabilised) by those fast modes. So each leap

1. picks tau from the slow variables and from noise bounds (Cao, Gillespie & Petzold
   2006: the relative change of every ion count stays below `eps`; the standard deviation
   of V from the leap's own noise, after step 3's damping, stays below `dv_noise`);
2. solves, by Newton's method, the backward-Euler equations of the fast variables alone
   (each unclamped membrane's V and the pump state counts) over tau with concentrations
   held at the start of the leap -- L-stable, so V and pump states land on their
   quasi-steady values however long tau is (Rathinam, Petzold, Cao & Gillespie 2003
   treat all species implicitly; the slow ones do not need it);
3. draws the number of firings of every transition from Poisson(a_j(fast^) tau)
   (binomial for a leak that could empty its source), adds the integer firings with which
   the fast variables answer that draw's noise (`implicit.damp_noise`: the implicit tau-leap's
   noise term, linearised), checks that the mean drift of every ion count stays below
   `eps` and V moves less than `dv_max`, that no count goes negative and that the V the
   new counts give is within 4 `dv_noise` of its backward-Euler value; otherwise shrinks
   tau (by half, or for a drift beyond `eps` to 0.8 of the tau the drift allows) and
   tries again;
4. falls back to exact SSA steps when fewer than `ssa_below` events are due.

The next leap's tau starts at twice this one's, or at 0.8 of the tau this leap's drift
would have allowed, whichever is less: the drift is checked after the implicit solve, so
a tau that only doubled was rejected and solved again whenever a slow count's drift held
the leaps (a tissue's ECS K+ after a pump block: two of every three solves were rejected).

A metabolic pool adds fast variables of its own: the cell's O2 (a few 1e4 molecules
turned over ~1e3 times a second), ADP (held near creatine kinase's equilibrium), and PCr
and ATP, which become scarce and stiff once the stores run out. They join the implicit
solve, and are left out of the noise and drift bounds (`floor` = inf), which
would otherwise hold tau to ~1e-4 s; their counts after a leap carry its Poisson noise.
The pool's other species (Pi, Cr) are bounded relative to their count, with an absolute
floor `pool_atol_mM`.

Events fire by integer transitions, so every species is conserved exactly and the
cumulative per-transition counts stay integers. Means follow the ODE; fluctuations of the
fast modes are not those of the exact process: V scatters around the ODE by less than the
membrane's own shot noise (tests/test_methods.py; use `ssa` for noise studies).

Without step 3's damping, each leap's Poisson draws scattered V by up to `dv_noise`
(measured sd 0.17 mV on benchmarks/peers.py's network b), and bounding that noise held
tau ~9x shorter than the counts needed (3.75 s of CPU for 600 s; with it 0.43 s, V within
0.07 mV of the ODE).
"""
import math
from typing import NamedTuple

import numpy as np

from ionmc.engine import checks, lattice
from ionmc.constants import E_CHARGE
from ionmc.engine.fastrand import exponential, uniform
from ionmc.engine.implicit import FastBlocks, damp_noise, fast_blocks, noise_tau, solve_fast
from ionmc.mechanisms.base import LEDGER_DRIVEN, LEDGER_OWN
from ionmc.engine.kernels import all_propensities, apply_transition, ledger_arg, pick, record, \
    voltages
from ionmc.numba_conf import njit
from ionmc.engine.ssa import SSA
from ionmc.engine.streams import count_to, move_cursor, stream_steps


@njit
def exact_steps(x, firings, S, ledger_sum, t, t_end, a, V, a0, rs, M, max_events):
    """Exact direct-method steps (Gillespie 1977) for the stretches where fewer than
    `ssa_below` events are due per leap. Returns (t, events fired); accumulates firings, S,
    ledger_sum
    as `ssa.ssa_advance` does, from the same draws (fastrand.py).

    Every propensity is recomputed after each event (`all_propensities`, which this
    method compiles anyway) instead of `ssa_advance`'s dependency graph and lattice
    tables: inlined into the leap's kernel those were ~6 s of a first tau-leap run's
    ~18 s of compilation, for stretches of at most `max_events` events."""
    rev = M.rev
    xf = x.astype(np.float64)
    st_ptr, st_idx = M.st_ptr, M.st_idx
    fired = 0
    while fired < max_events:
        if a0 <= 0.0:
            return t_end, fired
        tau = exponential(rs) / a0
        if t + tau >= t_end:
            return t_end, fired
        t += tau
        j = pick(a, uniform(rs) * a0)
        aj = a[j]
        ledger_sum[j] += ledger_arg(j, x, V, M.kind, M.mem, M.half_dv, M.ledger, M.p, M.ii,
                            M.inv_nvol)
        apply_transition(j, x, 1, M)
        for e in range(st_ptr[j], st_ptr[j + 1]):
            xf[st_idx[e]] = x[st_idx[e]]
        firings[j] += 1
        fired += 1
        voltages(x, V, M)
        a0 = all_propensities(xf, V, a, M)
        ar = a[rev[j]]
        if ar > 0.0 and M.ledger[j] != LEDGER_DRIVEN:
            S[j] += math.log(aj / ar)
    return t, fired


class LeapArgs(NamedTuple):
    """The tau-leap's own arguments beside the model's (`KernelArgs`): the fast unknowns
    (`fmem`: free membranes, `fidx`: state indices solved implicitly), `nion` (ion state
    indices come first), the bounds `eps`, `dv_max`, `dv_noise` (volts), `ssa_below`
    (exact steps below this many events per leap), `floor` (smallest bounded change per
    state index; inf: not bounded), `relax` (each membrane's relaxation rate from the last
    implicit step; written by the kernel) and `blocks` (the fast unknowns' independent
    blocks: implicit.FastBlocks)."""
    fmem: np.ndarray
    fidx: np.ndarray
    nion: int
    eps: float
    dv_max: float
    dv_noise: float
    ssa_below: float
    floor: np.ndarray
    relax: np.ndarray
    blocks: FastBlocks


@njit(inline="always")
def tauleap_advance(x, firings, S, ledger_sum, t, t_end, tau_prev, rng, rs, M, L,
                    streams=None):
    """Leap from t to t_end (steps 1-4 of the module's docstring). Returns (t, tau_prev,
    events fired). `firings`, S and `ledger_sum` accumulate as in `ssa_advance`, each
    leap's firings weighted by ln(a_j/a_r) and V_mid at the leap's backward-Euler state.

    `streams` (paired runs, paired.PairedTauLeap; omitted otherwise, and then compiled
    out): (key, internal times, Y_j at them, superblock cursors, counts before them). The
    firings of a leap are then the increments of each transition's own Poisson process over
    its internal time a_j tau (streams.py), and the exact-step fallback reads the same
    processes (`streams.stream_steps`)."""
    # One function of ~150 lines on purpose: its four parts (noise bound, drift check,
    # draw, booking) as compiled functions of their own added 3.5 s (+17%) to a first
    # tau-leap run's compilation, merged in at the IR level (numba_conf.inlined) still
    # 1.4 s (benchmarks/compare_revisions.py, Numba's compile events).
    fmem, fidx, nion, floor, relax = L.fmem, L.fidx, L.nion, L.floor, L.relax
    mv_ptr, mv_row, mv_q, nfm = L.blocks.mv_ptr, L.blocks.mv_row, L.blocks.mv_q, L.fmem.shape[0]
    eps, dv_max, dv_noise, ssa_below = L.eps, L.dv_max, L.dv_noise, L.ssa_below
    tr_src, rev, first_order = M.src, M.rev, M.first_order
    st_ptr, st_idx, st_del = M.st_ptr, M.st_idx, M.st_del
    mem_C, mem_clamped = M.mem_C, M.mem_clamped
    nt = firings.shape[0]
    nx = x.shape[0]
    nmem = mem_C.shape[0]
    a = np.zeros(nt)
    ahat = np.zeros(nt)
    V = np.zeros(nmem)
    sig2 = np.zeros(nx)
    sigq = np.zeros(nmem)
    K = np.zeros(nt, np.int64)
    xnew = np.empty_like(x)
    Vhat = np.zeros(nmem)
    Vnew = np.zeros(nmem)
    dA = np.zeros((nt, L.blocks.width))
    xm = np.zeros(nx)
    xmi = np.zeros(nx, np.int64)
    amid = np.zeros(nt)
    fired = 0
    while t < t_end:
        voltages(x, V, M)
        a0 = all_propensities(x.astype(np.float64), V, a, M)
        negative = False
        for j in range(nt):
            negative = negative or a[j] < 0.0
        if negative or not 0.0 < a0 < np.inf:
            # inf, NaN or a negative rate: a broken law (engine/checks.py); a sum of 0: a
            # state no transition leaves
            if (negative or not a0 == 0.0) and M.fail[0] != M.fail[0]:
                M.fail[0] = t
            return t_end, tau_prev, fired
        room = t_end - t
        tau = min(2.0 * tau_prev, room)
        # noise bounds (Cao, Gillespie & Petzold 2006, with mu from the implicit solve)
        for i in range(nx):
            sig2[i] = 0.0
        for m in range(nmem):
            sigq[m] = 0.0
        for j in range(nt):
            for e in range(st_ptr[j], st_ptr[j + 1]):
                sig2[st_idx[e]] += st_del[e] * st_del[e] * a[j]
            for e in range(mv_ptr[j], mv_ptr[j + 1]):  # the free membranes j charges
                r = mv_row[e]
                if r < nfm:
                    sigq[fmem[r]] += mv_q[e] * mv_q[e] * a[j]
        for i in range(nx):
            if sig2[i] > 0.0 and floor[i] < np.inf:
                bound = max(eps * x[i], floor[i])
                tau = min(tau, bound * bound / sig2[i])
        for m in range(nmem):
            if sigq[m] > 0.0 and not mem_clamped[m]:
                s = E_CHARGE / mem_C[m]
                tau = min(tau, noise_tau(s * s * sigq[m], relax[m], dv_noise))
        drift = 0.0
        while True:
            if tau * a0 < ssa_below:
                # few events due: exact steps instead
                t_stop = min(t_end, t + ssa_below / a0 * 10.0)
                if streams is None:
                    t, n = exact_steps(x, firings, S, ledger_sum, t, t_stop, a, V, a0, rs, M, 100)
                else:  # the same streams, so that the pair stays coupled
                    t, n = stream_steps(x, firings, S, ledger_sum, t, t_stop, a, V, M, 100, streams)
                fired += n
                tau_prev = max(tau, 1e-12)
                break
            ok, y = solve_fast(x, V, tau, fmem, fidx, ahat, M, dA, L.blocks)
            good = ok
            if good:
                for k in range(fmem.shape[0]):
                    if abs(y[k] - V[fmem[k]]) > dv_max:
                        good = False
            if good:
                # mean drift of every ion count
                for i in range(nion):
                    sig2[i] = 0.0
                for j in range(nt):
                    for e in range(st_ptr[j], st_ptr[j + 1]):
                        if st_idx[e] < nion:
                            sig2[st_idx[e]] += st_del[e] * ahat[j] * tau
                drift = 0.0  # the largest drift against its bound
                for i in range(nion):
                    drift = max(drift, abs(sig2[i]) / max(eps * x[i], floor[i]))
                if drift > 1.0:
                    tau *= max(0.8 / drift, 0.1)
                    continue
            if not good:
                tau *= 0.5
                continue
            for j in range(nt):
                lam = ahat[j] * tau
                if streams is not None:
                    K[j] = 0 if lam <= 0.0 else count_to(
                        streams[0], j, streams[1][j] + lam, streams[3][j],
                        streams[4][j]) - streams[2][j]
                elif lam <= 0.0:
                    K[j] = 0
                elif first_order[j] and lam > 0.25 * x[tr_src[j]]:
                    # a rate per ion: the firings of a leap are at most the ions there
                    n = x[tr_src[j]]
                    K[j] = rng.binomial(n, -math.expm1(-lam / n))
                else:
                    K[j] = rng.poisson(lam)
            if streams is None:  # paired runs keep each transition's own stream
                damp_noise(K, ahat, dA, tau, fmem, fidx, rng, relax, L.blocks)
            for i in range(nx):
                xnew[i] = x[i]
            for j in range(nt):
                if K[j] != 0:
                    apply_transition(j, xnew, K[j], M)
            negative = False
            for i in range(nx):
                if xnew[i] < 0:
                    negative = True
                    break
            if negative:
                tau *= 0.5
                continue
            # the potential the leap's counts give against its backward-Euler value: the
            # leap's V noise after damping, bounded (sd) by dv_noise through tau; beyond
            # 4 dv_noise the linearised noise answer failed (fast pump states over long
            # leaps, found on pump_block with 1 s leaps: V off by 1.3 mV)
            voltages(xnew, Vnew, M)
            scattered = False
            for k in range(fmem.shape[0]):
                if abs(Vnew[fmem[k]] - y[k]) > 4.0 * dv_noise:
                    scattered = True
            if scattered:
                tau *= 0.5
                continue
            # the ledger's sums at the leap's midpoint: slow counts halfway between start
            # and end, fast variables at their backward-Euler values (second order in
            # tau; at the start counts it drifted by gross flux x tau x dln c/dt: 1.8e-3
            # of the balance's scale per second with 100 pA injected, tests/test_injection)
            for i in range(nx):
                xm[i] = 0.5 * (x[i] + xnew[i])
            for k in range(fidx.shape[0]):
                xm[fidx[k]] = y[fmem.shape[0] + k]
            for i in range(nx):  # integer counts for `ledger_arg` (its one compiled form)
                xmi[i] = np.int64(round(xm[i]))
            for i in range(nx):
                x[i] = xnew[i]
            if streams is not None:
                for j in range(nt):
                    streams[1][j] += ahat[j] * tau
                    streams[2][j] += K[j]
                    move_cursor(streams[0], j, streams[1][j], streams[3], streams[4])
            for m in range(nmem):
                Vhat[m] = V[m]
            for k in range(fmem.shape[0]):
                Vhat[fmem[k]] = y[k]
            all_propensities(xm, Vhat, amid, M)
            for j in range(nt):
                if K[j] == 0:
                    continue
                firings[j] += K[j]
                fired += K[j]
                ledger_sum[j] += K[j] * ledger_arg(j, xmi, Vhat, M.kind, M.mem, M.half_dv, M.ledger,
                                           M.p, M.ii, M.inv_nvol)
                if M.ledger[j] == LEDGER_DRIVEN:  # no entropy of its own (base.py)
                    pass
                elif amid[j] > 0.0 and amid[rev[j]] > 0.0:
                    S[j] += K[j] * math.log(amid[j] / amid[rev[j]])
                elif ahat[rev[j]] > 0.0:  # a midpoint at a threshold: the leap's rates
                    S[j] += K[j] * math.log(ahat[j] / ahat[rev[j]])
            t += tau
            # the next leap starts at 2 tau, or where this one's drift says it would fail;
            # a leap cut short by t_end says nothing against the tau before it (each record
            # interval began again from the cut leap's tau)
            nxt = tau * min(1.0, 0.4 / drift) if drift > 0.0 else tau
            tau_prev = max(nxt, tau_prev) if tau == room else nxt
            break
    return t_end, tau_prev, fired


@njit
def tauleap_run(x, firings, S, ledger_sum, t, stop_times, out, tau0, rng, rs, M, L,
                streams=None):
    """Leap to each stop time in turn, recording the state at each into `out` (the
    method's `_outputs`)."""
    tau = tau0
    total = 0
    for r in range(stop_times.shape[0]):
        t, tau, n = tauleap_advance(x, firings, S, ledger_sum, t, stop_times[r], tau, rng, rs,
                                    M, L, streams)
        total += n
        record(r, x, firings, S, ledger_sum, out[0], out[1], out[2], out[3])
    return t, tau, total


class TauLeap(SSA):
    """Shares the SSA's integer state (and falls back to its exact steps)."""

    name = "tau-leap"
    #: relative change of an ion count per leap; V drift and V noise per leap (volts)
    eps = 0.01
    dv_max = 1e-3
    dv_noise = 2e-4
    ssa_below = 20.0
    pool_atol_mM = 1e-3
    #: pool species solved implicitly: O2 and ADP turn over in ms; PCr (through creatine
    #: kinase) and ATP become stiff and scarce once the stores run out
    fast_pool = ("O2", "ADP", "ATP", "PCr")

    def __init__(self, model, x, rng):
        super().__init__(model, x, rng)
        self.tau = 1e-6
        #: V's relaxation rate per membrane, from the last implicit step (`noise_tau`)
        self.relax = np.zeros(len(model.mems))
        self.fmem = np.array([m for m in range(len(model.mems)) if not model.mem_clamped[m]],
                             np.int64)
        moved = np.nonzero(model.nu.getnnz(axis=0))[0]
        fast = [i for i in moved if i >= model.nion]
        # smallest change of a count the bounds allow: one ion; for the pool's species an
        # absolute tolerance of `pool_atol_mM`; the fast ones are not bounded
        self.floor = np.ones(model.nx)
        for c, mech in model.pools.items():
            for s, i in model.pool_indices(c).items():
                if model.clamped[i]:
                    continue
                if s in self.fast_pool and i in moved:
                    fast.append(i)
                    self.floor[i] = np.inf
                else:
                    self.floor[i] = max(1.0, self.pool_atol_mM / model.inv_nvol[i])
        # The pump states are solved implicitly too, but bounded like counts; once a pool's
        # ATP runs out they sit at small counts under large gross fluxes and that bound
        # held tau to ~1e-4 s (anoxia). Pumps on a pool are freed from it; pumps without a
        # pool keep the bound, so that runs without metabolism are unchanged; a type may
        # free its states always (LEAP_STATES_FREE: the per-molecule pump's 13 states turn
        # over ~1e3 times a second, and the bound held tau to ~1e-4 s in a whole cell).
        for mech in model.mechs:
            if mech.states and (mech.LEAP_STATES_FREE
                                or model.tr_ledger[mech.transitions[0]] == LEDGER_OWN):
                self.floor[mech.states] = np.inf
        self.fidx = np.array(fast, np.int64)
        self.blocks = fast_blocks(model, self.fmem, self.fidx)

    def _streams(self):
        """Extra arguments of the kernels: none here (paired.PairedTauLeap adds streams)."""
        return ()

    def advance(self, stop_times):
        lattice.clear(self.M)  # parameters may have changed (events)
        # and with them each membrane's relaxation rate: the first leap takes the undamped
        # noise bound, the next ones the rate of the leap before (kept across record
        # intervals: reset per interval, every interval began at the undamped bound)
        self.relax[:] = 0.0
        out = self._outputs(len(stop_times))
        L = LeapArgs(self.fmem, self.fidx, self.model.nion, self.eps, self.dv_max,
                     self.dv_noise, self.ssa_below, self.floor, self.relax, self.blocks)
        self.t, self.tau, fired = tauleap_run(
            self.x, self.firings, self.S, self.ledger_sum, self.t,
            np.asarray(stop_times, float), out, self.tau, self.rng, self.rs, self.M, L,
            *self._streams())
        self.events += fired
        checks.raise_on_failure(self.model, self.M, self.x)
        return out
