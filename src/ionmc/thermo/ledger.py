"""The free-energy and entropy ledger (docs/physics.md, "The free-energy and entropy ledger").

Free energy stored: G = G_ion + sum_m C_m V_m^2 / 2 + G_agents, with the discrete ideal
solution G_ion = k_B T sum_c sum_s [ln Gamma(n+1) - ln Gamma(lam+1) - (n - lam) ln lam],
lam = c_ref * N_A * vol (zero at the reference; n ln(c/c_ref) - n + lam for large n), and for
pumps counted per state G_agents = sum_i m_i g_i + k_B T sum_i ln(m_i!) (individual,
distinguishable pumps, agents.py: sum_i m_i g_i alone).

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
A metabolic pool (metabolism.py) is a chemical reservoir outside this ledger
(docs/mechanisms/metabolism.md): its species do not enter G_ion, its own transitions'
entropy production is reported per mechanism but not in the total, and a pump on a pool
books W_ATP with the pool's dG_ATP at each firing (the kernels sum it per transition where
they sum V_mid). Voltage-gated channels' gating is such a reservoir too (channels.py):
their states are not in G and their gating transitions' entropy production is reported per
mechanism only; their conduction is an ordinary electrodiffusive move inside the ledger.

Chemical reactions (buffer.py, Ca + B <-> CaB inside a compartment): G_ion alone is a
state function for transport, where every species keeps its identity and its reference
chemical potential can be set to zero. A reaction turns species into each other, so G
also carries their standard chemical potentials: G_chem = sum_c n_CaB,c g_c with
g_c = -k_B T ln(K c_ref,Ca c_ref,B / c_ref,CaB), K = 1/K_d the binding constant, which is
the reaction's dG0 expressed against the references. Then G_ion + G_chem changes by
exactly -k_B T ln(a_f(x)/a_b(x')) per binding event (the falling-factorial terms of G_ion
give ln(n_CaB + 1) - ln(n_Ca n_B), the references and g give ln K), and the balance holds
to rounding under `ssa`. The references of B and CaB are set in binding equilibrium with
Ca's reference (buffer.reference_split), so g = 0 to rounding and G is still zero at the
reference state; an event that changes K_d changes g, and its jump of G is event work.

What events change (a clamp potential, ouabain binding, a pump's state energies) is booked
as the jump of G at the event: to W_clamp for clamp events, W_bath for concentration events,
and otherwise to `thermo.event_work_J` (ionmc's own column, so that the
balance G(t) - G(0) = W_ATP + W_clamp + W_bath + W_event - T S_prod closes on every run).
With water flow (volume.py), lam follows the compartment volumes and the change of G when
water moves at fixed counts is `thermo.water_work_J`, one more term of the balance.
A current injection (injection.py) is driven from outside and produces no entropy; the
work its stimulator does, the exact change of G per jump, is `thermo.stimulus_work_J`,
another term of the balance.
"""
import math

import numba
import numpy as np

# numba_conf: imported for its cache directory
from ionmc import numba_conf  # noqa: F401
from ionmc.mechanisms.base import LEDGER_V
from ionmc.constants import E_CHARGE, K_B
from ionmc.physics import conc_of, count_of


@numba.vectorize(["float64(float64)"], cache=True)
def gammaln(v):
    """ln Gamma(v), elementwise. Not scipy.special's: importing it was ~0.3 s of every
    start-up (issue 8)."""
    return math.lgamma(v)

ATP, CLAMP, BATH, EVENT = range(4)
WORK_COLUMNS = ("thermo.atp_work_J", "thermo.clamp_work_J", "thermo.bath_exchange_J",
                "thermo.event_work_J")
#: with water flow on (volume.py): the change of G when volumes move at fixed counts
WATER_COLUMN = "thermo.water_work_J"
#: with current injections (injection.py): the work of the stimulator, the sum over its
#: jumps of their exact change of G, which the kernels accumulate in ledger_sum (in k_B T)
STIM_COLUMN = "thermo.stimulus_work_J"
#: with chemical reservoirs (species an irreversible reaction touches, outside G): the
#: free energy the reservoir gives the system at each firing of a reversible step that
#: draws on it
CHEM_COLUMN = "thermo.chemical_work_J"
#: with driven user transporters (user_transporter.py, energy = "driven"): the work done
#: from outside on the ions they move, the sum of their jumps' exact change of G
DRIVEN_COLUMN = "thermo.driven_work_J"
#: work columns a mechanism type may name (Mechanism.WORK_COLUMN); water's is the volume
#: module's
EXTRA_WORK_COLUMNS = (STIM_COLUMN, CHEM_COLUMN, DRIVEN_COLUMN)


