"""The linear-noise approximation (LNA) of any compiled model at its deterministic steady
state: the stationary covariance of every count and the SD of every membrane potential,
without running a stochastic method.

The LNA (van Kampen, *Stochastic Processes in Physics and Chemistry*, 3rd ed. 2007, ch. X;
Elf & Ehrenberg 2003, Genome Res 13:2475) expands the chemical master equation around the
deterministic fixed point x* of dx/dt = f(x) = nu^T a(x). To first order in the
fluctuations xi = x - x*, they are an Ornstein-Uhlenbeck process,

    d xi = J xi dt + noise with covariance B dt,   J = df/dx (x*),   B = nu^T diag(a(x*)) nu,

whose stationary covariance S solves the Lyapunov equation J S + S J^T + B = 0. It is exact
for linear rate laws and the leading order (relative error O(1/N)) otherwise; here every
rate law is whatever the exact methods use (engine.kernels.all_propensities on float
counts), so the prediction is that of the model as compiled: a pump's cycle states, the
ions it holds, the leaks' GHK laws, channels' gates, buffers, all at once.

Why a generic one: a hand-written LNA per mechanism (the reduced pump's four states and
the membrane charge, ion pools held fixed) has to be rewritten for every new mechanism and
silently drops couplings (the ions a per-molecule pump holds count in V; the inside's pools
drift). Here the state is the model's own state vector and the stoichiometry its own `nu`.

Conservation laws (the number of pump molecules, the impermeant counts) and clamped indices
(bath species, whose columns of `nu` are zero) make J singular in the full space; both
Newton's iteration and the Lyapunov equation are therefore solved in Q, an orthonormal basis
of the row space of nu (the directions the state can move in), where J restricted to Q is
regular at a stable fixed point. Volumes are held at their initial values (no water flow),
events and time-dependent stimuli are ignored: the LNA is of the autonomous model.
"""
from dataclasses import dataclass, field
from os import PathLike

import numpy as np
import pandas as pd
from scipy.linalg import solve_continuous_lyapunov

from ionmc.constants import E_CHARGE
from ionmc.model import stoichiometric_basis

__all__ = ["LNA", "LNAError", "linear_noise"]

EPS = np.finfo(float).eps


class LNAError(RuntimeError):
    """No stable deterministic steady state was found (or the model has none)."""


@dataclass
class LNA:
    """The linear-noise approximation at a steady state.

    x: the steady state (float counts, model's state order); a: its propensities (1/s);
    V: membrane potentials (V); cov: covariance of the counts (counts^2, nx x nx);
    v_sd: {membrane: SD of V in volts} (0 for a clamped membrane); table: a DataFrame
    indexed by the run output's column names ("spine.Na.count", "spine.Na.mM",
    "pump.E1.count", "head.V_mV") with the steady-state mean and the LNA's SD;
    Q: the basis (nx x r) of the stoichiometric subspace; jacobian, diffusion: J and B in
    it (r x r); v_weights: V = v_weights @ x (+ a clamp), volts per count (nm x nx, zero
    rows for clamped membranes); iterations and residual (|Q^T f| / sum a) of Newton's
    iteration."""
    x: np.ndarray
    a: np.ndarray
    V: np.ndarray
    cov: np.ndarray
    v_sd: dict
    table: pd.DataFrame
    Q: np.ndarray = field(repr=False)
    jacobian: np.ndarray = field(repr=False)
    diffusion: np.ndarray = field(repr=False)
    v_weights: np.ndarray = field(repr=False)
    iterations: int = 0
    residual: float = 0.0

    def v_cov(self):
        """Covariance matrix (V^2) of the membrane potentials."""
        return self.v_weights @ self.cov @ self.v_weights.T


