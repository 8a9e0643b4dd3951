"""The Na+/K+-ATPase as a mechanism type (`type = "nak_pump"`): its parameters, checks,
transitions and ledger terms. The cycle's kinetics -- the reduced 4-state Post-Albers
cycle of Smith & Crampin 2004 with the constants of Terkildsen, Crampin & Smith 2007, its
thermodynamic constraint and King-Altman steady state -- are in pump_cycle.py.

Ions never sit inside the pump: step 2 moves 3 Na+ across at once and step 4 moves 2 K+.
Binding is folded into the rapid-equilibrium factors, which is why this reduced pump is not
elementary (the ledger is exact with `elementary = 1`, a test pump).
"""
import math

import numpy as np

from ionmc.mechanisms import agents
from ionmc.mechanisms.base import LEDGER_OWN, LEDGER_V, Mechanism
from ionmc.constants import N_A, R
from ionmc.numba_conf import leaf
from ionmc.physics import count_ramp
from ionmc.ranges import DG_ATP_KJ, FRACTION, K_M_MM, Q10, RATE_PER_S, Range, positive
# the cycle's kinetics, re-exported: pump.param_row, pump.king_altman ... (pump_cycle.py)
from ionmc.mechanisms.pump_cycle import (  # noqa: F401
    N_STATES, N_STEPS, P_K1P, P_B1, P_K2P, P_K2M, P_K3P, P_B3, P_K4P, P_K4M, P_KNAI, P_KNAO,
    P_KKI, P_KKO, P_DELTA, P_FRT, P_KATP, P_DG0, P_RT, P_POOL, P_ELEM, N_PAR, param_row,
    effective_row, step_rate, v_factor, rate_with, row_rate, cycle_rates,
    king_altman, turnover, cycle_dG)

TYPE = "nak_pump"

PARAMS = {
    "membrane": (None, "membrane name"),
    "density_per_um2": (None, "pump molecules per um^2 of membrane", Range(0.0, 2e5)),
    "dG_ATP_kJ_per_mol": (-57.0, "free energy of ATP hydrolysis (no metabolic pool)", DG_ATP_KJ),
    "fxyd_phosphorylated": (0.0, "FXYD1 phosphorylated fraction, 0..1", FRACTION),
    "fxyd_affinity_factor": (0.72, "s: factor on K_Nai0 when fully phosphorylated",
                             positive(100.0)),
    "block_fraction": (0.0, "fraction of pumps bound by ouabain, 0..1", FRACTION),
    "q10": (3.0, "temperature coefficient of the rate constants", Q10),
    # Terkildsen et al. 2007, Table 1 (37 C)
    "k1_plus_per_s": (1050.0, "k1+", RATE_PER_S),
    "k2_plus_per_s": (481.0, "k2+", RATE_PER_S),
    "k3_plus_per_s": (2000.0, "k3+", RATE_PER_S),
    "k4_plus_per_s": (320.0, "k4+", RATE_PER_S),
    "k2_minus_per_s": (40.0, "k2-", RATE_PER_S),
    "k3_minus_per_mM2_s": (79300.0, "k3-", positive(1e12)),
    "k4_minus_per_s": (40.0, "k4-", RATE_PER_S),
    "K_Nai0_mM": (2.49, "Na_i dissociation constant at 0 mV", K_M_MM),
    "K_Nao0_mM": (15.5, "Na_o dissociation constant at 0 mV", K_M_MM),
    "K_Ki_mM": (0.5, "K_i dissociation constant", K_M_MM),
    "K_Ko_mM": (0.213, "K_o dissociation constant", K_M_MM),
    "K_MgATP_mM": (2.51, "MgATP dissociation constant", K_M_MM),
    "delta": (-0.031, "fraction of the charge movement in Na_i binding", Range(-1.0, 1.0)),
    # fixed nucleotide concentrations for the kinetics when the cell has no metabolic pool
    # (H_mM with one too): positive, as k4+ ~ MgATP and b3 ~ Pi H enter b1's thermodynamic
    # constraint (pump_cycle.param_row), which a zero would make 0 or divide by
    "MgATP_mM": (4.0, "MgATP for the kinetics", positive(100.0)),
    "Pi_mM": (2.0, "inorganic phosphate for the kinetics", positive(100.0)),
    "H_mM": (1e-4, "proton concentration (pH 7) for the kinetics", positive(1.0)),
    "elementary": (0.0, "1: the elementary-step test pump (mass-action ion steps, each "
                   "charge's voltage factor on the step that moves it), for which the "
                   "ledger is exact; a test of the ledger, not a physiological model", FRACTION),
}
PARAMS.update(agents.PARAMS)  # counts per state or one pump at a time (agents.py)
PARAM_TYPES = agents.PARAM_TYPES

