"""The deterministic mean-field limit: d<x>/dt = sum_j nu_j a_j(<x>), integrated with a
stiff solver: scipy's LSODA (Hindmarsh 1983; Petzold 1983), which switches to BDF where
the membrane charge and pump states make the system stiff. At a fixed point scipy's own
BDF needed ~40x the right-hand-side calls of LSODA at rtol 1e-9 (resting_neuron, 1e4 s:
6951 against 151) and stalled with the ledger's accumulators; LSODA does not.

The same propensities as the stochastic methods are evaluated on continuous counts, and
the cumulative expected number of firings of every transition (with its entropy and
ledger sums) is integrated as a quadrature of the solver's steps, so the output has the
same columns (forward/backward counts are then expected counts, and count columns are
rounded; `.mM` and `V_mV` columns keep full precision). The solver's Jacobian is taken
through the membrane potentials (`count_jac`).
"""
import math
from typing import NamedTuple

import numpy as np

from ionmc.engine import checks
from ionmc.constants import E_CHARGE
from ionmc.engine.dispatch import propensity
from ionmc.engine.kernels import all_propensities, ledger_arg, prop_arrays, voltages
from ionmc.numba_conf import njit


@njit
def ode_rhs(y, nx, nu, M):
    """d/dt of (counts, then per transition: firings, entropy sums S, ledger sums ledger_sum);
    S and ledger_sum are the mean-field limits of what `ssa_advance` accumulates. With y holding
    counts only, only the counts' derivative is returned."""
    rev = M.rev
    x = y[:nx]
    nt = nu.shape[0]
    a = np.zeros(nt)
    V = np.zeros(M.mem_C.shape[0])
    voltages(x, V, M)
    all_propensities(x, V, a, M)
    dy = np.zeros(y.shape[0])
    accumulate = y.shape[0] > nx
    for j in range(nt):
        if a[j] == 0.0:
            continue
        for i in range(nx):
            if nu[j, i] != 0.0:
                dy[i] += nu[j, i] * a[j]
        if not accumulate:
            continue
        dy[nx + j] = a[j]
        if a[rev[j]] > 0.0:
            dy[nx + nt + j] = a[j] * math.log(a[j] / a[rev[j]])
        dy[nx + 2 * nt + j] = a[j] * ledger_arg(j, x, V, M.kind, M.mem, M.half_dv, M.ledger,
                                                M.p, M.ii, M.inv_nvol)
    return dy


#: 3-point Gauss-Legendre on [-1, 1]: exact for polynomials of degree 5, LSODA's highest
#: BDF order, so the quadrature's error is below the step's own
_GAUSS_X = np.array([-math.sqrt(0.6), 0.0, math.sqrt(0.6)])
_GAUSS_W = np.array([5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0])


@njit
def step_integrals(yh, t_ref, h, t0, t1, M):
    """The accumulators' increments over [t0, t1] within one solver step: per transition,
    the integrals of a, a ln(a/a_rev) and a times the ledger's argument (the mean-field
    limits of what `ssa_advance` accumulates as firings, S and ledger_sum), by Gauss-Legendre
    on the step's own interpolant (its Nordsieck array yh, x(t) = sum_p yh[:, p]
    ((t - t_ref)/h)^p). Returns an array (3, nt)."""
    rev = M.rev
    nt = rev.shape[0]
    nx, order = yh.shape
    out = np.zeros((3, nt))
    if t1 <= t0:
        return out
    a = np.zeros(nt)
    V = np.zeros(M.mem_C.shape[0])
    x = np.zeros(nx)
    half = 0.5 * (t1 - t0)
    for q in range(_GAUSS_X.shape[0]):
        s = (t0 + half * (1.0 + _GAUSS_X[q]) - t_ref) / h
        x[:] = 0.0
        sp = 1.0
        for p in range(order):
            for i in range(nx):
                x[i] += yh[i, p] * sp
            sp *= s
        voltages(x, V, M)
        all_propensities(x, V, a, M)
        w = half * _GAUSS_W[q]
        for j in range(nt):
            if a[j] == 0.0:
                continue
            out[0, j] += w * a[j]
            if a[rev[j]] > 0.0:
                out[1, j] += w * a[j] * math.log(a[j] / a[rev[j]])
            out[2, j] += w * a[j] * ledger_arg(j, x, V, M.kind, M.mem, M.half_dv, M.ledger,
                                               M.p, M.ii, M.inv_nvol)
    return out


class JacStructure(NamedTuple):
    """What `count_jac` reads besides the kernel arguments: the nonzero stoichiometry of
    each transition (CSR: `nu_ptr`, `nu_idx`, `nu_val`), for each count index the
    transitions whose propensity reads it directly (`rx_ptr`, `rx_idx`), for each membrane
    those that read its potential (`rv_ptr`, `rv_idx`), dV_m/dx_i in volts per ion
    (`dvdx`, zero on clamped membranes) and the indices some transition changes (`cols`)."""
    nu_ptr: np.ndarray
    nu_idx: np.ndarray
    nu_val: np.ndarray
    rx_ptr: np.ndarray
    rx_idx: np.ndarray
    rv_ptr: np.ndarray
    rv_idx: np.ndarray
    dvdx: np.ndarray
    cols: np.ndarray


