"""The compiled model: a scenario turned into flat arrays that every method shares.

State vector x: ion counts per (compartment, species) at index c*NS + s, then for each pump
its four cycle-state counts and its count of ouabain-bound (blocked) pumps. Transitions are
unidirectional: each reversible step is a forward/backward pair. A transition has a kind
(which rate law), a source index (the count its propensity is proportional to), a membrane
(whose midpoint potential it uses), the charge it adds to that membrane's inside, a row of
float parameters, a row of index parameters, and a sparse stoichiometry over x that omits
clamped indices (baths and clamped species keep their counts).

A voltage-gated channel population (channels.py) adds its gating-state counts (contiguous,
like a pump's), with gating pairs 20/21 between them and one conduction pair 22/23; with
`agents = "individual"` each channel's 0/1 state slots follow, with a block of gating pairs
of its own (agents.py), and conduction still reads the open-state count.

A metabolic pool (metabolism.py) adds no state slots: its species are ordinary species
of the cell's compartment (charge 0), moved by the pool's transitions and by the ATP step
of the pumps on the same compartment.
"""
import numpy as np

from ionmc.mechanisms import activity
from ionmc.mechanisms import agents
from ionmc.mechanisms import buffer
from ionmc.mechanisms import channels
from ionmc.mechanisms import cotransporter
from ionmc.mechanisms import coupling
from ionmc.mechanisms import injection
from ionmc.mechanisms import kir
from ionmc.engine import lattice
from ionmc.mechanisms import leak
from ionmc.mechanisms import metabolism
from ionmc.mechanisms import pump
from ionmc.constants import CM_TO_M, E_CHARGE, F, IONS_PER_MM_UM3, R, UF_PER_CM2_TO_F_PER_M2, \
    UM2_TO_M2, UM3_TO_M3
from ionmc.errors import InputError

from ionmc.engine.dispatch import LEDGER_NONE, LEDGER_OWN, LEDGER_V
from ionmc.model.arrays import KernelArgs
from ionmc.mechanisms.registry import kind, kind_flags

KIND_LEAK_OUT, KIND_LEAK_IN = kind("leak", "out"), kind("leak", "in")
KIND_PUMP_FW, KIND_PUMP_BW = kind("nak_pump", "fw"), kind("nak_pump", "bw")
KIND_OX_FW, KIND_OX_BW, KIND_O2_OUT, KIND_O2_IN, KIND_LOAD_FW, KIND_LOAD_BW, KIND_CK_FW, \
    KIND_CK_BW = (kind("metabolism", k) for k in metabolism.KINDS)
KIND_COTR_FW, KIND_COTR_BW = kind("cotransporter", "fw"), kind("cotransporter", "bw")
KIND_BUF_FW, KIND_BUF_BW = kind("buffer", "bind"), kind("buffer", "unbind")
KIND_COUPLE_FW, KIND_COUPLE_BW = kind("coupling", "fw"), kind("coupling", "bw")
KIND_GATE_FW, KIND_GATE_BW, KIND_CHAN_OUT, KIND_CHAN_IN = (kind("hh_channel", k)
                                                           for k in channels.KINDS)
KIND_KIR_OUT, KIND_KIR_IN = kind("kir", "out"), kind("kir", "in")
KIND_INJ_FW, KIND_INJ_BW = kind("injection", "fw"), kind("injection", "bw")
NPAR = max(pump.N_PAR, 6, cotransporter.N_PAR, coupling.N_PAR, kir.N_PAR, injection.N_PAR)
NII = max(8, cotransporter.N_II)


def _largest_remainder(total, probs):
    raw = np.asarray(probs) * total
    out = np.floor(raw).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        out[np.argsort(-(raw - out))[:short]] += 1
    return out