#: transition kinds (registry.py numbers them): a cycle step forward, and backward
KINDS = ("fw", "bw")
#: the SSA tabulates each step's V factor on the charge lattice (engine/lattice.py)
LATTICE = True
# index row: the four ion counts (Na_i, K_i, Na_o, K_o), the step, and with a metabolic pool
# the pool's ATP, ADP and Pi counts (-1 without)
I_NAI, I_KI, I_NAO, I_KO, I_STEP, I_ATP, I_ADP, I_PI = range(8)
#: ions moved (inside -> outside) by each forward step: step index -> (species, count)
TRANSLOCATION = {1: ("Na", 3), 3: ("K", -2)}

# -- propensities, for the kernels' dispatch table (engine/dispatch.py) ------------------
@leaf
def step_v_factor(j, k, v, P, II):
    """The voltage-dependent factor of pump transition j (k = 0 forward, 1 backward) at
    midpoint potential v; tabulated on the charge lattice by the SSA (engine/lattice.py)."""
    return v_factor(II[j, I_STEP], k, P[j, P_KNAI], P[j, P_KNAO], P[j, P_DELTA],
                    P[j, P_FRT], v, P[j, P_ELEM])


@leaf
def lattice_rate(j, k, x, n, kv, P, II, inv_nvol):
    """Propensity of pump transition j (k = 0 forward, 1 backward; n > 0 pumps in its
    source state) given its voltage factor kv (`step_v_factor`, or the SSA's table)."""
    step = II[j, I_STEP]
    bw = k
    i0, i1, i2, i3 = II[j, I_NAI], II[j, I_KI], II[j, I_NAO], II[j, I_KO]
    # No count may go negative: a translocation needs its ions on the source side. This
    # reduced cycle occludes them without holding them (its rate laws do not vanish with
    # the count), so the rate is ramped to zero over the last ion it takes (count_ramp:
    # the guard for integer counts, continuous for the ode's). The per-molecule pump
    # (nka.py) holds its ions and needs no such guard.
    ramp = 1.0
    if step == 1:
        ramp = count_ramp(x[i2 if bw else i0], 3.0)
    elif step == 3:
        ramp = count_ramp(x[i1 if bw else i3], 2.0)
    rk = P[j, 2 * step + bw]
    ia = II[j, I_ATP]
    if ia >= 0:
        # the pump draws on a metabolic pool: step 1 books ATP -> ADP + Pi (so it needs an
        # ATP forward, an ADP and a Pi backward); b1 is per mM ADP, ATP binds at step 4
        # and Pi rebinds at step 3 (param_row)
        if step == 0:
            if bw:
                ramp = count_ramp(x[II[j, I_PI]], 1.0)
                rk *= x[II[j, I_ADP]] * inv_nvol[II[j, I_ADP]]
            else:
                ramp = count_ramp(x[ia], 1.0)
        elif step == 2 and bw:
            rk *= x[II[j, I_PI]] * inv_nvol[II[j, I_PI]] / (1.0 + x[ia] * inv_nvol[ia]
                                                           / P[j, P_KATP])
        elif step == 3 and not bw:
            t = x[ia] * inv_nvol[ia] / P[j, P_KATP]
            rk *= t / (1.0 + t)
    if ramp <= 0.0:
        return 0.0
    c0, c1, c2, c3 = (x[i0] * inv_nvol[i0], x[i1] * inv_nvol[i1], x[i2] * inv_nvol[i2],
                      x[i3] * inv_nvol[i3])
    if P[j, P_ELEM] > 0.0:
        # elementary test pump: mass action in the moved ions' falling factorials, so that
        # a_f(x)/a_b(x') holds exactly the count factors of the jump (docs/physics.md)
        if step == 1:
            # (max: the ode's float counts between 1 and 2 would make them negative)
            c0 = max(0.0, x[i0] * (x[i0] - 1.0) * (x[i0] - 2.0)) ** (1.0 / 3.0) * inv_nvol[i0]
            c2 = max(0.0, x[i2] * (x[i2] - 1.0) * (x[i2] - 2.0)) ** (1.0 / 3.0) * inv_nvol[i2]
        elif step == 3:
            c1 = math.sqrt(max(0.0, x[i1] * (x[i1] - 1.0))) * inv_nvol[i1]
            c3 = math.sqrt(max(0.0, x[i3] * (x[i3] - 1.0))) * inv_nvol[i3]
    return ramp * n * rate_with(step, bw, rk, kv, P[j, P_KKI], P[j, P_KKO], c0, c1, c2, c3,
                                P[j, P_ELEM])