def _csr(lists):
    ptr = np.zeros(len(lists) + 1, np.int64)
    ptr[1:] = np.cumsum([len(v) for v in lists])
    idx = np.array([k for v in lists for k in v], np.int64)
    return ptr, idx


def jac_structure(model):
    """The `JacStructure` of a compiled model, from what each transition's mechanism says
    its propensity reads (`Mechanism.reads`, the exact methods' dependency graph's input)."""
    nu = np.asarray(model.nu, float)
    nz = [np.nonzero(nu[j])[0] for j in range(model.nt)]
    nu_ptr, nu_idx = _csr(nz)
    nu_val = np.array([nu[j, i] for j in range(model.nt) for i in nz[j]], float)
    rx = [[] for _ in range(model.nx)]
    rv = [[] for _ in range(len(model.mems))]
    for j in range(model.nt):
        for what, k in sorted(model.mechs[model.tr_mech[j]].reads(model, j)):
            if what == "x" and 0 <= k < model.nx:
                rx[k].append(j)
            elif what == "V" and 0 <= k < len(model.mems):
                rv[k].append(j)
    rx_ptr, rx_idx = _csr(rx)
    rv_ptr, rv_idx = _csr(rv)
    dvdx = np.array([np.zeros(model.nx) if model.mem_clamped[m]
                     else E_CHARGE * model.mem_qx[m] / model.mem_C[m]
                     for m in range(len(model.mems))], float).reshape(len(model.mems), model.nx)
    cols = np.nonzero(np.any(nu != 0, axis=0))[0].astype(np.int64)
    return JacStructure(nu_ptr, nu_idx, nu_val, rx_ptr, rx_idx, rv_ptr, rv_idx, dvdx, cols)


#: the potential step (volts) of the Jacobian's central differences in V
_H_V = 1e-6


@njit
def count_jac(x, JS, M):
    """d(dx/dt)/dx by the chain rule through the membrane potentials: a propensity reads
    counts directly and through V (V = e q(x)/C), so column i is the central difference of
    the few propensities that read x_i at fixed V, plus dV_m/dx_i times each membrane's
    d a/d V_m (one difference per membrane and reader). Against differencing the whole
    right-hand side per column (every propensity twice per column) this is ~nt/readers
    times fewer rate evaluations (astrocyte_buffering: ~20x). Steps: h = max(1e-6 |x_i|,
    0.01) ions (as before; scipy's own steps overflowed on columns with no effect) and
    1 uV."""
    kind, src, mem, half_dv, P, II, inv_nvol = prop_arrays(M)
    nx = x.shape[0]
    nm = JS.dvdx.shape[0]
    J = np.zeros((nx, nx))
    V = np.zeros(nm)
    voltages(x, V, M)
    dadv = np.zeros(JS.rv_idx.shape[0])  # per (membrane, reader) entry of rv
    for m in range(nm):
        v0 = V[m]
        for e in range(JS.rv_ptr[m], JS.rv_ptr[m + 1]):
            j = JS.rv_idx[e]
            V[m] = v0 + _H_V
            f1 = propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
            V[m] = v0 - _H_V
            f0 = propensity(j, x, V, kind, src, mem, half_dv, P, II, inv_nvol)
            dadv[e] = (f1 - f0) / (2.0 * _H_V)
        V[m] = v0
    xp = x.copy()
    for c in range(JS.cols.shape[0]):
        i = JS.cols[c]
        h = max(1e-6 * abs(x[i]), 1e-2)
        for e in range(JS.rx_ptr[i], JS.rx_ptr[i + 1]):
            j = JS.rx_idx[e]
            xp[i] = x[i] + h
            f1 = propensity(j, xp, V, kind, src, mem, half_dv, P, II, inv_nvol)
            xp[i] = x[i] - h
            f0 = propensity(j, xp, V, kind, src, mem, half_dv, P, II, inv_nvol)
            xp[i] = x[i]
            g = (f1 - f0) / (2.0 * h)
            for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                J[JS.nu_idx[k], i] += JS.nu_val[k] * g
        for m in range(nm):
            w = JS.dvdx[m, i]
            if w == 0.0:
                continue
            for e in range(JS.rv_ptr[m], JS.rv_ptr[m + 1]):
                j = JS.rv_idx[e]
                g = w * dadv[e]
                for k in range(JS.nu_ptr[j], JS.nu_ptr[j + 1]):
                    J[JS.nu_idx[k], i] += JS.nu_val[k] * g
    return J