class _Rates:
    """a(x) and V(x) for float counts. V is computed here from the model's mem_qx, not by
    engine.checks._propensities, whose voltages are those of the counts truncated to
    integers: a potential quantized to e/C (40 uV on a spine) would make the drift a step
    function of the charge, and neither Newton's iteration nor a finite-difference
    Jacobian converges on it."""

    def __init__(self, model):
        from ionmc.engine.kernels import all_propensities

        self.model, self.M, self._all = model, model.kernel_args(), all_propensities
        C = np.where(model.mem_C > 0, model.mem_C, 1.0)
        # V = w @ x (+ the clamp): w[m] = e * mem_qx[m] / C_m, zero on clamped membranes
        self.w = np.where(model.mem_clamped[:, None], 0.0,
                          E_CHARGE * model.mem_qx.toarray() / C[:, None])
        self.v_clamp = np.where(model.mem_clamped, model.mem_vclamp, 0.0)
        self.nu = model.nu.toarray().astype(float)

    def voltages(self, x, d=None):
        V = self.w @ x + self.v_clamp
        return V if d is None else V + self.w @ d

    def propensities(self, x, d=None):
        """a at counts x + d. A small displacement d is kept apart for V: V(x) is a sum of
        counts of ~1e10 that cancel to ~1e3 charges, resolved to ~1e-6 of a count, and
        x + d itself is resolved as coarsely; both would be 1e-4 errors in a Jacobian
        column taken with d of 0.03 counts. The rates' dependence on the counts
        themselves (a concentration over 1e10 ions) is 1e-8 of their dependence on V, so
        the rounding of x + d there does not matter."""
        x = np.asarray(x, float)
        V = self.voltages(x, d)
        a = np.zeros(self.model.nt)
        with np.errstate(all="ignore"):
            self._all(np.ascontiguousarray(x if d is None else x + d), V, a, self.M)
        return a

    def drift(self, x, d=None):
        return self.nu.T @ self.propensities(x, d)


def _jacobian_q(rates, x, Q, h):
    """J Q by central differences along each basis direction (unit vectors), h counts
    either side. Rates are at most first order in the agent states and depend on V through
    exp(z e V / k_BT), which one count changes by e/C (~40 uV on a spine, 1.5e-3 of
    k_BT/e): the truncation error is ~(h e/C / (k_BT/e))^2, ~1e-6 at h = 1 count. The step
    must not scale with the large ion counts: a direction touching 1.7e6 K+ also moves
    pump states that hold a couple of molecules, and past zero their rates are clipped.
    Checked on spine_noise (per-molecule pump): SD(V) at h = 0.01, 0.03 and 0.1 counts
    agrees to 1e-8 relative, h = 1 is 1.3e-6 off, h = 3 1.1e-5, h = 10 0.8%."""
    cols = []
    for k in range(Q.shape[1]):
        q = Q[:, k]
        cols.append((rates.drift(x, h * q) - rates.drift(x, -h * q)) / (2 * h))
    return np.array(cols).T  # nx x r


