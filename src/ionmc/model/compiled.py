"""The compiled model: a scenario turned into flat arrays that every method shares.

State vector x: ion counts per (compartment, species) at index c*NS + s, then for each pump
its four cycle-state counts and its count of ouabain-bound (blocked) pumps. Transitions are
unidirectional: each reversible step is a forward/backward pair. A transition has a kind
(which rate law), a source index (the count its propensity is proportional to), a membrane
(whose midpoint potential it uses), the charge it adds to that membrane's inside, a row of
float parameters, a row of index parameters, and a sparse stoichiometry over x that omits
clamped indices (baths and clamped species keep their counts).

A voltage-gated channel population (channels.py) adds its gating-state counts (contiguous,
like a pump's), with gating pairs between them and one conduction pair; with
`agents = "individual"` each channel's 0/1 state slots follow, with a block of gating pairs
of its own (agents.py), and conduction still reads the open-state count.

A metabolic pool (metabolism.py) adds no state slots: its species are ordinary species
of the cell's compartment (charge 0), moved by the pool's transitions and by the ATP step
of the pumps on the same compartment.
"""
import numpy as np
from scipy.sparse import csr_matrix

from ionmc.constants import E_CHARGE, UF_PER_CM2_TO_F_PER_M2, UM2_TO_M2
from ionmc.engine import lattice
from ionmc.errors import InputError
from ionmc.mechanisms.base import Transitions, enclosing, inside_map
from ionmc.mechanisms.registry import N_II, N_PAR, REGISTRY, kind_flags
from ionmc.model.arrays import KernelArgs
from ionmc.model.dependencies import dependency_graph
from ionmc.physics import conc_of, count_of, potential


def _csr(a, shape, dtype):
    """A scipy CSR matrix of `shape` with sorted indices and no stored zeros."""
    m = csr_matrix(a, shape=shape, dtype=dtype)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m


class Names(list):
    """A list of names (compartments, membranes, species) whose `index` is a lookup: a
    tissue's thousands of compartments made the list's scan the build's N^2."""

    def __init__(self, names=()):
        super().__init__(names)
        self._pos = {}
        for k, name in enumerate(self):
            self._pos.setdefault(name, k)

    def index(self, name, *bounds):
        if bounds or name not in self._pos:
            return super().index(name, *bounds)  # its ValueError, or a search in bounds
        return self._pos[name]


class _ZeroDefault(dict):
    """A mapping that reads 0.0 where it holds nothing (one jump's change per membrane)."""

    def __missing__(self, key):
        return 0.0