class ODE:
    name = "ode"
    integer = False
    rtol = 1e-9
    atol = 1e-3  # ions

    def __init__(self, model, x, rng=None):
        self.model = model
        self.M = model.kernel_args()
        self.nu = model.nu.astype(float)
        self.y = np.concatenate([np.asarray(x, float), np.zeros(3 * model.nt)])
        self.t = 0.0
        self.events = 0
        self.JS = jac_structure(model)
        self.moved = self.JS.cols

    @property
    def x(self):
        return self.y[:self.model.nx]

    def rhs(self, t, x):
        return ode_rhs(x, self.model.nx, self.nu, self.M)

    def jac(self, t, x):
        return count_jac(x, self.JS, self.M)

    def advance(self, stop_times):
        """Integrate to each of stop_times; return (counts, firings, S, ledger_sum) there.

        The counts alone are the stiff system (LSODA, one step at a time); the accumulators
        are quadratures of them, taken on each step's interpolant (`step_integrals`), so
        they cost no columns in the solver's Newton matrix (CVODES's quadrature variables,
        Hindmarsh et al. 2005). In the solver they were 3 nt of its nx + 3 nt unknowns:
        astrocyte_buffering's dense LU went from n = 386 to 62."""
        # here, not at the top: importing scipy.integrate is ~1 s of a CLI start
        from scipy.integrate import LSODA

        stop_times = np.asarray(stop_times, float)
        nx, nt = self.model.nx, self.model.nt
        out = np.repeat(self.y[None, :], len(stop_times), axis=0)
        k = int(np.searchsorted(stop_times, self.t, side="right"))
        if k < len(stop_times):
            acc = self.y[nx:].copy()
            s = LSODA(self.rhs, self.t, self.y[:nx].copy(), stop_times[-1], rtol=self.rtol,
                      atol=self.atol, jac=self.jac)
            while k < len(stop_times):
                t_old = s.t
                msg = s.step()
                if s.status == "failed" or not np.all(np.isfinite(s.y)):
                    # where a rate law overflowed, if one did (engine/checks.py)
                    err = checks.diagnose(self.model, s.y if np.all(np.isfinite(s.y))
                                          else self.y[:nx], t_old)
                    raise checks.SimulationError(f"ode: {msg or 'not finite'} after "
                                                 f"t = {t_old:.6g} s; {err}")
                d = s.dense_output()
                t_from = t_old
                while k < len(stop_times) and stop_times[k] <= s.t:
                    acc += step_integrals(d.yh, d.t, d.h, t_from, stop_times[k],
                                          self.M).ravel()
                    out[k, :nx] = d(stop_times[k]) if stop_times[k] < s.t else s.y
                    out[k, nx:] = acc
                    t_from = stop_times[k]
                    k += 1
                acc += step_integrals(d.yh, d.t, d.h, t_from, s.t, self.M).ravel()
            self.y = np.concatenate([s.y, acc])
        self.t = max(self.t, float(stop_times[-1]))
        return out[:, :nx], out[:, nx:nx + nt], out[:, nx + nt:nx + 2 * nt], out[:, nx + 2 * nt:]

    def relax(self, t_max=1e6, rate_tol=1e-9):
        """Integrate the counts alone to the fixed point (for `start = "steady_state"`).

        Stops once no count changes faster than `rate_tol` of itself per second, or once a
        Newton step to the fixed point (in the stoichiometric subspace, so conserved totals
        stay) is within the solver's tolerances, which it then takes. The second is needed
        for fast, sparsely occupied states (a pump's cycle states turn over 1e4 times a
        second): an error within the solver's atol there is a net rate far above
        `rate_tol` of their count, so the first never holds. Checked at the ends of
        windows that double (1 s, 2 s, 4 s, ...), not with a solver event: an event's
        root-finding fails where the rate criterion is flat or noisy."""
        from scipy.integrate import solve_ivp

        nx = self.model.nx
        scale = np.maximum(np.abs(self.y[:nx]), 1.0)

        def rhs(t, x):
            return ode_rhs(x, nx, self.nu, self.M)

        def jac(t, x):
            return count_jac(x, self.JS, self.M)

        from ionmc.model import stoichiometric_basis

        Q = stoichiometric_basis(self.nu)

        def newton(x):
            f = rhs(0.0, x)
            J = jac(0.0, x)[:nx, :nx]
            try:
                return -Q @ np.linalg.solve(Q.T @ J @ Q, Q.T @ f)
            except np.linalg.LinAlgError:
                return None

        def close(x):
            d = newton(x)
            if d is None or not np.all(np.abs(d) <= self.rtol * np.abs(x) + self.atol):
                return None
            for _ in range(3):  # polish: the fixed point to rounding
                x = x + d
                d = newton(x)
                if d is None:
                    break
            return x

        x, t, window = self.y[:nx].copy(), 0.0, 1.0
        while t < t_max and np.max(np.abs(rhs(t, x)) / scale) > rate_tol:
            fixed = close(x)
            if fixed is not None:
                x = fixed
                break
            sol = solve_ivp(rhs, (t, t + window), x, method="LSODA", rtol=self.rtol,
                            atol=self.atol, jac=jac)
            if not sol.success:
                raise RuntimeError(f"ODE relaxation failed: {sol.message}")
            x, t, window = sol.y[:, -1], t + window, 2.0 * window
        self.y[:nx] = x
        return self.y[:nx]


def steady_state(model, x0):
    """The ODE's fixed point reached from x0 (continuous counts)."""
    return ODE(model, x0).relax()