def reference_counts(model, x):
    """lam per state index (ions at the reference concentration) and the mask of the ion
    entries that enter G_ion (not clamped)."""
    nc, ns = model.nc, model.ns
    lam = np.zeros(model.nx)
    # per species, the compartments each transition moves it in (from the nonzeros once:
    # a scan of every (transition, compartment) per species grew as the tissue's N^2)
    ions = model.stoich_full[:, :nc * ns]
    ions.sort_indices()  # row by row, each row's columns in order
    jj, ii = ions.nonzero()
    moves = [{} for _ in range(ns)]  # species -> transition -> [compartments], in order
    for j, i in zip(jj.tolist(), ii.tolist()):
        moves[i % ns].setdefault(j, []).append(i // ns)
    for si in range(ns):
        # compartments linked by a transition that moves species si
        parent = list(range(nc))

        def find(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for cs in moves[si].values():
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
                cref = conc_of(sum(float(x[i]) for i in idx), vol)
            for c, i in zip(members, idx):
                lam[i] = count_of(cref, model.vol[c])
    # species a mechanism binds (a buffer's sites) take references of its own
    for mech in model.mechs:
        mech.reference_counts(model, x, lam)
    mask = np.zeros(model.nx, bool)
    mask[:model.nion] = ~model.clamped[:model.nion] & ~model.pool_mask[:model.nion]
    return lam, mask


class Ledger:
    def __init__(self, model, x0, continuous=False):
        """`continuous`: the method is the ODE (injection.ledger_rows)."""
        self.model = model
        self.continuous = continuous
        self.kT = K_B * model.T
        self.lam, self.mask = reference_counts(model, np.asarray(x0, float))
        self.ion_idx = np.nonzero(self.mask & (self.lam > 0))[0]
        self.cref = self.lam * model.inv_nvol  # mM, per ion index
        # transitions inside the ion ledger (not a pool's own chemistry, not channel gating)
        self.ion_tr = np.ones(model.nt, bool)
        for mech in model.mechs:
            self.ion_tr[mech.outside_ion_ledger()] = False
        # per extra work column, the transitions whose ledger_sum (k_B T units) it sums: a
        # stimulator's dG (injections), a chemical reservoir's (reactions)
        self.work_tr = {}
        for mech in model.mechs:
            if mech.WORK_COLUMN is not None:
                assert mech.WORK_COLUMN in EXTRA_WORK_COLUMNS, mech.WORK_COLUMN
                self.work_tr.setdefault(mech.WORK_COLUMN, []).extend(mech.transitions)
        self.update(x0)

    # -- coefficients that change only at events ---------------------------------------
    def update(self, x):
        """Recompute state energies and work coefficients from the current parameters."""
        m = self.model
        # free energies of agent states (pumps) and standard chemical potentials (a
        # buffer's bound sites: module docstring), from each mechanism
        self.g = np.zeros(m.nx)
        self.g_chem = np.zeros(m.nx)
        for mech in m.mechs:
            mech.state_energies(self, self.g, self.g_chem)
        c0 = np.zeros((m.nt, 3))
        c1 = np.zeros((m.nt, 3))
        # ATP work: what each firing of an ATP-driven step pays (mechanisms' own rows)
        for mech in m.mechs:
            for j, fixed_J, per_arg in mech.atp_work(m):
                c0[j, ATP] += fixed_J
                c1[j, ATP] += per_arg
        # clamp work on every membrane a transition charges (a coupling may charge two)
        held = np.nonzero(m.mem_clamped)[0]
        c0[:, CLAMP] = -E_CHARGE * (m.tr_qm[:, held] @ m.mem_vclamp[held])
        st = m.stoich_full
        for j in range(m.nt):
            for e in range(st.indptr[j], st.indptr[j + 1]):
                i, d = st.indices[e], st.data[e]
                if not m.clamped[i]:
                    continue
                into_system = -d
                conc = x[i] * m.inv_nvol[i]
                if conc > 0 and self.cref[i] > 0:
                    c0[j, BATH] += into_system * self.kT * math.log(conc / self.cref[i])
                mi = m.comp_mem[i // m.ns]  # the potential of the ion's compartment
                if mi < 0 or m.z[i] == 0:
                    continue  # inside no membrane (0 V), or no charge
                ze = m.z[i] * E_CHARGE * into_system
                if m.mem_clamped[mi]:
                    c0[j, BATH] += ze * m.mem_vclamp[mi]
                else:
                    # V from the kernels' sum of midpoint potentials: only the transition's
                    # own membrane has one (scenario.py keeps couplings off such sides)
                    assert mi == m.tr_mem[j] and m.tr_ledger[j] == LEDGER_V, (j, mi)
                    c1[j, BATH] += ze
        self.c0, self.c1 = c0, c1
        # a mechanism's own ledger constants (an injection's references and bath
        # potentials, in its rate rows)
        for mech in m.mechs:
            mech.ledger_update(self, x)

    # -- per row -----------------------------------------------------------------------
    def g_ion(self, X, vols=None):
        """G_ion (J) for rows of counts X (float), at rows of compartment volumes `vols`
        (um^3; default the model's current volumes): lam = c_ref N_A vol follows the
        volume when water moves (volume.py)."""
        m = self.model
        n = X[:, self.ion_idx]
        vols = m.vol[None, :] if vols is None else np.asarray(vols, float)
        lam = count_of(self.cref[self.ion_idx], vols[:, self.ion_idx // m.ns])
        return self.kT * np.sum(gammaln(n + 1.0) - gammaln(lam + 1.0) - (n - lam) * np.log(lam),
                                axis=1)

    def free_energy(self, X, V, vols=None):
        """(G, G_ion) in J for rows of counts X (float) and potentials V (volts), at rows
        of volumes `vols` (default: the model's current volumes)."""
        m = self.model
        g_ion = self.g_ion(X, vols)
        g_cap = 0.5 * (V * V) @ m.mem_C
        g = g_ion + g_cap + X @ self.g_chem
        for mech in m.mechs:
            if mech.states and mech.states_in_ledger:
                s = X[:, mech.states]
                g = g + s @ self.g[mech.states]
                if mech.agent_slots is None:  # indistinguishable agents (agents.py)
                    g = g + self.kT * np.sum(gammaln(s + 1.0), axis=1)
        return g, g_ion

    def work(self, dF, dVS):
        """Work (J) by category ATP, CLAMP, BATH for increments of firings and V sums."""
        return dF @ self.c0 + dVS @ self.c1
