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
   the fast variables answer that draw's noise (`_damp_noise`: the implicit tau-leap's
   noise term, linearised), checks that the mean drift of every ion count stays below
   `eps` and V moves less than `dv_max`, and that no count goes negative; otherwise halves
   tau and tries again;
4. falls back to exact SSA steps when fewer than `ssa_below` events are due.

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

import numpy as np

from ionmc.engine import lattice
from ionmc.constants import E_CHARGE
from ionmc.engine.fastrand import exponential, uniform
from ionmc.mechanisms.base import LEDGER_OWN
from ionmc.engine.kernels import all_propensities, apply_transition, ledger_arg, pick, record, \
    voltages
from ionmc.numba_conf import njit
from ionmc.engine.ssa import SSA
from ionmc.engine.streams import count_to, move_cursor, stream_steps


@njit
def _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M):
    """Propensities with the fast unknowns y = (V of fmem..., counts of fidx...)."""
    nm = fmem.shape[0]
    for k in range(V.shape[0]):
        Vf[k] = V[k]
    for k in range(nm):
        Vf[fmem[k]] = y[k]
    for k in range(fidx.shape[0]):
        xf[fidx[k]] = y[nm + k]
    return all_propensities(xf, Vf, a, M)


@njit
def _residual(y, y0, tau, a, fmem, fidx, nu, qm, mem_C, res):
    nm = fmem.shape[0]
    for k in range(y.shape[0]):
        res[k] = y[k] - y0[k]
    for j in range(a.shape[0]):
        aj = a[j] * tau
        if aj == 0.0:
            continue
        for k in range(nm):  # qm[j, m]: charge j adds to membrane m (two for a coupling)
            if qm[j, fmem[k]] != 0.0:
                res[k] -= E_CHARGE / mem_C[fmem[k]] * qm[j, fmem[k]] * aj
        for k in range(fidx.shape[0]):
            res[nm + k] -= nu[j, fidx[k]] * aj


@njit
def _solve_linear(J, res):
    """-J^-1 res by Gaussian elimination with partial pivoting, J and res overwritten. The
    systems are small (a few potentials and pump states), and `np.linalg.solve` cost ~3 s
    of the first run's compilation. A singular or non-finite system raises, as
    `np.linalg.solve` did (the run fails with one line, test_activity)."""
    n = res.shape[0]
    for c in range(n):
        p = c
        for r in range(c + 1, n):
            if abs(J[r, c]) > abs(J[p, c]):
                p = r
        if p != c:
            for k in range(c, n):
                J[c, k], J[p, k] = J[p, k], J[c, k]
            res[c], res[p] = res[p], res[c]
        if not abs(J[c, c]) > 0.0:  # zero or NaN pivot
            raise ValueError("tau-leap: singular Jacobian in the implicit step")
        for r in range(c + 1, n):
            f = J[r, c] / J[c, c]
            for k in range(c, n):
                J[r, k] -= f * J[c, k]
            res[r] -= f * res[c]
    dy = np.empty(n)
    for r in range(n - 1, -1, -1):
        acc = -res[r]
        for k in range(r + 1, n):
            acc -= J[r, k] * dy[k]
        dy[r] = acc / J[r, r]
        if not math.isfinite(dy[r]):
            raise ValueError("tau-leap: non-finite Newton step in the implicit step")
    return dy


@njit
def _solve_fast(x, V, tau, fmem, fidx, nu, a, M, dA):
    """Backward-Euler values of the fast variables over tau. Returns (ok, y). dA[j, c]
    gets the derivative of propensity j by fast unknown c near the solution (finite
    differences of the last Newton iteration), for `_damp_noise`."""
    qm, mem_C = M.qm, M.mem_C
    nm = fmem.shape[0]
    n = nm + fidx.shape[0]
    y0 = np.empty(n)
    for k in range(nm):
        y0[k] = V[fmem[k]]
    for k in range(fidx.shape[0]):
        y0[nm + k] = x[fidx[k]]
    y = y0.copy()
    xf = x.astype(np.float64)
    Vf = V.copy()
    if n == 0:
        _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
        return True, y
    res = np.empty(n)
    res2 = np.empty(n)
    J = np.empty((n, n))
    a2 = np.empty_like(a)
    for it in range(30):
        _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
        _residual(y, y0, tau, a, fmem, fidx, nu, qm, mem_C, res)
        for c in range(n):
            h = 1e-7 if c < nm else max(1e-7 * abs(y[c]), 1e-3)
            old = y[c]
            y[c] = old + h
            _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a2, M)
            _residual(y, y0, tau, a2, fmem, fidx, nu, qm, mem_C, res2)
            y[c] = old
            for r in range(n):
                J[r, c] = (res2[r] - res[r]) / h
            for j in range(a.shape[0]):
                dA[j, c] = (a2[j] - a[j]) / h
        dy = _solve_linear(J, res)
        done = True
        for k in range(n):
            y[k] += dy[k]
            tol = 1e-10 if k < nm else 1e-9 * max(abs(y[k]), 1.0)
            if abs(dy[k]) > tol:
                done = False
            if k >= nm and y[k] < 0.0:
                y[k] = 0.0
        if done:
            _fast_propensities(x, xf, V, Vf, y, fmem, fidx, a, M)
            return True, y
    return False, y


