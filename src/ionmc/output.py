"""Output columns (DESIGN.md section 4) built from recorded states, as Arrow tables.

One row per recorded time. Counts and cumulative transition counts come straight from the
kernels; concentrations, potentials, net effluxes and currents are derived here, in
vectorised numpy, once per chunk.
"""
import numpy as np
import pyarrow as pa

from .constants import E_CHARGE


class Columns:
    def __init__(self, model, integer):
        self.model = model
        self.integer = integer
        m = model
        self.eff = []  # (mechanism, species, vector over transitions)
        for mech in m.mechs:
            for s, moves in mech.efflux.items():
                v = np.zeros(m.nt)
                for j, n in moves.items():
                    v[j] = n
                self.eff.append((mech, s, v))
        self.last_q = None
        self.last_t = None

    def table(self, replicate, times, X, F):
        m = self.model
        n = len(times)
        cols = {"replicate": np.full(n, replicate, np.int64), "time_s": np.asarray(times, float)}
        Xf = np.asarray(X, float)
        for ci, c in enumerate(m.comps):
            for si, s in enumerate(m.species):
                i = ci * m.ns + si
                cnt = X[:, i] if self.integer else np.rint(Xf[:, i])
                cols[f"{c}.{s}.count"] = np.asarray(cnt, np.int64)
        for ci, c in enumerate(m.comps):
            for si, s in enumerate(m.species):
                i = ci * m.ns + si
                cols[f"{c}.{s}.mM"] = Xf[:, i] * m.inv_nvol[i]
        for mi, name in enumerate(m.mems):
            if m.mem_clamped[mi]:
                v = np.full(n, m.mem_vclamp[mi])
            else:
                s0 = m.mem_start[mi]
                v = E_CHARGE * (Xf[:, s0:s0 + m.ns] @ m.charge) / m.mem_C[mi]
            cols[f"{name}.V_mV"] = v * 1e3
        Fi = F if self.integer else np.asarray(F, float)
        Ff = np.asarray(F, float)
        qout = {}
        for mech in m.mechs:
            f, b = mech.ref
            cols[f"{mech.name}.forward"] = Fi[:, f]
            cols[f"{mech.name}.backward"] = Fi[:, b]
        for mech, s, v in self.eff:
            net = Ff @ v
            z = m.charge[m.species.index(s)]
            qout[mech.name] = qout.get(mech.name, 0.0) + z * net
            cols[f"{mech.name}.{s}.net_efflux"] = np.rint(net).astype(np.int64) \
                if self.integer else net
        t = np.asarray(times, float)
        cur = {}
        for mech in m.mechs:
            q = qout.get(mech.name, np.zeros(n))
            prev_q = np.concatenate([[self.last_q[mech.name] if self.last_q else np.nan], q[:-1]])
            prev_t = np.concatenate([[self.last_t if self.last_t is not None else np.nan],
                                     t[:-1]])
            with np.errstate(invalid="ignore", divide="ignore"):
                cur[mech.name] = (q - prev_q) / (t - prev_t) * E_CHARGE * 1e12
            cols[f"{mech.name}.current_pA"] = cur[mech.name]
        for mech in m.mechs:
            for k, i in enumerate(mech.states):
                cols[f"{mech.name}.P{k + 1}.count"] = np.asarray(
                    X[:, i] if self.integer else np.rint(Xf[:, i]), np.int64)
            if mech.blocked is not None:
                cols[f"{mech.name}.blocked.count"] = np.asarray(
                    X[:, mech.blocked] if self.integer else np.rint(Xf[:, mech.blocked]),
                    np.int64)
        if n:
            self.last_q = {k: float(v[-1]) for k, v in qout.items()}
            self.last_t = float(t[-1])
        return pa.table(cols)
