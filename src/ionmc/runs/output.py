"""Output columns (docs/guide.md, "Output") built from recorded states, as Arrow tables.

The kernels hand back, per stop time, the counts and per transition the cumulative
firings, entropy sums S (ln a_f/a_b per firing) and ledger sums `ledger_sum` (per firing,
its ledger argument: the midpoint potential, or a jump's own change of G in k_B T).
Everything else -- concentrations, potentials, net effluxes, currents and the thermodynamic
ledger -- is derived here, in vectorised numpy, once per chunk. The ledger's work sums see every stop (events included);
only the recorded times are written.
"""
import numpy as np
import pyarrow as pa

from ionmc.constants import E_CHARGE, K_B
from ionmc.physics import count_of, potential
from ionmc.thermo.ledger import BATH, CLAMP, EVENT, EXTRA_WORK_COLUMNS, WATER_COLUMN, WORK_COLUMNS, \
    Ledger


class Columns:
    def __init__(self, model, integer, x0):
        self.model = model
        self.integer = integer
        self.ledger = Ledger(model, x0, continuous=not integer)
        m = model
        # (mechanism, species, its transitions, ions each moves out): a mechanism's own few
        # transitions, not a vector over all (a tissue's N mechanisms x N transitions)
        self.eff = []
        for mech in m.mechs:
            for s, moves in mech.efflux.items():
                js = np.array(sorted(moves), np.int64)
                self.eff.append((mech, s, js, np.array([moves[j] for j in js], float)))
        self.last_q = None
        self.last_t = None
        self.last_firings = np.zeros(m.nt)
        self.last_ledger_sum = np.zeros(m.nt)
        self.W = np.zeros(4)  # cumulative work: ATP, CLAMP, BATH, EVENT
        self.G0 = None

    def voltages(self, X):
        m = self.model
        V = np.empty((len(X), len(m.mems)))
        for mi in range(len(m.mems)):
            if m.mem_clamped[mi]:
                V[:, mi] = m.mem_vclamp[mi]
            else:
                V[:, mi] = potential(m.charge_inside(X, mi), m.mem_C[mi])
        return V

    def free_energy(self, x):
        X = np.asarray(x, float)[None, :]
        return float(self.ledger.free_energy(X, self.voltages(X))[0][0])

    def event_work(self, category, dG):
        """Book the jump of G caused by an event (clamp, bath or other)."""
        self.W[{"clamp": CLAMP, "bath": BATH}.get(category, EVENT)] += dG

    def table(self, replicate, times, X, firings, S, ledger_sum, keep=None, water=None):
        """The output rows of one chunk: X counts, `firings`, S and `ledger_sum` per
        transition at each stop `times`; `keep` masks the recorded stops. `water`: with
        water flow on (volume.py), rows of (volumes, water gained, W_water, entropy
        produced by the water flow) at the same times."""
        m = self.model
        Xf = np.asarray(X, float)
        firings_f = np.asarray(firings, float)
        W, W_extra = self._work(firings_f, ledger_sum)
        if keep is not None:
            times, X, Xf, firings, firings_f, S, W = (
                np.asarray(a)[keep] for a in (times, X, Xf, firings, firings_f, S, W))
            W_extra = {name: w[keep] for name, w in W_extra.items()}
            if water is not None:
                water = tuple(np.asarray(a)[keep] for a in water)
        n = len(times)
        V = self.voltages(Xf)
        # 1/(N_A vol) per row and state index: the volumes of each row with water flow
        inv_nvol = m.inv_nvol[None, :] if water is None else np.concatenate(
            [np.repeat(1.0 / count_of(1.0, np.asarray(water[0], float)), m.ns, axis=1),
             np.zeros((n, m.nx - m.nion))], axis=1)
        cols = {"replicate": np.full(n, replicate, np.int64), "time_s": np.asarray(times, float)}
        self._state_columns(cols, X, Xf, V, inv_nvol)
        qout = self._transport_columns(cols, firings if self.integer else firings_f, firings_f,
                                       S, np.asarray(times, float))
        for mech in m.mechs:
            for k, i in enumerate(mech.states):
                cols[f"{mech.name}.{mech.state_label(k)}.count"] = self._count(X, Xf, i)
            if mech.blocked is not None:
                cols[f"{mech.name}.blocked.count"] = self._count(X, Xf, mech.blocked)
        for mech in m.mechs:  # columns a type adds of its own (a pool's O2 and dG_ATP)
            cols.update(mech.state_columns(m, Xf, firings_f, inv_nvol))
        if water is not None:
            vols, gained = water[:2]
            for ci, c in enumerate(m.comps):
                cols[f"{c}.volume_um3"] = np.asarray(vols[:, ci], float)
                if m.scenario.data["compartments"][c]["bath"]:
                    cols[f"{c}.water_gained_um3"] = np.asarray(gained[:, ci], float)
        self._thermo_columns(cols, Xf, V, S, W, W_extra, water)
        if n:
            self.last_q = {k: float(v[-1]) for k, v in qout.items()}
            self.last_t = float(times[-1])
        return pa.table(cols)

    def _count(self, X, Xf, i):
        return np.asarray(X[:, i] if self.integer else np.rint(Xf[:, i]), np.int64)

    def _work(self, firings_f, ledger_sum):
        """Cumulative work, row by row over every stop (coefficients are constant within a
        chunk): W (ATP, clamp, bath, event) and the extra work columns of what is outside
        G, summed from ledger_sum (k_B T units): an injection's jumps' dG (the
        stimulator's work), a chemical reservoir's."""
        d_firings = np.diff(np.vstack([self.last_firings[None, :], firings_f]), axis=0)
        d_ledger = np.diff(np.vstack([self.last_ledger_sum[None, :], ledger_sum]), axis=0)
        W = np.zeros((len(firings_f), 4))
        W[:, :3] = np.cumsum(self.ledger.work(d_firings, d_ledger), axis=0)
        W += self.W
        if len(firings_f):
            self.W = W[-1].copy()
            self.last_firings = firings_f[-1].copy()
            self.last_ledger_sum = np.asarray(ledger_sum[-1], float).copy()
        W_extra = {name: self.ledger.kT * np.asarray(ledger_sum, float)[:, tr].sum(axis=1)
                   for name, tr in self.ledger.work_tr.items()}
        return W, W_extra

    def _state_columns(self, cols, X, Xf, V, inv_nvol):
        """Counts and concentrations of every species in every compartment; V per
        membrane."""
        m = self.model
        for ci, c in enumerate(m.comps):
            for si, s in enumerate(m.species):
                cols[f"{c}.{s}.count"] = self._count(X, Xf, ci * m.ns + si)
        for ci, c in enumerate(m.comps):
            for si, s in enumerate(m.species):
                i = ci * m.ns + si
                cols[f"{c}.{s}.mM"] = Xf[:, i] * inv_nvol[:, i]
        for mi, name in enumerate(m.mems):
            cols[f"{name}.V_mV"] = V[:, mi] * 1e3

    def _transport_columns(self, cols, firings_out, firings_f, S, t):
        """Per mechanism: its firing columns, net effluxes, current and entropy
        production. Returns the charge each has moved out (e) per row."""
        m = self.model
        for mech in m.mechs:
            for k, v in mech.firing_columns(firings_out, self.integer).items():
                cols[f"{mech.name}.{k}"] = v
        qout = {}
        for mech, s, js, v in self.eff:
            net = firings_f[:, js] @ v
            z = m.charge[m.species.index(s)]
            qout[mech.name] = qout.get(mech.name, 0.0) + z * net
            cols[f"{mech.name}.{s}.net_efflux"] = np.rint(net).astype(np.int64) \
                if self.integer else net
        n = len(t)
        for mech in m.mechs:
            if not mech.CARRIES_CURRENT:
                continue
            q = qout.get(mech.name, np.zeros(n))
            # a mechanism that moves no ion across a membrane (a buffer) carries no charge
            last = self.last_q.get(mech.name, 0.0) if self.last_q is not None else np.nan
            prev_q = np.concatenate([[last], q[:-1]])
            prev_t = np.concatenate([[self.last_t if self.last_t is not None else np.nan],
                                     t[:-1]])
            with np.errstate(invalid="ignore", divide="ignore"):
                cols[f"{mech.name}.current_pA"] = (q - prev_q) / (t - prev_t) * E_CHARGE * 1e12
        for mech in m.mechs:
            res = set(mech.reservoir)  # one gating block per channel agent: a set
            own = [j for j in mech.transitions if j not in res]
            cols[f"{mech.name}.entropy_production_J_per_K"] = \
                K_B * S[:, own].sum(axis=1) + mech.jump_entropy()
            if mech.reservoir:  # outside the ion ledger (channels.py)
                cols[f"{mech.name}.gating_entropy_J_per_K"] = \
                    K_B * S[:, mech.reservoir].sum(axis=1)
        return qout

    def _thermo_columns(self, cols, Xf, V, S, W, W_extra, water):
        """The ledger: G, mixing entropy, entropy production, each work term and the
        balance's residual (docs/physics.md, "The free-energy and entropy ledger")."""
        m = self.model
        G, G_ion = self.ledger.free_energy(Xf, V, None if water is None else water[0])
        if self.G0 is None and len(G):
            self.G0 = G[0]
        s_prod = K_B * S[:, self.ledger.ion_tr].sum(axis=1) + \
            sum(mech.jump_entropy() for mech in m.mechs)
        cols["thermo.free_energy_J"] = G
        cols["thermo.mixing_entropy_J_per_K"] = -G_ion / m.T
        cols["thermo.entropy_production_J_per_K"] = s_prod
        for k, name in enumerate(WORK_COLUMNS):
            cols[name] = W[:, k]
        w_all = W.sum(axis=1)
        for name in EXTRA_WORK_COLUMNS:  # in a fixed order
            if name in W_extra:
                cols[name] = W_extra[name]
                w_all = w_all + W_extra[name]
        if water is not None:
            cols[WATER_COLUMN] = np.asarray(water[2], float)
            w_all = w_all + cols[WATER_COLUMN]
            # the flow's own dissipation, all osmolytes: reported beside the balance, not a
            # term of it (W_water also carries the references; volume.py)
            cols["thermo.water_entropy_production_J_per_K"] = np.asarray(water[3], float)
        cols["thermo.balance_residual_J"] = (G - self.G0) - (w_all - m.T * s_prod)