@njit
def _fast_coef(r, j, fmem, fidx, nu, qm, mem_C):
    """How much one firing of transition j moves fast unknown r (a potential, in volts,
    or a count)."""
    nm = fmem.shape[0]
    if r < nm:
        return E_CHARGE / mem_C[fmem[r]] * qm[j, fmem[r]]
    return float(nu[j, fidx[r - nm]])


@njit
def _damp_noise(K, ahat, dA, tau, fmem, fidx, nu, qm, mem_C, rng, relax):
    """Add to the firings K the integer firings with which the fast variables answer the
    leap's own noise; set relax[m], the relaxation rate of each free membrane's V,
    lambda_m = -(e/C_m) sum_j q_jm da_j/dV_m, read off the step's Jacobian
    (J_mm = 1 + lambda_m tau) for the next leap's noise bound (`_noise_tau`).

    The Poisson draws scatter the fast unknowns (V, pump states) around their
    backward-Euler values by xi = sum_j coef_j (K_j - a_j tau): for V, the charge of
    sqrt(sum_j q_j^2 a_j tau) ions. In the real process that charge is pulled back within
    the membrane time constant, which is much shorter than the leap. Rathinam et al. 2003's implicit
    tau-leap, x' = x + nu (K - a(x) tau) + nu a(x') tau, includes the answer; linearised
    in the fast unknowns alone it is dy = J^-1 xi with the step's Jacobian J = I - tau
    coef dA, carried by dK_j = tau dA_j . dy extra firings (rounded stochastically, so
    without bias, except where K_j + dK_j < 0 is clipped at 0: ~1e-5 of a channel's
    firings in action_potential, found by review). The fast modes' scatter shrinks by
    1 + lambda tau (lambda: the mode's relaxation rate), the mean is unchanged, and every
    count stays an integer. A transition with no propensity at the solution gets no
    firings (dA there is a finite difference and may straddle a threshold).
    (The damped scatter is below the exact process's for lambda tau >> 1, as Rathinam et
    al. note for stiff modes; use `ssa` for the noise of V itself.)"""
    n = dA.shape[1]
    nt = K.shape[0]
    if n == 0:
        return
    xi = np.zeros(n)
    J = np.zeros((n, n))
    for r in range(n):
        J[r, r] = 1.0
    for j in range(nt):
        dev = K[j] - ahat[j] * tau
        for r in range(n):
            c = _fast_coef(r, j, fmem, fidx, nu, qm, mem_C)
            if c == 0.0:
                continue
            xi[r] += c * dev
            for k in range(n):
                J[r, k] -= tau * c * dA[j, k]
    for k in range(fmem.shape[0]):
        relax[fmem[k]] = (J[k, k] - 1.0) / tau
    for r in range(n):
        xi[r] = -xi[r]
    dy = _solve_linear(J, xi)  # J dy = xi (J overwritten)
    for j in range(nt):
        if ahat[j] <= 0.0:
            continue
        dk = 0.0
        for k in range(n):
            dk += tau * dA[j, k] * dy[k]
        if dk == 0.0:
            continue
        base = math.floor(dk)
        extra = int(base) + (1 if rng.random() < dk - base else 0)
        K[j] = max(K[j] + extra, 0)


@njit
def _noise_tau(c, lam, dv):
    """Largest tau whose noise moves V by at most dv (sd) after `_damp_noise`: the draws
    scatter V by sqrt(c tau) (c = (e/C)^2 sum_j q_j^2 a_j), which the implicit answer
    divides by 1 + lam tau. Without relaxation (lam <= 0) this is Cao et al.'s bound
    dv^2/c. With it, the damped scatter peaks at tau = 1/lam at sqrt(c / (4 lam)) -- the
    exact process's own shot noise over sqrt(2) -- and when that is below dv no tau is
    limited by noise; otherwise tau stays below the smaller root of
    c tau = dv^2 (1 + lam tau)^2 (beyond the larger root the bound holds again; not used).

    This bounds the V scatter from the membrane's own shot noise. Gating and pump-state
    noise also reach V through J^-1 xi; in squid_axon that part is ~0.2 mV per leap where
    this estimate is ~0.01 mV (review, linearised per-leap variance) -- still below the
    exact process's own V noise there (LNA 0.38 mV)."""
    d2 = dv * dv
    if lam <= 0.0:
        return d2 / c
    if c <= 4.0 * lam * d2:
        return np.inf
    b = c - 2.0 * lam * d2
    return 2.0 * d2 / (b + math.sqrt(b * b - 4.0 * lam * lam * d2 * d2))