class Mechanism:
    """Output bookkeeping of one mechanism: its transitions and what they move."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.type = spec["type"]
        self.transitions = []   # global transition indices
        self.ref = (None, None)  # (forward, backward) reference transition
        self.efflux = {}        # species -> {transition: ions moved inside -> outside}
        self.states = []        # agent state indices (pumps, channels), contiguous
        self.agent_slots = None  # agents = "individual": (agent, state) -> index (agents.py)
        self.blocks = []        # first transition of each block (one per agent, or one)
        self.agent_moves = []   # individual agents: (transition, agent, from, to) states
        self.state_names = None  # labels of the states in output columns (default P1, P2..)
        # transitions driven by a reservoir outside the ion ledger (channel gating) and
        # whether the states' free energy enters G (pumps yes, channels no: channels.py)
        self.reservoir = []
        self.states_in_ledger = True
        self.blocked = None
        self.open_state = None  # channels: index of the conducting state in self.states
        self.n_agents = 0
        self.pool_compartment = None  # metabolism: the compartment holding the pool

    def state_label(self, k):
        return self.state_names[k] if self.state_names else f"P{k + 1}"


class Model:
    """Arrays built once per run from a validated Scenario (see module docstring)."""

    def __init__(self, scenario):
        self.scenario = scenario
        d = scenario.data
        self.T = d["scenario"]["temperature_K"]
        self.species = list(d["species"])
        self.charge = np.array([d["species"][s]["charge"] for s in self.species], float)
        self.comps = list(d["compartments"])
        self.mems = list(d["membranes"])
        ns, nc = len(self.species), len(self.comps)
        self.ns, self.nc = ns, nc
        self.vol = np.array([d["compartments"][c]["volume_um3"] for c in self.comps])
        nion = ns * nc
        self.nion = nion
        self.mechs = [Mechanism(m) for m in d["mechanisms"]]
        # compartment -> its metabolism mechanism (at most one, scenario.py checks)
        self.pools = {d["membranes"][m.spec["membrane"]]["inside"]: m
                      for m in self.mechs if m.type == metabolism.TYPE}
        nagent = 0
        for m in self.mechs:
            if m.type == pump.TYPE:
                m.n_agents = agents.population(m.spec, d["membranes"][m.spec["membrane"]])
                nagent += pump.N_STATES + 1 + agents.n_slots(m.spec, m.n_agents,
                                                             pump.N_STATES)
            elif m.type == channels.TYPE:
                m.n_agents = channels.n_channels(
                    m.spec, d["membranes"][m.spec["membrane"]]["area_um2"])
                k = len(channels.scheme(m.spec["gates"])[0])
                nagent += k + agents.n_slots(m.spec, m.n_agents, k)
        self.nx = nx = nion + nagent
        self.inv_nvol = np.zeros(nx)
        self.z = np.zeros(nx)
        self.clamped = np.zeros(nx, bool)
        for ci, c in enumerate(self.comps):
            spec = d["compartments"][c]
            for si, s in enumerate(self.species):
                i = self.idx(c, s)
                self.inv_nvol[i] = 1.0 / (IONS_PER_MM_UM3 * self.vol[ci])
                self.z[i] = self.charge[si]
                self.clamped[i] = spec["bath"] or s in spec["clamped_species"]
        # the pool's species are outside the ion ledger (DESIGN.md section 1)
        self.pool_mask = np.zeros(nx, bool)
        for c in self.pools:
            for s in metabolism.POOL + metabolism.CREATINE:
                if s in self.species:
                    self.pool_mask[self.idx(c, s)] = True
        nm = len(self.mems)
        # compartment index -> the membrane whose inside it is (-1: none, at 0 V)
        self.comp_mem = np.full(nc, -1, np.int64)
        for mi, m in enumerate(self.mems):
            self.comp_mem[self.comps.index(d["membranes"][m]["inside"])] = mi
        self.mem_start = np.zeros(nm, np.int64)
        self.mem_C = np.zeros(nm)
        self.mem_area = np.zeros(nm)
        self.mem_clamped = np.zeros(nm, bool)
        self.mem_vclamp = np.zeros(nm)
        for mi, m in enumerate(self.mems):
            spec = d["membranes"][m]
            self.mem_start[mi] = self.comps.index(spec["inside"]) * ns
            self.mem_area[mi] = spec["area_um2"]
            self.mem_C[mi] = spec["capacitance_uF_per_cm2"] * UF_PER_CM2_TO_F_PER_M2 \
                * spec["area_um2"] * UM2_TO_M2
            self._set_clamp(mi)
        self._build_transitions(nion)
        self.x0 = self._initial_state()

    # -- layout helpers ----------------------------------------------------------------
    def idx(self, comp, species):
        return self.comps.index(comp) * self.ns + self.species.index(species)

    def membrane_spec(self, mi):
        return self.scenario.data["membranes"][self.mems[mi]]

    def _set_clamp(self, mi):
        spec = self.membrane_spec(mi)
        inside_bath = self.scenario.data["compartments"][spec["inside"]]["bath"]
        if spec["clamp_mV"] is not None:
            self.mem_clamped[mi] = True
            self.mem_vclamp[mi] = spec["clamp_mV"] * 1e-3
        elif inside_bath:
            self.mem_clamped[mi] = True
            self.mem_vclamp[mi] = spec["initial_potential_mV"] * 1e-3

    # -- transitions -------------------------------------------------------------------
    def _build_transitions(self, nion):
        d = self.scenario.data
        kinds, src, mem, stoich = [], [], [], []
        prow, irow, wk = [], [], []
        noii = np.full(NII, -1, np.int64)
        next_agent = nion
        for mech in self.mechs:
            spec = mech.spec
            if mech.type == coupling.TYPE:  # joins two compartments, on no membrane
                t0 = len(kinds)
                a, b = (self.comps.index(c) for c in spec["compartments"])
                for s in spec["species"]:
                    i_a, i_b = self.idx(spec["compartments"][0], s), \
                        self.idx(spec["compartments"][1], s)
                    j = len(kinds)
                    kinds += [KIND_COUPLE_FW, KIND_COUPLE_BW]
                    src += [i_a, i_b]
                    m_a, m_b = int(self.comp_mem[a]), int(self.comp_mem[b])
                    mem += [m_a if m_a >= 0 else m_b] * 2
                    stoich += [{i_a: -1, i_b: +1}, {i_a: +1, i_b: -1}]
                    prow += [np.zeros(NPAR), np.zeros(NPAR)]
                    r_f, r_b = noii.copy(), noii.copy()
                    r_f[[coupling.I_MSRC, coupling.I_MDST]] = [m_a, m_b]
                    r_b[[coupling.I_MSRC, coupling.I_MDST]] = [m_b, m_a]
                    irow += [r_f, r_b]
                    wk += [LEDGER_NONE] * 2  # the ledger needs no potential sum (kernels.ledger_arg)
                    mech.efflux[s] = {j: 1, j + 1: -1}  # net first -> second
                mech.transitions = list(range(t0, len(kinds)))
                mech.ref = (t0, t0 + 1)
                continue
            if mech.type == injection.TYPE:  # between compartments or from an electrode
                t0 = len(kinds)
                s_, m_, st_, ii_ = injection.transitions(self, mech, noii)
                kinds += [KIND_INJ_FW, KIND_INJ_BW]
                src += s_
                mem += m_
                stoich += st_
                prow += [np.zeros(NPAR), np.zeros(NPAR)]
                irow += ii_
                wk += [LEDGER_OWN] * 2  # the ledger sums each jump's dG (injection.ledger_arg)
                mech.transitions = [t0, t0 + 1]
                mech.ref = (t0, t0 + 1)
                # net efflux = out of `compartment`: a forward firing moves one ion in
                mech.efflux = {mech.spec["species"]: {t0: -1, t0 + 1: 1}}
                continue
            if mech.type == buffer.TYPE:
                self._buffer_transitions(mech, kinds, src, mem, stoich, prow, irow, wk, noii)
                continue
            mi = self.mems.index(spec["membrane"])
            mspec = d["membranes"][spec["membrane"]]
            cin, cout = mspec["inside"], mspec["outside"]
            if mech.type == leak.TYPE:
                s = spec["species"]
                i_in, i_out = self.idx(cin, s), self.idx(cout, s)
                t0 = len(kinds)
                kinds += [KIND_LEAK_OUT, KIND_LEAK_IN]
                src += [i_in, i_out]
                mem += [mi, mi]
                stoich += [{i_in: -1, i_out: +1}, {i_in: +1, i_out: -1}]
                prow += [np.zeros(NPAR), np.zeros(NPAR)]
                irow += [noii.copy(), noii.copy()]
                wk += [LEDGER_V] * 2
                mech.transitions = [t0, t0 + 1]
                mech.ref = (t0, t0 + 1)
                mech.efflux = {s: {t0: 1, t0 + 1: -1}}
            elif mech.type == pump.TYPE:
                states = list(range(next_agent, next_agent + pump.N_STATES))
                mech.states = states
                mech.blocked = next_agent + pump.N_STATES
                next_agent += pump.N_STATES + 1
                # one block of transitions on the counts per state, or one per agent
                blocks = agents.blocks(mech, pump.N_STATES, next_agent)
                next_agent += agents.n_slots(spec, mech.n_agents, pump.N_STATES)
                pool = cin in self.pools
                ii = np.array([self.idx(cin, "Na"), self.idx(cin, "K"), self.idx(cout, "Na"),
                               self.idx(cout, "K"), 0] + [-1] * (NII - 5), np.int64)
                if pool:
                    ii[5:8] = [self.idx(cin, s) for s in ("ATP", "ADP", "Pi")]
                t0 = len(kinds)
                mech.efflux = {"Na": {}, "K": {}}
                steps = [(agent, own, step) for agent, own in blocks
                         for step in range(pump.N_STEPS)]
                for agent, own, step in steps:
                    if step == 0:
                        mech.blocks.append(len(kinds))
                    nxt = (step + 1) % pump.N_STATES
                    a, b = own[step], own[nxt]
                    fw = {a: -1, b: +1}
                    if own is not states:  # an agent's jump moves the counts per state too
                        fw.update({states[step]: -1, states[nxt]: +1})
                        mech.agent_moves += [(len(kinds), agent, step, nxt),
                                             (len(kinds) + 1, agent, nxt, step)]
                    if step in pump.TRANSLOCATION:
                        s, n = pump.TRANSLOCATION[step]
                        fw[self.idx(cin, s)] = -n
                        fw[self.idx(cout, s)] = +n
                    if pool and step == 0:  # the ATP-booking step hydrolyses pool ATP
                        fw.update({int(ii[5]): -1, int(ii[6]): +1, int(ii[7]): +1})
                    bw = {k: -v for k, v in fw.items()}
                    j = len(kinds)
                    for direction, (kind, st, source) in enumerate(
                            ((KIND_PUMP_FW, fw, a), (KIND_PUMP_BW, bw, b))):
                        kinds.append(kind)
                        src.append(source)
                        mem.append(mi)
                        stoich.append(st)
                        prow.append(np.zeros(NPAR))
                        r = ii.copy()
                        r[4] = step
                        irow.append(r)
                        wk.append(LEDGER_OWN if pool and step == 0 else LEDGER_V)
                    if step in pump.TRANSLOCATION:
                        s, n = pump.TRANSLOCATION[step]
                        mech.efflux[s].update({j: n, j + 1: -n})
                mech.transitions = list(range(t0, len(kinds)))
                # step 2, the Na+ translocation (of every agent: output sums the lists)
                ref = [(b + 2, b + 3) for b in mech.blocks]
                mech.ref = ref[0] if mech.agent_slots is None else \
                    (tuple(list(r) for r in zip(*ref)) or ([], []))
            elif mech.type == channels.TYPE:
                names, open_k, edges = channels.scheme(spec["gates"])
                states = list(range(next_agent, next_agent + len(names)))
                next_agent += len(names)
                mech.states, mech.state_names = states, names
                mech.states_in_ledger = False
                mech.open_state = open_k
                # one block of gating pairs on the counts, or one per channel (agents.py)
                blocks = agents.blocks(mech, len(names), next_agent)
                next_agent += agents.n_slots(spec, mech.n_agents, len(names))
                t0 = len(kinds)
                for agent, own in blocks:
                    mech.blocks.append(len(kinds))
                    for e_a, e_b, *_ in edges:
                        a, b = own[e_a], own[e_b]
                        fw = {a: -1, b: 1}
                        if own is not states:  # an agent's jump moves the counts too
                            fw.update({states[e_a]: -1, states[e_b]: 1})
                            mech.agent_moves += [(len(kinds), agent, e_a, e_b),
                                                 (len(kinds) + 1, agent, e_b, e_a)]
                        kinds += [KIND_GATE_FW, KIND_GATE_BW]
                        src += [a, b]
                        mem += [mi, mi]
                        stoich += [fw, {k: -v for k, v in fw.items()}]
                        prow += [np.zeros(NPAR), np.zeros(NPAR)]
                        irow += [noii.copy(), noii.copy()]
                        wk += [LEDGER_V] * 2
                mech.reservoir = list(range(t0, len(kinds)))
                s = spec["species"]
                i_in, i_out = self.idx(cin, s), self.idx(cout, s)
                j = len(kinds)
                kinds += [KIND_CHAN_OUT, KIND_CHAN_IN]
                src += [i_in, i_out]
                mem += [mi, mi]
                stoich += [{i_in: -1, i_out: +1}, {i_in: +1, i_out: -1}]
                prow += [np.zeros(NPAR), np.zeros(NPAR)]
                r = noii.copy()
                r[channels.I_OPEN] = states[open_k]
                irow += [r, r.copy()]
                wk += [LEDGER_V] * 2
                mech.transitions = list(range(t0, len(kinds)))
                mech.ref = (j, j + 1)
                mech.efflux = {s: {j: 1, j + 1: -1}}
            elif mech.type == kir.TYPE:
                s = spec["species"]
                i_in, i_out = self.idx(cin, s), self.idx(cout, s)
                t0 = len(kinds)
                kinds += [KIND_KIR_OUT, KIND_KIR_IN]
                src += [i_in, i_out]
                mem += [mi, mi]
                stoich += [{i_in: -1, i_out: +1}, {i_in: +1, i_out: -1}]
                prow += [np.zeros(NPAR), np.zeros(NPAR)]
                r = noii.copy()
                r[[kir.I_IN, kir.I_OUT]] = [i_in, i_out]
                irow += [r, r.copy()]
                wk += [LEDGER_V] * 2
                mech.transitions = [t0, t0 + 1]
                mech.ref = (t0, t0 + 1)
                mech.efflux = {s: {t0: 1, t0 + 1: -1}}
            elif mech.type == activity.TYPE:
                continue  # no transitions: spikes are applied at their times (replicate.py)
            elif mech.type == metabolism.TYPE:
                ix = {s: (self.idx(cin, s) if s in self.species else -1)
                      for s in metabolism.POOL + metabolism.CREATINE}
                ii = noii.copy()
                ii[:6] = [ix[s] for s in ("ATP", "ADP", "Pi", "O2", "PCr", "Cr")]
                atp, adp, pi, o2 = ix["ATP"], ix["ADP"], ix["Pi"], ix["O2"]
                pairs = [((KIND_OX_FW, KIND_OX_BW), o2, atp, {adp: -n, pi: -n, o2: -1, atp: n})
                         for n, _ in metabolism.couplings(spec["ATP_per_O2"])]
                pairs += [((KIND_O2_OUT, KIND_O2_IN), o2, o2, {o2: -1}),
                         ((KIND_LOAD_FW, KIND_LOAD_BW), atp, adp, {atp: -1, adp: 1, pi: 1})]
                if ix["PCr"] >= 0 and ix["Cr"] >= 0:
                    pairs.append(((KIND_CK_FW, KIND_CK_BW), adp, atp,
                                  {ix["PCr"]: -1, adp: -1, ix["Cr"]: 1, atp: 1}))
                t0 = len(kinds)
                for (kf, kb), sf, sb, st in pairs:
                    kinds += [kf, kb]
                    src += [sf, sb]
                    mem += [mi, mi]
                    stoich += [st, {k: -v for k, v in st.items()}]
                    prow += [np.zeros(NPAR), np.zeros(NPAR)]
                    irow += [ii.copy(), ii.copy()]
                    wk += [LEDGER_V] * 2
                mech.transitions = list(range(t0, len(kinds)))
                # oxphos, both couplings: forward = one O2 reduced
                mech.ref = ([t0, t0 + 2], [t0 + 1, t0 + 3])
                mech.efflux = {"O2": {t0 + 4: 1, t0 + 5: -1}}
                mech.pool_compartment = cin
            elif mech.type == cotransporter.TYPE:
                st = spec["stoichiometry"]
                fw_ii, bw_ii = noii.copy(), noii.copy()
                fw_ii[0] = bw_ii[0] = len(st)
                fw = {}
                for k, (s, n) in enumerate(st.items()):
                    i_in, i_out = self.idx(cin, s), self.idx(cout, s)
                    a, b = (i_out, i_in) if n > 0 else (i_in, i_out)  # forward source, dest
                    fw_ii[1 + 2 * k:3 + 2 * k] = [a, b]
                    bw_ii[1 + 2 * k:3 + 2 * k] = [b, a]
                    fw[i_in] = fw.get(i_in, 0) + n
                    fw[i_out] = fw.get(i_out, 0) - n
                pool = bool(spec["ATP_per_turnover"]) and cin in self.pools
                if pool:  # a forward turnover hydrolyses one pool ATP (cotransporter.py)
                    ipool = [self.idx(cin, s) for s in ("ATP", "ADP", "Pi")]
                    fw_ii[cotransporter.I_ATP:cotransporter.I_ATP + 3] = ipool
                    bw_ii[cotransporter.I_ATP:cotransporter.I_ATP + 3] = ipool
                    fw.update({ipool[0]: -1, ipool[1]: 1, ipool[2]: 1})
                t0 = len(kinds)
                kinds += [KIND_COTR_FW, KIND_COTR_BW]
                src += [int(fw_ii[1]), int(bw_ii[1])]
                mem += [mi, mi]
                stoich += [fw, {k: -v for k, v in fw.items()}]
                prow += [np.zeros(NPAR), np.zeros(NPAR)]
                irow += [fw_ii, bw_ii]
                wk += [LEDGER_OWN if pool else LEDGER_V] * 2
                mech.transitions = [t0, t0 + 1]
                mech.ref = (t0, t0 + 1)
                # net efflux (inside -> outside): a forward turnover moves n_s inward
                mech.efflux = {s: {t0: -n, t0 + 1: n} for s, n in st.items()}
        nt = len(kinds)
        self.nt = nt
        self.tr_kind = np.array(kinds, np.int64)
        self.tr_src = np.array(src, np.int64)
        self.tr_mem = np.array(mem, np.int64)
        self.tr_p = np.array(prow, float).reshape(nt, NPAR)
        self.tr_ii = np.array(irow, np.int64).reshape(nt, NII)
        self.tr_ledger = np.array(wk, np.int64)
        # full stoichiometry (for bookkeeping) and the applied one without clamped indices
        self.stoich_full = np.zeros((nt, self.nx), np.int64)
        for j, st in enumerate(stoich):
            for i, v in st.items():
                self.stoich_full[j, i] = v
        applied = self.stoich_full * (~self.clamped)[None, :]
        self.nu = applied
        ptr, ind, dl = [0], [], []
        for j in range(nt):
            nz = np.nonzero(applied[j])[0]
            ind += list(nz)
            dl += list(applied[j, nz])
            ptr.append(len(ind))
        self.st_ptr = np.array(ptr, np.int64)
        self.st_idx = np.array(ind, np.int64)
        self.st_del = np.array(dl, np.int64)
        # charge each transition adds to each membrane's inside (unclamped species only);
        # tr_q: to its own membrane's (a coupling may change two membranes, or none)
        nm = len(self.mems)
        self.tr_qm = np.zeros((nt, nm))
        for m in range(nm):
            s0 = self.mem_start[m]
            self.tr_qm[:, m] = applied[:, s0:s0 + self.ns] @ self.charge
        self.tr_q = np.array([self.tr_qm[j, self.tr_mem[j]] if self.tr_mem[j] >= 0 else 0.0
                              for j in range(nt)])
        # the reverse partner of each transition (pairs are built adjacent: 2k, 2k + 1)
        self.tr_rev = np.arange(nt, dtype=np.int64) ^ 1
        # half the potential change of each jump, for the midpoint rule (0 when clamped);
        # for a coupling, of the difference source - destination (coupling.py)
        dv = np.where(self.mem_clamped[None, :], 0.0,
                      self.tr_qm * E_CHARGE / np.where(self.mem_C > 0, self.mem_C, 1.0))
        self.tr_hdv = np.zeros(nt)
        for j in range(nt):
            if self.tr_kind[j] in (KIND_COUPLE_FW, KIND_COUPLE_BW):
                ms, md = self.tr_ii[j, coupling.I_MSRC], self.tr_ii[j, coupling.I_MDST]
                self.tr_hdv[j] = 0.5 * ((dv[j, ms] if ms >= 0 else 0.0)
                                        - (dv[j, md] if md >= 0 else 0.0))
            elif self.tr_mem[j] >= 0:
                self.tr_hdv[j] = 0.5 * dv[j, self.tr_mem[j]]
        self._build_dependencies()
        for mech in self.mechs:
            self.update_parameters(mech)

    def _buffer_transitions(self, mech, kinds, src, mem, stoich, prow, irow, wk, noii):
        """Binding (forward) and unbinding of a buffer (buffer.py). Its transitions use the
        membrane whose inside is the buffer's compartment (for the ledger's potential when
        the ligand is clamped; they add no charge), or, in a compartment that is no
        membrane's inside, membrane 0 as a placeholder with wk = 3 (at 0 V)."""
        spec = mech.spec
        c = spec["compartment"]
        il, ib, ic = (self.idx(c, spec[k]) for k in ("ligand", "buffer_species",
                                                       "bound_species"))
        mi = next((i for i, m in enumerate(self.mems)
                   if self.scenario.data["membranes"][m]["inside"] == c), None)
        ii = noii.copy()
        ii[[buffer.I_LIG, buffer.I_B, buffer.I_BOUND]] = [il, ib, ic]
        t0 = len(kinds)
        kinds += [KIND_BUF_FW, KIND_BUF_BW]
        src += [il, ic]
        mem += [0 if mi is None else mi] * 2
        fw = {il: -1, ib: -1, ic: 1}
        stoich += [fw, {k: -v for k, v in fw.items()}]
        prow += [np.zeros(NPAR), np.zeros(NPAR)]
        irow += [ii, ii.copy()]
        wk += [LEDGER_NONE if mi is None else LEDGER_V] * 2
        mech.transitions = [t0, t0 + 1]
        mech.ref = (t0, t0 + 1)

    def _build_dependencies(self):
        """dep[j]: transitions whose propensity can change when transition j fires."""
        reads = []
        for j in range(self.nt):
            r = {("x", int(self.tr_src[j]))}
            if self.tr_kind[j] in (KIND_COUPLE_FW, KIND_COUPLE_BW):
                r |= {("V", int(m)) for m in self.tr_ii[j, :2] if m >= 0}
            elif self.tr_kind[j] in (KIND_KIR_OUT, KIND_KIR_IN):
                r |= {("x", int(i)) for i in self.tr_ii[j, :2]}
                r.add(("V", int(self.tr_mem[j])))
            elif self.tr_kind[j] in (KIND_PUMP_FW, KIND_PUMP_BW):
                r |= {("x", int(i)) for i in self.tr_ii[j, :4]}
                r |= {("x", int(i)) for i in self.tr_ii[j, 5:8] if i >= 0}
                r.add(("V", int(self.tr_mem[j])))
            elif self.tr_kind[j] in (KIND_CHAN_OUT, KIND_CHAN_IN):  # and the open count
                r.add(("x", int(self.tr_ii[j, channels.I_OPEN])))
                r.add(("V", int(self.tr_mem[j])))
            elif self.tr_kind[j] in (KIND_GATE_FW, KIND_GATE_BW):
                r.add(("V", int(self.tr_mem[j])))
            elif self.tr_kind[j] in (KIND_INJ_FW, KIND_INJ_BW):  # its source's count alone
                pass
            elif self.tr_kind[j] in (KIND_BUF_FW, KIND_BUF_BW):  # ligand and free site, not V
                r |= {("x", int(i)) for i in self.tr_ii[j, :3]}
            elif self.tr_kind[j] in (KIND_COTR_FW, KIND_COTR_BW):  # every count it moves, and V
                r |= {("x", int(i)) for i in self.tr_ii[j, 1:1 + 2 * self.tr_ii[j, 0]]}
                r |= {("x", int(i)) for i in self.tr_ii[j, cotransporter.I_ATP:] if i >= 0}
                r.add(("V", int(self.tr_mem[j])))
            elif self.tr_kind[j] in range(KIND_OX_FW, KIND_CK_BW + 1):  # pool counts, not V
                r |= {("x", int(i)) for i in self.tr_ii[j, :6] if i >= 0}
            else:
                r.add(("V", int(self.tr_mem[j])))
            reads.append(r)
        # who reads what, so that each transition's dependents are a union of lists (one
        # agent per block makes nt large: the pairwise test was O(nt^2) set operations)
        readers = {}
        for k, r in enumerate(reads):
            for key in r:
                readers.setdefault(key, []).append(k)
        ptr, ind = [0], []
        for j in range(self.nt):
            w = {("x", int(i)) for i in self.st_idx[self.st_ptr[j]:self.st_ptr[j + 1]]}
            for m in range(len(self.mems)):
                s0 = self.mem_start[m]
                if not self.mem_clamped[m] and np.any(
                        self.nu[j, s0:s0 + self.ns] * self.charge != 0):
                    w.add(("V", m))
            deps = sorted(set().union(*(readers.get(key, ()) for key in w)))
            ind += deps
            ptr.append(len(ind))
        self.dep_ptr = np.array(ptr, np.int64)
        self.dep_idx = np.array(ind, np.int64)

    def update_parameters(self, mech):
        """(Re)compute the rate parameters of a mechanism from its spec (after events)."""
        spec = mech.spec
        d = self.scenario.data
        if mech.type == coupling.TYPE:
            va, vb = (d["compartments"][c]["volume_um3"] for c in spec["compartments"])
            for k, s in enumerate(spec["species"]):
                fw, bw = coupling.rows(spec, s, d["species"][s]["charge"], self.T, va, vb)
                j0, j1 = mech.transitions[2 * k:2 * k + 2]
                self.tr_p[j0, :coupling.N_PAR] = fw
                self.tr_p[j1, :coupling.N_PAR] = bw
            return
        if mech.type == injection.TYPE:
            j0, j1 = mech.transitions
            rates = injection.rates(spec, d["species"][spec["species"]]["charge"])
            self.tr_p[[j0, j1], injection.P_RATE] = rates
            return
        if mech.type == buffer.TYPE:
            c = spec["compartment"]
            kf, kb = buffer.rates(spec, self.T, d["compartments"][c]["volume_um3"])
            j0, j1 = mech.transitions
            self.tr_p[j0, buffer.P_RATE] = kf
            self.tr_p[j1, buffer.P_RATE] = kb
            return
        mspec = d["membranes"][spec["membrane"]]
        if mech.type == kir.TYPE:
            s = spec["species"]
            i_in, i_out = self.idx(mspec["inside"], s), self.idx(mspec["outside"], s)
            out, inw = kir.rows(spec, d["species"][s]["charge"], self.T, mspec["area_um2"],
                                self.vol[self.comps.index(mspec["inside"])],
                                self.vol[self.comps.index(mspec["outside"])],
                                self.inv_nvol[i_out], self.clamped[i_in], self.clamped[i_out])
            j0, j1 = mech.transitions
            self.tr_p[j0, :kir.N_PAR] = out
            self.tr_p[j1, :kir.N_PAR] = inw
        elif mech.type == leak.TYPE:
            z = d["species"][spec["species"]]["charge"]
            q = spec["q10"] ** ((self.T - 310.0) / 10.0)
            pa = spec["permeability_cm_per_s"] * q * CM_TO_M * mspec["area_um2"] * UM2_TO_M2
            vin = d["compartments"][mspec["inside"]]["volume_um3"] * UM3_TO_M3
            vout = d["compartments"][mspec["outside"]]["volume_um3"] * UM3_TO_M3
            j0, j1 = mech.transitions
            self.tr_p[j0, :2] = [pa / vin, z * F / (R * self.T)]
            self.tr_p[j1, :2] = [pa / vout, z * F / (R * self.T)]
        elif mech.type == pump.TYPE:
            pool = self.pools.get(mspec["inside"])
            dg0 = None if pool is None else pool.spec["dG0_ATP_kJ_per_mol"] * 1e3
            row = pump.param_row(spec, self.T, dg0)
            for j in mech.transitions:
                self.tr_p[j, :pump.N_PAR] = row
        elif mech.type == cotransporter.TYPE:
            cin, cout = (d["compartments"][mspec[side]] for side in ("inside", "outside"))
            charges = {s: d["species"][s]["charge"] for s in spec["stoichiometry"]}
            clamped = [{s: c["bath"] or s in c["clamped_species"]
                        for s in spec["stoichiometry"]} for c in (cin, cout)]
            pool = self.pools.get(mspec["inside"])
            dg0 = None if pool is None or not spec["ATP_per_turnover"] else \
                pool.spec["dG0_ATP_kJ_per_mol"] * 1e3
            fw, bw = cotransporter.rows(spec, self.T, mspec["area_um2"], charges, *clamped,
                                        dG0_pool=dg0)
            j0, j1 = mech.transitions
            self.tr_p[j0, :cotransporter.N_PAR] = fw
            self.tr_p[j1, :cotransporter.N_PAR] = bw
        elif mech.type == channels.TYPE:
            _, _, edges = channels.scheme(spec["gates"])
            for b in mech.blocks:  # the counts' block, or each channel's (agents.py)
                for k, (p0, fn, beta) in enumerate(channels.gating_rows(spec, self.T, edges)):
                    j = b + k
                    self.tr_p[j, 0] = p0
                    self.tr_ii[j, channels.I_FN] = fn
                    self.tr_ii[j, channels.I_BETA] = beta
            z = d["species"][spec["species"]]["charge"]
            rows = channels.conduction_rows(
                spec, self.T, z, d["compartments"][mspec["inside"]]["volume_um3"],
                d["compartments"][mspec["outside"]]["volume_um3"])
            for j, row in zip(mech.transitions[-2:], rows):
                self.tr_p[j, :2] = row
        elif mech.type == metabolism.TYPE:
            vol = d["compartments"][mspec["inside"]]["volume_um3"]
            rows = metabolism.rows(spec, self.T, vol, mspec["area_um2"])
            for k, row in enumerate(rows):
                for j in mech.transitions[2 * k:2 * k + 2]:
                    self.tr_p[j, :len(row)] = row
            # a pump or ATP-driven transporter on the same cell uses the pool's dG0'
            for other in self.mechs:
                if other.type in (pump.TYPE, cotransporter.TYPE) and other.transitions and \
                        d["membranes"][other.spec["membrane"]]["inside"] == mspec["inside"]:
                    self.update_parameters(other)

    # -- initial state -----------------------------------------------------------------
    def _initial_state(self):
        d = self.scenario.data
        src = self.scenario.source
        x = np.zeros(self.nx, np.int64)
        for ci, c in enumerate(self.comps):
            spec = d["compartments"][c]
            for s, v in spec["concentrations_mM"].items():
                x[self.idx(c, s)] = int(round(v * IONS_PER_MM_UM3 * self.vol[ci]))
        for ci, c in enumerate(self.comps):
            spec = d["compartments"][c]
            target = 0.0
            mi = next((i for i, m in enumerate(self.mems)
                       if d["membranes"][m]["inside"] == c), None)
            if mi is not None and not spec["bath"]:
                target = (self.membrane_spec(mi)["initial_potential_mV"] * 1e-3
                          * self.mem_C[mi] / E_CHARGE)
            b = spec["balance_charge_with"]
            s0 = ci * self.ns
            if b:
                bi = self.idx(c, b)
                x[bi] = 0
                q = float(x[s0:s0 + self.ns] @ self.charge)
                zb = d["species"][b]["charge"]
                nb = (target - q) / zb
                if nb < 0:
                    raise InputError(src, f"compartments.{c}.balance_charge_with",
                                     f"{b!r} would need a negative amount "
                                     f"({nb / (IONS_PER_MM_UM3 * self.vol[ci]):.3g} mM) to "
                                     "balance the charge")
                x[bi] = int(round(nb))
            elif mi is not None and not self.mem_clamped[mi]:
                q = float(x[s0:s0 + self.ns] @ self.charge)
                v = q * E_CHARGE / self.mem_C[mi] * 1e3
                if abs(v - self.membrane_spec(mi)["initial_potential_mV"]) > 1.0:
                    raise InputError(src, f"compartments.{c}",
                                     f"its charge puts membrane {self.mems[mi]!r} at {v:.4g} mV, "
                                     "not at initial_potential_mV; set balance_charge_with")
        for mech in self.mechs:
            if mech.type == pump.TYPE:
                self._place_pumps(mech, x)
        V = self.voltages(x)
        for mech in self.mechs:
            if mech.type == channels.TYPE:  # at the stationary occupancies of V(0)
                mi = self.mems.index(mech.spec["membrane"])
                x[mech.states] = _largest_remainder(mech.n_agents, self.channel_occupancies(
                    mech, V[mi]))
                agents.assign(mech, x)
        return x

    def channel_occupancies(self, mech, V):
        """Stationary probabilities of a channel population's states at V (volts)."""
        spec = mech.spec
        return channels.occupancies(spec["gates"], V, self.T, spec["q10_gating"])

    def _place_pumps(self, mech, x):
        nblocked = int(round(mech.spec["block_fraction"] * mech.n_agents))
        probs = self.pump_steady_state(mech, x)[0]
        x[mech.states] = _largest_remainder(mech.n_agents - nblocked, probs)
        x[mech.blocked] = nblocked
        agents.assign(mech, x)

    def pump_concentrations(self, mech, x):
        ii = self.tr_ii[mech.transitions[0], :4]
        return [float(x[i] * self.inv_nvol[i]) for i in ii]

    def voltages(self, x):
        """Membrane potentials (volts) of state x: V = e * sum(z n_inside) / C, or the clamp."""
        V = np.empty(len(self.mems))
        for m in range(len(self.mems)):
            if self.mem_clamped[m]:
                V[m] = self.mem_vclamp[m]
            else:
                s0 = self.mem_start[m]
                V[m] = E_CHARGE * float(np.asarray(x[s0:s0 + self.ns], float) @ self.charge) \
                    / self.mem_C[m]
        return V

    def pump_steady_state(self, mech, x):
        """King-Altman occupancies and turnover (1/s per pump) at state x."""
        nai, ki, nao, ko = self.pump_concentrations(mech, x)
        mi = self.mems.index(mech.spec["membrane"])
        V = self.voltages(x)[mi]
        return pump.king_altman(*pump.cycle_rates(self.pump_row(mech, x), nai, ki, nao, ko, V))

    def pump_row(self, mech, x):
        """The pump's rate row with a pool's nucleotide factors at state x."""
        j = mech.transitions[0]
        ii = self.tr_ii[j]
        if ii[5] < 0:
            return self.tr_p[j]
        return pump.effective_row(self.tr_p[j], *[float(x[i] * self.inv_nvol[i])
                                                  for i in ii[5:8]])

    def pool_indices(self, comp):
        """{species: state index} of the pool in compartment `comp`."""
        return {s: self.idx(comp, s) for s in metabolism.POOL + metabolism.CREATINE
                if s in self.species}

    # -- events ------------------------------------------------------------------------
    def apply_set(self, target, value, x, rng, continuous=False):
        """Apply one event assignment to the parameters and, where needed, to state x."""
        parts = target.split(".")
        d = self.scenario.data
        if parts[0] == "mechanisms":
            mech = next(m for m in self.mechs if m.name == parts[1])
            mech.spec[parts[2]] = float(value)
            self.update_parameters(mech)
            if mech.type == pump.TYPE and parts[2] == "block_fraction":
                self._reblock(mech, x, rng, continuous)
        elif parts[0] == "compartments":
            c, s = parts[1], parts[3]
            d["compartments"][c]["concentrations_mM"][s] = float(value)
            i = self.idx(c, s)
            n = value * IONS_PER_MM_UM3 * self.vol[self.comps.index(c)]
            x[i] = n if continuous else int(round(n))
        elif parts[0] == "membranes":
            mi = self.mems.index(parts[1])
            d["membranes"][parts[1]]["clamp_mV"] = float(value)
            self.mem_vclamp[mi] = float(value) * 1e-3

    def _reblock(self, mech, x, rng, continuous):
        """Ouabain binds pumps wherever they are in the cycle; unbound pumps return to the
        cycle in its steady-state distribution."""
        f = mech.spec["block_fraction"]
        st = mech.states
        if continuous:
            total = x[st].sum() + x[mech.blocked]
            active = x[st].sum()
            want = (1.0 - f) * total
            if want < active:
                x[st] *= want / active if active > 0 else 0.0
            else:
                probs = self.pump_steady_state(mech, x)[0]
                x[st] += (want - active) * probs
            x[mech.blocked] = total - want
            return
        target = int(round(f * mech.n_agents))
        delta = target - int(x[mech.blocked])
        if mech.agent_slots is not None:
            agents.reblock(mech, x, rng, delta, self.pump_steady_state(mech, x)[0])
        elif delta > 0:
            take = rng.multivariate_hypergeometric(x[st].astype(np.int64), delta)
            x[st] -= take
        elif delta < 0:
            probs = self.pump_steady_state(mech, x)[0]
            x[st] += rng.multinomial(-delta, probs)
        x[mech.blocked] = target

    # -- the tuple handed to the kernels ---------------------------------------------
    def kernel_args(self):
        """The kernels' arguments (model/arrays.py): the model's arrays, then scratch arrays
        of the caller's own: lattice tables and the pending entropy products of `ssa.fire`."""
        row = lattice.rows(kind_flags(self.tr_kind, "LATTICE"), self.tr_mem, self.mem_clamped,
                           [mv[0] for m in self.mechs for mv in m.agent_moves])
        tab, qlo, qc = lattice.tables(row, self.mem_C)
        return KernelArgs(
            kind=self.tr_kind, src=self.tr_src, mem=self.tr_mem, q=self.tr_q, p=self.tr_p,
            ii=self.tr_ii, st_ptr=self.st_ptr, st_idx=self.st_idx, st_del=self.st_del,
            dep_ptr=self.dep_ptr, dep_idx=self.dep_idx, inv_nvol=self.inv_nvol,
            charge=self.charge, mem_start=self.mem_start, mem_C=self.mem_C,
            mem_clamped=self.mem_clamped, mem_vclamp=self.mem_vclamp, half_dv=self.tr_hdv,
            rev=self.tr_rev, ledger=self.tr_ledger, qm=self.tr_qm,
            first_order=kind_flags(self.tr_kind, "FIRST_ORDER"), lat_row=row, lat_tab=tab,
            lat_qlo=qlo, lat_qc=qc, sprod=np.ones(self.nt))
