"""The deterministic mean-field limit: d<x>/dt = sum_j nu_j a_j(<x>), integrated with a
stiff solver (scipy's BDF; the membrane charge and pump states are the stiff part).

The same propensities as the stochastic methods are evaluated on continuous counts, and
the cumulative expected number of firings of every transition is integrated beside the
state, so the output has the same columns (forward/backward counts are then expected
counts, and count columns are rounded; `.mM` and `V_mV` columns keep full precision).
"""
import numpy as np
from scipy.integrate import solve_ivp

from .kernels import all_propensities, voltages
from .numba_conf import njit


@njit
def ode_rhs(y, nx, nu, M):
    x = y[:nx]
    nt = nu.shape[0]
    a = np.zeros(nt)
    V = np.zeros(M[14].shape[0])
    voltages(x, V, M)
    all_propensities(x, V, a, M)
    dy = np.zeros(y.shape[0])
    for j in range(nt):
        if a[j] == 0.0:
            continue
        for i in range(nx):
            if nu[j, i] != 0.0:
                dy[i] += nu[j, i] * a[j]
        dy[nx + j] = a[j]
    return dy


class ODE:
    name = "ode"
    integer = False
    rtol = 1e-9
    atol = 1e-3  # ions

    def __init__(self, model, x, rng=None):
        self.model = model
        self.M = model.kernel_args()
        self.nu = model.nu.astype(float)
        self.y = np.concatenate([np.asarray(x, float), np.zeros(model.nt)])
        self.t = 0.0
        self.events = 0

    @property
    def x(self):
        return self.y[:self.model.nx]

    def rhs(self, t, y):
        return ode_rhs(y, self.model.nx, self.nu, self.M)

    def advance(self, stop_times):
        stop_times = np.asarray(stop_times, float)
        nx = self.model.nx
        if stop_times[-1] > self.t:
            sol = solve_ivp(self.rhs, (self.t, stop_times[-1]), self.y, method="BDF",
                            t_eval=stop_times, rtol=self.rtol, atol=self.atol)
            if not sol.success:
                raise RuntimeError(f"ODE solver failed at t={self.t}: {sol.message}")
            Y = sol.y.T
        else:
            Y = np.repeat(self.y[None, :], len(stop_times), axis=0)
        self.y = Y[-1].copy()
        self.t = float(stop_times[-1])
        return Y[:, :nx], Y[:, nx:]

    def relax(self, t_max=1e6):
        """Integrate to the fixed point (for `start = "steady_state"`)."""
        x = self.y[:self.model.nx]
        sol = solve_ivp(self.rhs, (0.0, t_max), self.y, method="BDF", rtol=self.rtol,
                        atol=self.atol)
        if not sol.success:
            raise RuntimeError(f"ODE relaxation failed: {sol.message}")
        x[:] = sol.y[:self.model.nx, -1]
        return x


def steady_state(model, x0):
    """The ODE's fixed point reached from x0 (continuous counts)."""
    return ODE(model, x0).relax()