@leaf
def propensity(j, k, x, V, src, mem, half_dv, P, II, inv_nvol):
    """Propensity (1/s) of pump transition j at state x and potentials V."""
    n = x[src[j]]
    if n <= 0:
        return 0.0
    return lattice_rate(j, k, x, n, step_v_factor(j, k, V[mem[j]] + half_dv[j], P, II), P, II,
                        inv_nvol)


@leaf
def pool_dG(x, ia, idp, ip, inv_nvol, dg0, rt):
    """dG_ATP (J/mol) of a pool at counts x (its ATP, ADP, Pi at ia, idp, ip): what a pump's
    ATP step books per firing, so that W_ATP uses the dG_ATP its rates used."""
    # a count of 0 never fires in the direction that needs it; keep the log finite
    atp = max(x[ia], 0.5) * inv_nvol[ia]
    adp = max(x[idp], 0.5) * inv_nvol[idp]
    pi = max(x[ip], 0.5) * inv_nvol[ip]
    return dg0 + rt * math.log(1e-3 * adp * pi / atp)


@leaf
def ledger_arg(j, k, x, V, mem, half_dv, P, II, inv_nvol):
    """dG_ATP (J/mol) of the pool at a firing of the ATP-booking step on a pool."""
    return pool_dG(x, II[j, I_ATP], II[j, I_ADP], II[j, I_PI], inv_nvol, P[j, P_DG0],
                   P[j, P_RT])


