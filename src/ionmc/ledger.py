"""The free-energy and entropy ledger (DESIGN.md section 3).

Free energy stored: G = G_ion + sum_m C_m V_m^2 / 2 + G_agents, with the discrete ideal
solution G_ion = k_B T sum_c sum_s [ln Gamma(n+1) - ln Gamma(lam+1) - (n - lam) ln lam],
lam = c_ref * N_A * vol (zero at the reference; n ln(c/c_ref) - n + lam for large n), and for
pumps counted per state G_agents = sum_i m_i g_i + k_B T sum_i ln(m_i!).

Reference concentration of a species: the clamped concentration where it touches a bath or
a clamped species, otherwise its mean concentration over the compartments it can reach
(an impermeant species: its own concentration). References are fixed at the start of a run,
so G is a state function for the whole run.

Entropy production is accumulated by the kernels per transition (sum of ln(a_f(x)/a_b(x'))
over firings); work is computed here from each transition's firings and the sum of its
midpoint potentials, with coefficients that change only at events:
  W_ATP   -dG_ATP per ATP hydrolysed by the pump's ATP-booking step (step 1);
  W_clamp -z e V for every ion entering the inside of a clamped membrane;
  W_bath  k_B T ln(c_cl/c_ref) + z e V for every ion entering the system from a bath or a
          clamped species, in a compartment at potential V.
A metabolic pool (metabolism.py) is a chemical reservoir outside this ledger (DESIGN.md
section 1): its species do not enter G_ion, its own transitions' entropy production is
reported per mechanism but not in the total, and a pump on a pool books W_ATP with the
pool's dG_ATP at each firing (the kernels sum it per transition where they sum V_mid).

What events change (a clamp potential, ouabain binding, a pump's state energies) is booked
as the jump of G at the event: to W_clamp for clamp events, W_bath for concentration events,
and otherwise to `thermo.event_work_J` (an addition to DESIGN.md's columns, so that the
balance G(t) - G(0) = W_ATP + W_clamp + W_bath + W_event - T S_prod closes on every run).
"""
import math

import numba
import numpy as np

from . import metabolism, numba_conf, pump  # noqa: F401 (numba_conf: the cache directory)
from .constants import E_CHARGE, IONS_PER_MM_UM3, K_B, N_A, R


@numba.vectorize(["float64(float64)"], cache=True)
def gammaln(v):
    """ln Gamma(v), elementwise. Not scipy.special's: importing it was ~0.3 s of every
    start-up (issue 8)."""
    return math.lgamma(v)

ATP, CLAMP, BATH, EVENT = range(4)
WORK_COLUMNS = ("thermo.atp_work_J", "thermo.clamp_work_J", "thermo.bath_exchange_J",
                "thermo.event_work_J")