class Model:
    """Arrays built once per run from a validated Scenario (see module docstring)."""

    def __init__(self, scenario):
        self.scenario = scenario
        d = scenario.data
        self.T = d["scenario"]["temperature_K"]
        self.species = Names(d["species"])
        self.charge = np.array([d["species"][s]["charge"] for s in self.species], float)
        self.comps = Names(d["compartments"])
        self.mems = Names(d["membranes"])
        ns, nc = len(self.species), len(self.comps)
        self.ns, self.nc = ns, nc
        self.vol = np.array([d["compartments"][c]["volume_um3"] for c in self.comps])
        nion = ns * nc
        self.nion = nion
        self.mechs = [REGISTRY[m["type"]].MECHANISM(m) for m in d["mechanisms"]]
        # compartment -> its metabolic pool (at most one, scenario validation checks)
        self.pools = {}
        for m in self.mechs:
            if m.IS_POOL:
                m.pool_compartment = d["membranes"][m.spec["membrane"]]["inside"]
                self.pools[m.pool_compartment] = m
        # agent states (pumps, channels): slots of their own after the ion counts, in the
        # order of the mechanisms
        nx = nion
        for m in self.mechs:
            n = m.n_slots(self)
            m.first_slot = nx if n else None
            nx += n
        self.nx = nx
        self.inv_nvol = np.zeros(nx)
        self.z = np.zeros(nx)
        self.clamped = np.zeros(nx, bool)
        for ci, c in enumerate(self.comps):
            spec = d["compartments"][c]
            for si, s in enumerate(self.species):
                i = self.idx(c, s)
                self.inv_nvol[i] = 1.0 / count_of(1.0, self.vol[ci])
                self.z[i] = self.charge[si]
                self.clamped[i] = spec["bath"] or s in spec["clamped_species"]
        # species kept outside G by their mechanisms (a pool's: docs/physics.md)
        self.pool_mask = np.zeros(nx, bool)
        for mech in self.mechs:
            self.pool_mask[mech.outside_G(self)] = True
        nm = len(self.mems)
        # compartment index -> the membrane whose inside it is (-1: none, at 0 V)
        self.comp_mem = np.full(nc, -1, np.int64)
        for mi, m in enumerate(self.mems):
            self.comp_mem[self.comps.index(d["membranes"][m]["inside"])] = mi
        # membrane index -> the compartments whose charge it encloses: its inside, then the
        # compartments nested in it (an SR in the cytosol), in compartment order; and the
        # compartments' depth (how many membranes enclose each)
        self.comp_depth = np.zeros(nc, np.int64)
        self.mem_comps = [[] for _ in self.mems]
        #: compartment -> the membrane whose inside it is (mechanisms.base.inside_map)
        self.inside_of = inside_map(d["membranes"])
        for ci, c in enumerate(self.comps):
            chain = enclosing(d["membranes"], c, self.inside_of)
            self.comp_depth[ci] = len(chain)
            for m in chain:
                self.mem_comps[self.mems.index(m)].append(ci)
        for mi, m in enumerate(self.mems):  # the inside first (its sum's order, to the bit)
            own = self.comps.index(d["membranes"][m]["inside"])
            self.mem_comps[mi].remove(own)
            self.mem_comps[mi].insert(0, own)
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
        self._compile()
        self.x0 = self._initial_state()

    def __setstate__(self, state):
        """An unpickled model recomputes its rate rows: a user-written law's address in an
        index row is valid only in the process that compiled it (expressions/native.py)."""
        self.__dict__.update(state)
        for mech in self.mechs:
            mech.update_parameters(self)

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
    def _compile(self):
        """Every mechanism adds its transitions (in scenario order), then the arrays the
        kernels read are laid out from them."""
        tr = Transitions(N_PAR, N_II)
        for mech in self.mechs:
            mech.build(self, tr)
        nt = self.nt = len(tr)
        self.tr_kind = np.array(tr.kind, np.int64)
        self.tr_src = np.array(tr.src, np.int64)
        self.tr_mem = np.array(tr.mem, np.int64)
        self.tr_p = np.zeros((nt, N_PAR))
        self.tr_ii = np.array(tr.ii, np.int64).reshape(nt, N_II)
        self.tr_ledger = np.array(tr.ledger, np.int64)
        self.tr_mech = np.full(nt, -1, np.int64)  # which mechanism owns each transition
        for k, mech in enumerate(self.mechs):
            self.tr_mech[mech.transitions] = k
        # full stoichiometry (for bookkeeping) and the applied one without clamped indices,
        # sparse (scipy CSR, sorted, no stored zeros): dense, nt x nx is the tissue's N^2
        # (21 GB at 1000 units). Rows' columns in order, so st_* below are each row's
        # nonzeros in index order
        rows = [j for j, st in enumerate(tr.stoich) for _ in st]
        cols = [i for st in tr.stoich for i in st]
        vals = [v for st in tr.stoich for v in st.values()]
        self.stoich_full = _csr((vals, (rows, cols)), (nt, self.nx), np.int64)
        self.nu = _csr(self.stoich_full.multiply((~self.clamped)[None, :].astype(np.int64)),
                       (nt, self.nx), np.int64)
        self.st_ptr = self.nu.indptr.astype(np.int64)
        self.st_idx = self.nu.indices.astype(np.int64)
        self.st_del = self.nu.data.astype(np.int64)
        # the charge (e) each state index holds on each membrane's inside: the inside
        # compartment's species, and ions a mechanism holds on that side of the field
        # (Mechanism.state_charges: a pump's bound ions); V = e * (x @ mem_qx[m]) / C
        # A nested compartment's ions are inside every membrane enclosing it (DESIGN:
        # V_m = the charge enclosed by m over C_m), and so is the charge a mechanism holds
        # on a membrane nested inside m (it declares what it holds on its own membrane's
        # inside: a pump's bound ions, all of them). Sparse (nm x nx) as the stoichiometry;
        # summed per entry in the order the terms come, as the dense sum did
        nm = len(self.mems)
        qx = {}
        enclosing_mems = [[] for _ in range(self.nc)]  # compartment -> membranes around it
        for m in range(nm):  # (ascending, so each list is in membrane order)
            for ci in self.mem_comps[m]:
                enclosing_mems[ci].append(m)
                for si in range(self.ns):
                    qx[m, ci * self.ns + si] = self.charge[si]
        for mech in self.mechs:
            for i, m, w in mech.state_charges(self):
                for outer in enclosing_mems[self.mem_start[m] // self.ns]:
                    qx[outer, i] = qx.get((outer, i), 0.0) + w
        keys = list(qx)
        self.mem_qx = _csr(([qx[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
                           (nm, self.nx), float)
        # the held charges apart (so that the species' sum keeps its order, to the bit)
        self.mem_held, self.mem_held_w = [], []
        for m in range(nm):
            a, b = self.mem_qx.indptr[m], self.mem_qx.indptr[m + 1]
            idx, w = self.mem_qx.indices[a:b], self.mem_qx.data[a:b]
            self.mem_held.append(idx[idx >= self.nion].astype(np.int64))
            self.mem_held_w.append(w[idx >= self.nion])
        # the same in CSR form for the kernels (kernels.voltages), in index order
        self.qx_ptr = self.mem_qx.indptr.astype(np.int64)
        self.qx_idx = self.mem_qx.indices.astype(np.int64)
        self.qx_w = self.mem_qx.data.astype(float)
        # charge each transition adds to each membrane's inside (unclamped species only);
        # tr_q: to its own membrane's (a coupling may change two membranes, or none)
        self.tr_qm = _csr(self.nu.astype(float) @ self.mem_qx.T, (nt, nm), float)
        self.tr_q = np.zeros(nt)
        for j in range(nt):
            if self.tr_mem[j] >= 0:
                self.tr_q[j] = self.jump_charge(j).get(int(self.tr_mem[j]), 0.0)
        # the reverse partner of each transition (pairs are built adjacent: 2k, 2k + 1)
        self.tr_rev = np.arange(nt, dtype=np.int64) ^ 1
        # half the potential change of each jump, for the midpoint rule (0 when clamped)
        self.tr_half_dv = np.array([self.mechs[self.tr_mech[j]].half_dv(self, j,
                                                                         self.jump_dv(j))
                                    for j in range(nt)])
        for mech in self.mechs:
            for key, msg in mech.check_model(self):
                raise InputError(self.scenario.source, f"mechanisms.{mech.name}.{key}", msg)
        self.dep_ptr, self.dep_idx = dependency_graph(self)
        for mech in self.mechs:
            mech.update_parameters(self)

    def jump_charge(self, j):
        """{membrane: charge (e)} transition j adds to the insides it changes (tr_qm's row j;
        a membrane it leaves alone is absent)."""
        a, b = self.tr_qm.indptr[j], self.tr_qm.indptr[j + 1]
        return dict(zip(self.tr_qm.indices[a:b].tolist(), self.tr_qm.data[a:b].tolist()))

    def jump_dv(self, j):
        """The potential change (V) of every membrane over transition j's jump, as a
        mapping that gives 0.0 for a membrane it does not change and for a clamped one."""
        dv = _ZeroDefault()
        for m, q in self.jump_charge(j).items():
            if not self.mem_clamped[m]:
                dv[m] = q * E_CHARGE / (self.mem_C[m] if self.mem_C[m] > 0 else 1.0)
        return dv

    def membrane_charges(self, m):
        """Charge (e) each transition adds to membrane m's inside: tr_qm's column m, dense."""
        return self.tr_qm[:, [m]].toarray().ravel()

    def update_parameters(self, mech):
        """(Re)compute the rate parameters of a mechanism from its spec (after events)."""
        mech.update_parameters(self)

    # -- initial state -----------------------------------------------------------------
    def _initial_state(self):
        d = self.scenario.data
        src = self.scenario.source
        x = np.zeros(self.nx, np.int64)
        for ci, c in enumerate(self.comps):
            spec = d["compartments"][c]
            for s, v in spec["concentrations_mM"].items():
                x[self.idx(c, s)] = int(round(count_of(v, self.vol[ci])))
            for s, n in spec.get("counts", {}).items():
                x[self.idx(c, s)] = n
        # mechanisms that hold charge (a pump's bound ions) are placed first, at their
        # membrane's initial potential, so that the balance below counts their charge
        holders = [m for m in self.mechs if m.state_charges(self)]
        for mech in holders:
            mech.initial_state(self, x)
        # innermost compartments first: a membrane's charge includes what is nested in it
        for ci in sorted(range(self.nc), key=lambda k: -self.comp_depth[k]):
            c = self.comps[ci]
            spec = d["compartments"][c]
            target = 0.0
            mi = int(self.comp_mem[ci]) if self.comp_mem[ci] >= 0 else None
            if mi is not None and not spec["bath"]:
                target = (self.membrane_spec(mi)["initial_potential_mV"] * 1e-3
                          * self.mem_C[mi] / E_CHARGE)
            b = spec["balance_charge_with"]
            s0 = ci * self.ns
            if b:
                bi = self.idx(c, b)
                x[bi] = 0
                q = float(self.charge_inside(x, mi)) if mi is not None else \
                    float(x[s0:s0 + self.ns] @ self.charge)
                zb = d["species"][b]["charge"]
                nb = (target - q) / zb
                if nb < 0:
                    raise InputError(src, f"compartments.{c}.balance_charge_with",
                                     f"{b!r} would need a negative amount "
                                     f"({conc_of(nb, self.vol[ci]):.3g} mM) to "
                                     "balance the charge")
                x[bi] = int(round(nb))
            elif mi is not None and not self.mem_clamped[mi]:
                q = float(self.charge_inside(x, mi))
                v = potential(q, self.mem_C[mi]) * 1e3
                if abs(v - self.membrane_spec(mi)["initial_potential_mV"]) > 1.0:
                    raise InputError(src, f"compartments.{c}",
                                     f"its charge puts membrane {self.mems[mi]!r} at {v:.4g} mV, "
                                     "not at initial_potential_mV; set balance_charge_with")
        for mech in self.mechs:  # pumps
            if mech not in holders:
                mech.initial_state(self, x)
        V = self.voltages(x)
        for mech in self.mechs:  # channels, at the stationary occupancies of V(0)
            mech.initial_gating(self, x, V)
        return x

    def voltages(self, x):
        """Membrane potentials (volts) of state x: V = e * (charge inside) / C, or the
        clamp; the charge inside counts the inside's ions and those a mechanism holds on
        the inside of the field (mem_qx)."""
        V = np.empty(len(self.mems))
        for m in range(len(self.mems)):
            if self.mem_clamped[m]:
                V[m] = self.mem_vclamp[m]
            else:
                V[m] = potential(float(self.charge_inside(np.asarray(x, float), m)),
                                 self.mem_C[m])
        return V

    def charge_inside(self, X, m):
        """Charge (e) on membrane m's inside for counts X (one state, or rows): the
        inside's ions, then the ions mechanisms hold there (mem_qx)."""
        q = 0.0
        for ci in self.mem_comps[m]:  # its inside, then what is nested in it
            q = q + X[..., ci * self.ns:(ci + 1) * self.ns] @ self.charge
        held = self.mem_held[m]
        return q + X[..., held] @ self.mem_held_w[m] if len(held) else q

    def pool_indices(self, comp):
        """{species: state index} of the metabolic pool in compartment `comp`."""
        return self.pools[comp].species_indices(self)

    # -- events ------------------------------------------------------------------------
    def apply_set(self, target, value, x, rng, continuous=False):
        """Apply one event assignment to the parameters and, where needed, to state x."""
        parts = target.split(".")
        d = self.scenario.data
        if parts[0] == "mechanisms":
            mech = next(m for m in self.mechs if m.name == parts[1])
            mech.set_parameter(self, parts[2], value, x, rng, continuous)
        elif parts[0] == "compartments":
            c, s = parts[1], parts[3]
            d["compartments"][c]["concentrations_mM"][s] = float(value)
            i = self.idx(c, s)
            n = count_of(value, self.vol[self.comps.index(c)])
            x[i] = n if continuous else int(round(n))
        elif parts[0] == "membranes":
            mi = self.mems.index(parts[1])
            d["membranes"][parts[1]]["clamp_mV"] = float(value)
            self.mem_vclamp[mi] = float(value) * 1e-3

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
            qx_ptr=self.qx_ptr, qx_idx=self.qx_idx, qx_w=self.qx_w, mem_C=self.mem_C,
            mem_clamped=self.mem_clamped, mem_vclamp=self.mem_vclamp, half_dv=self.tr_half_dv,
            rev=self.tr_rev, ledger=self.tr_ledger,
            first_order=kind_flags(self.tr_kind, "FIRST_ORDER"), lat_row=row, lat_tab=tab,
            lat_qlo=qlo, lat_qc=qc, sprod=np.ones(self.nt), fail=np.full(1, np.nan))


def stoichiometric_basis(nu):
    """Orthonormal basis (nx x r) of the row space of the stoichiometry nu (transitions x
    state indices): the directions transitions move the state in. Its orthogonal
    complement holds the conservation laws (pump molecules, impermeants) and the clamped
    indices. For the ODE's relaxation to a fixed point and the linear-noise approximation."""
    nu = np.asarray(nu, float)
    if not nu.size:
        return np.zeros((nu.shape[1], 0))
    _, s, vt = np.linalg.svd(nu, full_matrices=False)
    r = int(np.sum(s > s.max() * max(nu.shape) * np.finfo(float).eps)) if s.size else 0
    return vt[:r].T