# -- one pump population of a scenario ----------------------------------------------------
class Pump(Mechanism):
    """A population of pumps on a membrane: counts per cycle state and of ouabain-bound
    pumps (or one agent at a time, agents.py), eight transitions per block (four steps,
    forward and backward), step 1 moving 3 Na+ out and step 3 2 K+ in."""

    USES_POOL = True
    #: the step whose forward firing books the ATP (here step 1, the first of each block)
    ATP_STEP = 0
    #: its rate row holds no volume (it reads concentrations through inv_nvol)
    RATES_USE_VOLUME = False
    TURNOVER_PANEL = "cycles"

    def n_slots(self, model):
        self.n_agents = agents.population(
            self.spec, model.scenario.data["membranes"][self.spec["membrane"]])
        return N_STATES + 1 + agents.n_slots(self.spec, self.n_agents, N_STATES)

    def build(self, model, tr):
        mi, cin, cout = self.membrane_sides(model)
        first = self.first_slot
        states = list(range(first, first + N_STATES))
        self.states = states
        self.blocked = first + N_STATES
        # one block of transitions on the counts per state, or one per agent
        blocks = agents.blocks(self, N_STATES, first + N_STATES + 1)
        pool = cin in model.pools
        ii = tr.index_row()
        ii[[I_NAI, I_KI, I_NAO, I_KO, I_STEP]] = [model.idx(cin, "Na"), model.idx(cin, "K"),
                                                   model.idx(cout, "Na"),
                                                   model.idx(cout, "K"), 0]
        if pool:
            ii[[I_ATP, I_ADP, I_PI]] = [model.idx(cin, s) for s in ("ATP", "ADP", "Pi")]
        t0 = len(tr)
        self.efflux = {"Na": {}, "K": {}}
        kinds = (self.kind("fw"), self.kind("bw"))
        for agent, own in blocks:
            for step in range(N_STEPS):
                if step == 0:
                    self.blocks.append(len(tr))
                nxt = (step + 1) % N_STATES
                a, b = own[step], own[nxt]
                fw = agents.step(self, tr, agent, own, step, nxt)
                if step in TRANSLOCATION:
                    s, n = TRANSLOCATION[step]
                    fw[model.idx(cin, s)] = -n
                    fw[model.idx(cout, s)] = +n
                if pool and step == 0:  # the ATP-booking step hydrolyses pool ATP
                    fw.update({int(ii[I_ATP]): -1, int(ii[I_ADP]): +1, int(ii[I_PI]): +1})
                row = ii.copy()
                row[I_STEP] = step
                j = tr.pair(kinds, (a, b), mi, fw, row,
                            LEDGER_OWN if pool and step == 0 else LEDGER_V)
                if step in TRANSLOCATION:
                    s, n = TRANSLOCATION[step]
                    self.efflux[s].update({j: n, j + 1: -n})
        self.transitions = list(range(t0, len(tr)))
        # step 2, the Na+ translocation (of every agent: output sums the lists)
        ref = [(b + 2, b + 3) for b in self.blocks]
        self.ref = ref[0] if self.agent_slots is None else \
            (tuple(list(r) for r in zip(*ref)) or ([], []))

    def reads(self, model, j):
        ii = model.tr_ii[j]
        r = {("x", int(model.tr_src[j])), ("V", int(model.tr_mem[j]))}
        r |= {("x", int(i)) for i in ii[[I_NAI, I_KI, I_NAO, I_KO]]}
        return r | {("x", int(i)) for i in ii[[I_ATP, I_ADP, I_PI]] if i >= 0}

    def update_parameters(self, model):
        _, cin, _ = self.membrane_sides(model)
        pool = model.pools.get(cin)
        dg0 = None if pool is None else pool.spec["dG0_ATP_kJ_per_mol"] * 1e3
        row = param_row(self.spec, model.T, dg0)
        for j in self.transitions:
            model.tr_p[j, :N_PAR] = row

    def initial_state(self, model, x):
        nblocked = int(round(self.spec["block_fraction"] * self.n_agents))
        probs = self.steady_state(model, x)[0]
        x[self.states] = agents.largest_remainder(self.n_agents - nblocked, probs,
                                                  f"mechanism {self.name!r}")
        x[self.blocked] = nblocked
        agents.assign(self, x)

    def concentrations(self, model, x):
        """(Na_i, K_i, Na_o, K_o) in mM at state x."""
        ii = model.tr_ii[self.transitions[0], [I_NAI, I_KI, I_NAO, I_KO]]
        return [float(x[i] * model.inv_nvol[i]) for i in ii]

    def rate_row(self, model, x):
        """The rate row with a pool's nucleotide factors at state x."""
        j = self.transitions[0]
        ii = model.tr_ii[j]
        if ii[I_ATP] < 0:
            return model.tr_p[j]
        return effective_row(model.tr_p[j], *[float(x[i] * model.inv_nvol[i])
                                              for i in ii[[I_ATP, I_ADP, I_PI]]])

    def steady_state(self, model, x):
        """King-Altman occupancies and turnover (1/s per pump) at state x."""
        nai, ki, nao, ko = self.concentrations(model, x)
        mi = model.mems.index(self.spec["membrane"])
        V = model.voltages(x)[mi]
        return king_altman(*cycle_rates(self.rate_row(model, x), nai, ki, nao, ko, V))

    def atp_work(self, model):
        """The ATP step's forward firing books one ATP hydrolysed (in each agent's block,
        agents.py): at fixed dG_ATP, or on a pool -dG_ATP at each firing, summed by the
        kernels."""
        out = []
        for b in self.blocks:
            j = b + 2 * self.ATP_STEP
            if model.tr_ledger[j] == LEDGER_OWN:
                out += [(j, 0.0, -1.0 / N_A), (j + 1, 0.0, 1.0 / N_A)]
            else:
                w = -self.spec["dG_ATP_kJ_per_mol"] * 1e3 / N_A
                out += [(j, w, 0.0), (j + 1, -w, 0.0)]
        return out

    def state_energies(self, ledger, g, g_chem):
        """g_i from the rate constants at the reference concentrations and V = 0, with the
        ATP factor removed from b1: g_{i+1} - g_i = -k_B T ln(kappa_i+ / kappa_i-). The
        cycle closes (sum zero) because the reference puts every ion at the same
        concentration on both sides."""
        from ionmc.mechanisms.metabolism import dG_ATP

        m = ledger.model
        j = self.transitions[0]
        ii = m.tr_ii[j, [I_NAI, I_KI, I_NAO, I_KO]]
        p = m.tr_p[j].copy()
        dg = self.spec["dG_ATP_kJ_per_mol"] * 1e3
        if m.tr_ledger[j] == LEDGER_OWN:  # on a pool: nucleotide factors at its reference
            # (a pool starting without ADP or Pi: any small value gives the same g)
            atp, adp, pi = (max(ledger.cref[i], 1e-9) for i in m.tr_ii[j, [I_ATP, I_ADP, I_PI]])
            p = effective_row(p, atp, adp, pi)
            dg = dG_ATP(m.tr_p[j, P_DG0], m.T, atp, adp, pi)
        p[P_B1] *= math.exp(-dg / (R * m.T))
        fw, bw = cycle_rates(p, *[ledger.cref[i] for i in ii], 0.0)
        e = np.zeros(N_STATES)
        for i in range(N_STATES - 1):
            e[i + 1] = e[i] - ledger.kT * math.log(fw[i] / bw[i])
        g[self.states] = e

    def pump_cycles(self, model, x):
        active = sum(float(x[i]) for i in self.states)
        return active * self.steady_state(model, x)[1]

    def set_parameter(self, model, key, value, x, rng, continuous):
        super().set_parameter(model, key, value, x, rng, continuous)
        if key == "block_fraction":
            self._reblock(model, x, rng, continuous)

    def _reblock(self, model, x, rng, continuous):
        """Ouabain binds pumps wherever they are in the cycle; unbound pumps return to the
        cycle in its steady-state distribution."""
        f = self.spec["block_fraction"]
        st = self.states
        if continuous:
            total = x[st].sum() + x[self.blocked]
            active = x[st].sum()
            want = (1.0 - f) * total
            if want < active:
                x[st] *= want / active if active > 0 else 0.0
            else:
                probs = self.steady_state(model, x)[0]
                x[st] += (want - active) * probs
            x[self.blocked] = total - want
            return
        target = int(round(f * self.n_agents))
        delta = target - int(x[self.blocked])
        if self.agent_slots is not None:
            agents.reblock(self, x, rng, delta, self.steady_state(model, x)[0])
        elif delta > 0:
            take = rng.multivariate_hypergeometric(x[st].astype(np.int64), delta)
            x[st] -= take
        elif delta < 0:
            probs = self.steady_state(model, x)[0]
            x[st] += rng.multinomial(-delta, probs)
        x[self.blocked] = target


MECHANISM = Pump


def default_turnover(cin, cout, V, T, params=None):
    """Net cycles per pump per second at concentrations cin/cout (mM) and V (volts), at the
    defaults with `params` over them; for `design` and for converting between the pump
    types."""
    p = {k: v for k, (v, *_) in PARAMS.items() if v is not None}
    p.update(params or {})
    return turnover(param_row(p, T), cin["Na"], cin["K"], cout["Na"], cout["K"], V)


def check(t, ctx):
    """Problems with a filled pump table: [(key, message)]."""
    for s in ("Na", "K"):
        if s not in ctx.species:
            return [("", f"the pump needs a species named {s!r}")]
    return []
