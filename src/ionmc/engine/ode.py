"""The deterministic mean-field limit: d<x>/dt = sum_j nu_j a_j(<x>) on the same
propensities as the stochastic methods, evaluated on continuous counts (meanfield.py),
integrated by a compiled stiff solver (bdf.py: variable-order BDF/NDF, Shampine & Reichelt
1997, ported from scipy's), one Numba call per chunk of records.

The cumulative expected number of firings of every transition, with its entropy and
ledger sums, is integrated as a quadrature of the counts' trajectory, outside the stiff
system, so the output has the same columns as the stochastic methods' (forward/backward
counts are then expected counts, and count columns are rounded; `.mM` and `V_mV` columns
keep full precision). The Jacobian is taken through the membrane potentials
(`meanfield.count_jac`): a compartment of 1e10-1e13 ions resolves its potential.
"""
import numpy as np

from ionmc.engine import checks
from ionmc.engine.bdf import OK, TOO_SMALL_STEP, bdf_run
from ionmc.engine.meanfield import count_jac, count_rhs, jac_structure


class ODE:
    name = "ode"
    integer = False
    rtol = 1e-9
    atol = 1e-3  # ions

    def __init__(self, model, x, rng=None):
        self.model = model
        self.M = model.kernel_args()
        self.y = np.concatenate([np.asarray(x, float), np.zeros(3 * model.nt)])
        self.t = 0.0
        self.events = 0
        self.JS = jac_structure(model)
        self.moved = self.JS.cols
        #: the last run's solver statistics: steps, right-hand sides, Jacobians
        self.stats = (0, 0, 0)

    @property
    def x(self):
        return self.y[:self.model.nx]

    def rhs(self, t, x):
        return count_rhs(x, self.JS, self.M)

    def jac(self, t, x):
        return count_jac(x, self.JS, self.M)

    def advance(self, stop_times):
        """Integrate to each of stop_times; return (counts, firings, S, ledger_sum) there.
        Each call starts the solver afresh (events between calls may change any rate)."""
        stop_times = np.asarray(stop_times, float)
        nx, nt = self.model.nx, self.model.nt
        out = np.repeat(self.y[None, :], len(stop_times), axis=0)
        k = int(np.searchsorted(stop_times, self.t, side="right"))
        if k < len(stop_times):
            band = self.JS.band if self.JS.band[2] else None  # dense: see bdf._jacobian
            Y, A, status, t_end, _, *stats = bdf_run(
                self.M, self.JS, band, self.y[:nx].copy(), self.y[nx:].copy(), self.t,
                stop_times[k:], self.rtol, self.atol, 0.0)
            self.stats = tuple(int(s) for s in stats)
            out[k:, :nx], out[k:, nx:] = Y, A
            if status != OK:
                # where a rate law overflowed, if one did (engine/checks.py)
                what = "step size too small" if status == TOO_SMALL_STEP else \
                    "a rate is not finite"
                raise checks.SimulationError(f"ode: {what} after t = {t_end:.6g} s; "
                                             f"{checks.diagnose(self.model, Y[-1], t_end)}")
            self.y = out[-1].copy()
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

        rhs, jac = self.rhs, self.jac

        from ionmc.model import stoichiometric_basis

        Q = stoichiometric_basis(self.model.nu.toarray().astype(float))

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
