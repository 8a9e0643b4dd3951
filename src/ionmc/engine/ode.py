"""The deterministic mean-field limit: d<x>/dt = sum_j nu_j a_j(<x>), integrated with a
stiff solver: scipy's LSODA (Hindmarsh 1983; Petzold 1983), which switches to BDF where
the membrane charge and pump states make the system stiff. At a fixed point scipy's own
BDF needed ~40x the right-hand-side calls of LSODA at rtol 1e-9 (resting_neuron, 1e4 s:
6951 against 151) and stalled with the ledger's accumulators; LSODA does not.

The same propensities as the stochastic methods are evaluated on continuous counts, and
the cumulative expected number of firings of every transition is integrated beside the
state, so the output has the same columns (forward/backward counts are then expected
counts, and count columns are rounded; `.mM` and `V_mV` columns keep full precision).
"""
import math

import numpy as np

from ionmc.engine import checks
from ionmc.model.arrays import KernelArgs
from ionmc.engine.kernels import all_propensities, ledger_arg, voltages
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


@njit
def ode_jac(y, cols, nu, M):
    """Jacobian of `ode_rhs` by central differences in the counts that transitions change
    (`cols`). scipy's own finite differences probe every column, and on columns with no
    effect (the accumulated firings, S, ledger_sum; an impermeant or blocked pool) their step factor
    overflows and the Jacobian turns to NaN, which at a fixed point stalls the solver.
    (Forward differences: 4x the solver's time on resting_neuron, through a poorer
    Newton iteration.)"""
    nx = nu.shape[1]
    n = y.shape[0]
    J = np.zeros((n, n))
    yp = y.copy()
    for c in range(cols.shape[0]):
        i = cols[c]
        h = max(1e-6 * abs(y[i]), 1e-2)
        yp[i] = y[i] + h
        f1 = ode_rhs(yp, nx, nu, M)
        yp[i] = y[i] - h
        f0 = ode_rhs(yp, nx, nu, M)
        yp[i] = y[i]
        for r in range(n):
            J[r, i] = (f1[r] - f0[r]) / (2.0 * h)
    return J


@njit
def rhs_t(t, y, nx, nu, Mt):
    """`ode_rhs` with odeint's (t, y, *args) signature, handed to it directly: a Python
    wrapper in between cost ~2 us of a ~6 us call. Mt is the kernel arguments as a plain
    tuple, made a KernelArgs here: Numba unboxes a NamedTuple from Python at 3.4 us a call
    against 1.9 us for a tuple (pump_block), and odeint calls this from Python every time."""
    return ode_rhs(y, nx, nu, KernelArgs(*Mt))


@njit
def jac_t(t, y, nx, nu, Mt):
    """`ode_jac` with odeint's signature (its args are rhs_t's): the columns are the
    counts that some transition changes."""
    M = KernelArgs(*Mt)
    n = 0
    cols = np.empty(nx, np.int64)
    for i in range(nx):
        for j in range(nu.shape[0]):
            if nu[j, i] != 0.0:
                cols[n] = i
                n += 1
                break
    return ode_jac(y, cols[:n], nu, M)


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
        self.moved = np.nonzero(np.any(model.nu != 0, axis=0))[0].astype(np.int64)

    @property
    def x(self):
        return self.y[:self.model.nx]

    def rhs(self, t, y):
        return ode_rhs(y, self.model.nx, self.nu, self.M)

    def jac(self, t, y):
        return ode_jac(y, self.moved, self.nu, self.M)

    def advance(self, stop_times):
        # here, not at the top: importing scipy.integrate is ~1 s of a CLI start
        from scipy.integrate import odeint

        stop_times = np.asarray(stop_times, float)
        nx = self.model.nx
        if stop_times[-1] > self.t:
            # odeint: the same LSODA as solve_ivp's, but its step loop runs in Fortran
            # (solve_ivp's Python step loop was half of the method's time, issue 8)
            Y, info = odeint(rhs_t, self.y, np.concatenate([[self.t], stop_times]),
                             args=(nx, self.nu, tuple(self.M)), Dfun=jac_t, rtol=self.rtol,
                             atol=self.atol, tfirst=True, mxstep=100_000_000,
                             full_output=True)
            finite = np.all(np.isfinite(Y), axis=1)
            if info["message"] != "Integration successful." or not finite.all():
                # the last finite state, where a rate law overflowed (engine/checks.py)
                k = int(np.argmin(finite)) - 1 if not finite.all() else len(Y) - 1
                t_at = float(np.concatenate([[self.t], stop_times])[max(k, 0)])
                err = checks.diagnose(self.model, Y[max(k, 0), :nx], t_at)
                raise checks.SimulationError(f"ode: {info['message'].strip()} after "
                                             f"t = {t_at:.6g} s; {err}")
            Y = Y[1:]
        else:
            Y = np.repeat(self.y[None, :], len(stop_times), axis=0)
        self.y = Y[-1].copy()
        self.t = float(stop_times[-1])
        nt = self.model.nt
        return Y[:, :nx], Y[:, nx:nx + nt], Y[:, nx + nt:nx + 2 * nt], Y[:, nx + 2 * nt:]

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
            return ode_jac(x, self.moved, self.nu, self.M)

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