def linear_noise(model, x=None, *, tol=1e-12, max_iter=100, step=0.03):
    """The linear-noise approximation of `model` (an ionmc.model.Model, or a Scenario or a
    scenario's name or path, compiled here) at the deterministic steady state reached by Newton's iteration from x
    (default: the model's initial state, model.x0). Returns an `LNA`.

    Newton's iteration x <- x - Q (Q^T J Q)^-1 Q^T f(x) moves only within the stoichiometric
    subspace, so conserved totals (pump molecules, impermeant ions) keep their values of x
    and clamped counts stay clamped; it stops when |Q^T f| < tol * sum(a) (the drift is
    tiny against the gross flux through every transition), or when the Newton step is
    below the float resolution of the counts with |Q^T f| < 1e-6 sum(a). Raises LNAError if
    it does not converge, if a count goes negative, or if the steady state is not stable (an
    unstable or marginal fixed point has no stationary fluctuations; so also a direction
    only transitions with zero rate could move in). `step`: the finite-difference step of
    the Jacobian, in counts."""
    from ionmc.model import Model
    from ionmc.scenario import load_scenario

    if isinstance(model, (str, PathLike)):
        model = load_scenario(model)
    if not isinstance(model, Model):
        model = Model(model)
    rates = _Rates(model)
    Q = stoichiometric_basis(rates.nu)
    x = np.array(model.x0 if x is None else x, float)
    free = ~np.asarray(model.clamped, bool)
    it, res = 0, np.inf
    for it in range(1, max_iter + 1):
        a = rates.propensities(x)
        if not np.all(np.isfinite(a)):
            raise LNAError(f"non-finite propensities at Newton iteration {it}")
        g = Q.T @ (rates.nu.T @ a)
        res = float(np.linalg.norm(g) / max(a.sum(), 1e-300))
        if res < tol:
            break
        A = Q.T @ _jacobian_q(rates, x, Q, step)
        try:
            dx = Q @ np.linalg.solve(A, g)
        except np.linalg.LinAlgError as err:
            raise LNAError(f"singular Jacobian at Newton iteration {it}: no isolated "
                           "steady state in the stoichiometric subspace") from err
        # converged to rounding: the step is below the resolution of the counts (1e10 ions
        # are resolved to ~1e-6 of one, which still moves a small membrane's V enough to
        # leave a net flux of ~1e-9 of the gross one)
        if res < 1e-6 and np.all(np.abs(dx) <= 4 * EPS * np.maximum(1.0, np.abs(x))):
            break
        # damped: never step a free count below zero (a propensity would be meaningless)
        lam = 1.0
        while np.any((x - lam * dx)[free] < 0) and lam > 1e-6:
            lam *= 0.5
        x = x - lam * dx
    else:
        raise LNAError(f"Newton's iteration did not converge in {max_iter} iterations "
                       f"(|Q^T f| / sum a = {res:.3g}, tolerance {tol:g})")
    if np.any(x[free] < -1e-9 * max(1.0, np.abs(x).max())):
        raise LNAError("the steady state has negative counts")
    a = rates.propensities(x)
    A = Q.T @ _jacobian_q(rates, x, Q, step)
    ev = np.linalg.eigvals(A)
    if ev.size and ev.real.max() >= 0:
        raise LNAError(f"the steady state is not stable (Jacobian eigenvalue with real part "
                       f"{ev.real.max():.3g} /s >= 0): no stationary fluctuations")
    nuq = rates.nu @ Q  # nt x r: each transition's jump in the basis
    B = nuq.T @ (a[:, None] * nuq)
    S = solve_continuous_lyapunov(A, -B)
    cov = Q @ S @ Q.T
    cov = 0.5 * (cov + cov.T)  # symmetric up to rounding; made exactly so
    V = rates.voltages(x)
    v_var = np.einsum("mi,ij,mj->m", rates.w, cov, rates.w)
    v_sd = {name: float(np.sqrt(max(v_var[m], 0.0))) for m, name in enumerate(model.mems)}
    return LNA(x=x, a=a, V=V, cov=cov, v_sd=v_sd, table=_table(model, x, V, cov, v_sd), Q=Q,
               jacobian=A, diffusion=B, v_weights=rates.w, iterations=it, residual=res)


def _table(model, x, V, cov, v_sd):
    """Mean and SD under the run output's column names (runs/output.py): every species'
    count and mM in every compartment, every mechanism state's count, every V_mV."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    rows = {}
    for ci, c in enumerate(model.comps):
        for si, s in enumerate(model.species):
            i = ci * model.ns + si
            rows[f"{c}.{s}.count"] = (x[i], sd[i])
    for ci, c in enumerate(model.comps):
        for si, s in enumerate(model.species):
            i = ci * model.ns + si
            rows[f"{c}.{s}.mM"] = (x[i] * model.inv_nvol[i], sd[i] * model.inv_nvol[i])
    for mech in model.mechs:
        for k, i in enumerate(mech.states):
            rows[f"{mech.name}.{mech.state_label(k)}.count"] = (x[i], sd[i])
        if mech.blocked is not None:
            rows[f"{mech.name}.blocked.count"] = (x[mech.blocked], sd[mech.blocked])
    for m, name in enumerate(model.mems):
        rows[f"{name}.V_mV"] = (V[m] * 1e3, v_sd[name] * 1e3)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "sd"])