@njit
def exact_steps(x, firings, S, ledger_sum, t, t_end, a, V, a0, rs, M, max_events):
    """Exact direct-method steps (Gillespie 1977) for the stretches where fewer than
    `ssa_below` events are due per leap. Returns (t, events fired); accumulates firings, S, ledger_sum
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
        if ar > 0.0:
            S[j] += math.log(aj / ar)
    return t, fired


@njit
def tauleap_advance(x, firings, S, ledger_sum, t, t_end, tau_prev, relax, rng, rs, M, nu, fmem, fidx, nion,
                    eps, dv_max, dv_noise, ssa_below, floor, streams=None):
    """Leap from t to t_end. Returns (t, tau_prev, events fired). firings, S and ledger_sum accumulate
    as in `ssa_advance`, each leap's firings weighted by ln(a_j/a_r) and V_mid at the
    leap's backward-Euler state.

    `streams` (paired runs, paired.PairedTauLeap; omitted otherwise, and then compiled
    out): (key, internal times, Y_j at them, superblock cursors, counts before them). The
    firings of a leap are then the increments of each transition's own Poisson process over
    its internal time a_j tau (streams.py), and the exact-step fallback reads the same
    processes (`streams.stream_steps`)."""
    tr_src, qm, rev, first_order = M.src, M.qm, M.rev, M.first_order
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
    dA = np.zeros((nt, fmem.shape[0] + fidx.shape[0]))
    xm = np.zeros(nx)
    xmi = np.zeros(nx, np.int64)
    amid = np.zeros(nt)
    fired = 0
    while t < t_end:
        voltages(x, V, M)
        a0 = all_propensities(x.astype(np.float64), V, a, M)
        if a0 <= 0.0:
            return t_end, tau_prev, fired
        tau = min(2.0 * tau_prev, t_end - t)
        # noise bounds (Cao, Gillespie & Petzold 2006, with mu from the implicit solve)
        for i in range(nx):
            sig2[i] = 0.0
        for m in range(nmem):
            sigq[m] = 0.0
        for j in range(nt):
            for e in range(st_ptr[j], st_ptr[j + 1]):
                sig2[st_idx[e]] += st_del[e] * st_del[e] * a[j]
            for m in range(nmem):
                sigq[m] += qm[j, m] * qm[j, m] * a[j]
        for i in range(nx):
            if sig2[i] > 0.0 and floor[i] < np.inf:
                bound = max(eps * x[i], floor[i])
                tau = min(tau, bound * bound / sig2[i])
        for m in range(nmem):
            if sigq[m] > 0.0 and not mem_clamped[m]:
                s = E_CHARGE / mem_C[m]
                tau = min(tau, _noise_tau(s * s * sigq[m], relax[m], dv_noise))
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
            ok, y = _solve_fast(x, V, tau, fmem, fidx, nu, ahat, M, dA)
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
                for i in range(nion):
                    if abs(sig2[i]) > max(eps * x[i], floor[i]):
                        good = False
                        break
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
                _damp_noise(K, ahat, dA, tau, fmem, fidx, nu, qm, mem_C, rng, relax)
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
                if amid[j] > 0.0 and amid[rev[j]] > 0.0:
                    S[j] += K[j] * math.log(amid[j] / amid[rev[j]])
                elif ahat[rev[j]] > 0.0:  # a midpoint at a threshold: the leap's rates
                    S[j] += K[j] * math.log(ahat[j] / ahat[rev[j]])
            t += tau
            tau_prev = tau
            break
    return t_end, tau_prev, fired


@njit
def tauleap_run(x, firings, S, ledger_sum, t, stop_times, out_x, out_firings, out_S, out_ledger_sum, tau0, relax, rng, rs,
                M, nu, fmem, fidx, nion, eps, dv_max, dv_noise, ssa_below, floor, streams=None):
    tau = tau0
    total = 0
    for r in range(stop_times.shape[0]):
        t, tau, n = tauleap_advance(x, firings, S, ledger_sum, t, stop_times[r], tau, relax, rng, rs, M, nu,
                                    fmem, fidx, nion, eps, dv_max, dv_noise, ssa_below, floor,
                                    streams)
        total += n
        record(r, x, firings, S, ledger_sum, out_x, out_firings, out_S, out_ledger_sum)
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
        #: V's relaxation rate per membrane, from the last implicit step (`_noise_tau`)
        self.relax = np.zeros(len(model.mems))
        self.nu = model.nu.astype(np.int64)
        self.fmem = np.array([m for m in range(len(model.mems)) if not model.mem_clamped[m]],
                             np.int64)
        moved = np.nonzero(np.any(model.nu != 0, axis=0))[0]
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
        # pool keep the bound, so that runs without metabolism are unchanged.
        for mech in model.mechs:
            if mech.states and model.tr_ledger[mech.transitions[0]] == LEDGER_OWN:
                self.floor[mech.states] = np.inf
        self.fidx = np.array(fast, np.int64)

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
        self.t, self.tau, fired = tauleap_run(
            self.x, self.firings, self.S, self.ledger_sum, self.t, np.asarray(stop_times, float), *out,
            self.tau, self.relax, self.rng, self.rs, self.M, self.nu, self.fmem, self.fidx,
            self.model.nion, self.eps, self.dv_max, self.dv_noise, self.ssa_below, self.floor,
            *self._streams())
        self.events += fired
        return out