def reference_counts(model, x):
    """lam per state index (ions at the reference concentration) and the mask of the ion
    entries that enter G_ion (not clamped)."""
    nc, ns = model.nc, model.ns
    lam = np.zeros(model.nx)
    for si in range(ns):
        # compartments linked by a transition that moves species si
        parent = list(range(nc))

        def find(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for j in range(model.nt):
            cs = [c for c in range(nc) if model.stoich_full[j, c * ns + si] != 0]
            for c in cs[1:]:
                parent[find(c)] = find(cs[0])
        groups = {}
        for c in range(nc):
            groups.setdefault(find(c), []).append(c)
        for members in groups.values():
            idx = [c * ns + si for c in members]
            clamped = [i for i in idx if model.clamped[i]]
            if clamped:
                cref = x[clamped[0]] * model.inv_nvol[clamped[0]]
            else:
                vol = sum(model.vol[c] for c in members)
                cref = sum(float(x[i]) for i in idx) / (IONS_PER_MM_UM3 * vol)
            for c, i in zip(members, idx):
                lam[i] = cref * IONS_PER_MM_UM3 * model.vol[c]
    mask = np.zeros(model.nx, bool)
    mask[:model.nion] = ~model.clamped[:model.nion] & ~model.pool_mask[:model.nion]
    return lam, mask


class Ledger:
    def __init__(self, model, x0):
        self.model = model
        self.kT = K_B * model.T
        self.lam, self.mask = reference_counts(model, np.asarray(x0, float))
        self.ion_idx = np.nonzero(self.mask & (self.lam > 0))[0]
        self.cref = self.lam * model.inv_nvol  # mM, per ion index
        # transitions inside the ion ledger (not the pool's own chemistry)
        self.ion_tr = np.ones(model.nt, bool)
        for mech in model.mechs:
            if mech.type == metabolism.TYPE:
                self.ion_tr[mech.transitions] = False
        self.update(x0)

    # -- coefficients that change only at events ---------------------------------------
    def update(self, x):
        """Recompute state energies and work coefficients from the current parameters."""
        m = self.model
        self.g = np.zeros(m.nx)
        for mech in m.mechs:
            if mech.type == pump.TYPE:
                self.g[mech.states] = self._pump_state_energies(mech)
        c0 = np.zeros((m.nt, 3))
        c1 = np.zeros((m.nt, 3))
        for mech in m.mechs:
            if mech.type == pump.TYPE:
                j = mech.transitions[0]  # step 1 forward books one ATP hydrolysed
                if m.tr_wk[j]:  # on a pool: -dG_ATP at each firing, summed by the kernels
                    c1[j, ATP] -= 1.0 / N_A
                    c1[j + 1, ATP] += 1.0 / N_A
                    continue
                w = -mech.spec["dG_ATP_kJ_per_mol"] * 1e3 / N_A
                c0[j, ATP] += w
                c0[j + 1, ATP] -= w
        for j in range(m.nt):
            mi = m.tr_mem[j]
            if m.mem_clamped[mi]:
                c0[j, CLAMP] += -E_CHARGE * m.mem_vclamp[mi] * m.tr_q[j]
            inside = m.mem_start[mi] // m.ns
            for i in np.nonzero(m.stoich_full[j] * m.clamped)[0]:
                d = m.stoich_full[j, i]
                into_system = -d
                conc = x[i] * m.inv_nvol[i]
                if conc > 0 and self.cref[i] > 0:
                    c0[j, BATH] += into_system * self.kT * math.log(conc / self.cref[i])
                if i // m.ns == inside:
                    ze = m.z[i] * E_CHARGE * into_system
                    if m.mem_clamped[mi]:
                        c0[j, BATH] += ze * m.mem_vclamp[mi]
                    else:
                        c1[j, BATH] += ze
        self.c0, self.c1 = c0, c1

    def _pump_state_energies(self, mech):
        """g_i from the rate constants at the reference concentrations and V = 0, with the
        ATP factor removed from b1: g_{i+1} - g_i = -k_B T ln(kappa_i+ / kappa_i-). The
        cycle closes (sum zero) because the reference puts every ion at the same
        concentration on both sides."""
        m = self.model
        j = mech.transitions[0]
        ii = m.tr_ii[j, :4]
        p = m.tr_p[j].copy()
        dg = mech.spec["dG_ATP_kJ_per_mol"] * 1e3
        if m.tr_wk[j]:  # on a pool: nucleotide factors at the pool's reference state
            # (a pool starting without ADP or Pi: any small value gives the same g)
            atp, adp, pi = (max(self.cref[i], 1e-9) for i in m.tr_ii[j, 5:8])
            p = pump.effective_row(p, atp, adp, pi)
            dg = metabolism.dG_ATP(m.tr_p[j, pump.P_DG0], m.T, atp, adp, pi)
        p[pump.P_B1] *= math.exp(-dg / (R * m.T))
        fw, bw = pump.cycle_rates(p, *[self.cref[i] for i in ii], 0.0)
        g = np.zeros(pump.N_STATES)
        for i in range(pump.N_STATES - 1):
            g[i + 1] = g[i] - self.kT * math.log(fw[i] / bw[i])
        return g

    # -- per row -----------------------------------------------------------------------
    def free_energy(self, X, V):
        """(G, G_ion) in J for rows of counts X (float) and potentials V (volts)."""
        m = self.model
        n = X[:, self.ion_idx]
        lam = self.lam[self.ion_idx]
        g_ion = self.kT * np.sum(gammaln(n + 1.0) - gammaln(lam + 1.0) - (n - lam) * np.log(lam),
                                 axis=1)
        g_cap = 0.5 * (V * V) @ m.mem_C
        g = g_ion + g_cap
        for mech in m.mechs:
            if mech.states:
                s = X[:, mech.states]
                g = g + s @ self.g[mech.states] + self.kT * np.sum(gammaln(s + 1.0), axis=1)
        return g, g_ion

    def work(self, dF, dVS):
        """Work (J) by category ATP, CLAMP, BATH for increments of firings and V sums."""
        return dF @ self.c0 + dVS @ self.c1
