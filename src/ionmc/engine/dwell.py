"""Dwell times of individual agents (`record_dwell_times = true`, agents.py).

The SSA logs the time and index of every firing of a flagged transition into a buffer
(`ssa.ssa_advance`'s `log`); when the buffer is full the kernel returns, Python turns the
buffer into dwell rows and the run goes on from that event's time (exact: the process is
memoryless). Runs that record no dwell times (and have no individual channels, whose
openings and open time come from the same log) call the SSA without the buffer, and Numba
compiles that call without the logging branch.

Rows, one per dwell of one agent in one state: `replicate`, `mechanism`, `agent`, `state`
(the mechanism's state names: "P1"... for a pump, "m0h0"... for a channel; "blocked" while
ouabain holds a pump), `entered_s`, `left_s`. A dwell that started before the run (the
initial state) has entered_s = NaN, one still going at the end has left_s = NaN:
censored, not invented.
"""
import numpy as np
import pyarrow as pa

from ionmc.mechanisms import agents
from ionmc.engine import checks, lattice
from ionmc.engine.kernels import all_propensities, record, voltages
from ionmc.numba_conf import njit
from ionmc.engine.ssa import SSA, ssa_advance

BUFFER = 1 << 16  # firings per hand-back to Python


@njit
def logged_run(x, firings, S, ledger_sum, t, stop_times, r0, out_x, out_firings, out_S,
               out_ledger_sum, rs, M, log):
    """`ssa.ssa_run` from row r0 with the firing log; returns (t, events, next row): at a
    full buffer it returns mid-interval, and is called again from that row."""
    a = np.zeros(firings.shape[0])
    V = np.zeros(M.mem_C.shape[0])
    voltages(x, V, M)
    a0 = all_propensities(x, V, a, M)
    total = 0
    for r in range(r0, stop_times.shape[0]):
        t, a0, fired = ssa_advance(x, firings, S, ledger_sum, t, stop_times[r], a, V, a0, rs, M,
                                   1 << 62,
                                   log)
        total += fired
        if log[3][0] == log[1].shape[0]:  # full: returned at an event before stop_times[r]
            return t, total, r
        a0 = all_propensities(x, V, a, M)
        record(r, x, firings, S, ledger_sum, out_x, out_firings, out_S, out_ledger_sum)
    return t, total, stop_times.shape[0]


@njit
def _dwells(times, trans, n, agent_of, to_of, cur, entered, o_agent, o_state, o_in, o_out,
            open_of, t0, open_time, openings):
    """Close the dwell each logged firing ends and open the next one; a channel's dwell in
    its open state adds to its open time (from t0 if it began before the run), an entry into
    it counts an opening. Returns rows written."""
    for e in range(n):
        j = trans[e]
        k = agent_of[j]
        o_agent[e] = k
        o_state[e] = cur[k]
        o_in[e] = entered[k]
        o_out[e] = times[e]
        if cur[k] == open_of[k]:
            open_time[k] += times[e] - (entered[k] if entered[k] == entered[k] else t0)
        cur[k] = to_of[j]
        if cur[k] == open_of[k]:
            openings[k] += 1
        entered[k] = times[e]
    return n


class Recorder:
    """Dwell rows of every individual agent of the mechanisms that record them, and each
    individual channel's openings and open time (recorded whether or not its dwell rows are:
    a single-channel record's first numbers). A channel that writes no dwell rows logs only
    its jumps into and out of the open state."""

    def __init__(self, model, x0, replicate, t0=0.0):
        self.replicate = replicate
        self.t0 = float(t0)
        self.mechs = [m for m in model.mechs if m.agent_slots is not None and
                      (m.spec.get("record_dwell_times") or m.open_state is not None)]
        self.flag = np.zeros(model.nt, np.int64)
        self.agent_of = np.full(model.nt, -1, np.int64)
        self.to_of = np.full(model.nt, -1, np.int64)
        self.mech_of, self.local, self.names, open_of = [], [], [], []
        self.emits = np.array([bool(m.spec.get("record_dwell_times")) for m in self.mechs])
        base = 0
        for mi, mech in enumerate(self.mechs):
            o = -9 if mech.open_state is None else mech.open_state  # -9: no such state
            for j, k, s_from, s_to in mech.agent_moves:
                if self.emits[mi] or o in (s_from, s_to):
                    self.flag[j] = 1
                self.agent_of[j] = base + k
                self.to_of[j] = s_to
            self.mech_of += [mi] * mech.n_agents
            self.local += list(range(mech.n_agents))
            open_of += [o] * mech.n_agents
            base += mech.n_agents
        self.mech_of = np.array(self.mech_of, np.int64)
        self.local = np.array(self.local, np.int64)
        self.open_of = np.array(open_of, np.int64)
        self.open_time = np.zeros(base)
        self.openings = np.zeros(base, np.int64)
        self.cur = self._states(x0)
        self.entered = np.full(base, np.nan)
        self.log = (self.flag, np.empty(BUFFER), np.empty(BUFFER, np.int64),
                    np.zeros(1, np.int64))
        self.tables = []

    def __bool__(self):
        return bool(self.mechs)

    def _states(self, x):
        st = [agents.states_of(m, x) for m in self.mechs]
        return np.concatenate(st) if st else np.zeros(0, np.int64)

    def _emit(self, agent, state, t_in, t_out):
        keep = self.emits[self.mech_of[agent]]
        agent, state, t_in, t_out = agent[keep], state[keep], t_in[keep], t_out[keep]
        if not len(agent):
            return
        names = [np.array([m.state_label(i) for i in range(len(m.states))] + ["blocked"])
                 for m in self.mechs]
        mo = self.mech_of[agent]
        self.tables.append(pa.table({
            "replicate": np.full(len(agent), self.replicate, np.int64),
            "mechanism": np.array([self.mechs[i].name for i in range(len(self.mechs))])[mo],
            "agent": self.local[agent],
            # state -1 (blocked) picks the last name, "blocked"
            "state": np.array([names[m][s] for m, s in zip(mo, state)], dtype=object),
            "entered_s": t_in, "left_s": t_out}))

    def drain(self):
        """Turn the buffer's firings into dwell rows and empty it."""
        n = int(self.log[3][0])
        if n == 0:
            return
        out = (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n), np.empty(n))
        _dwells(self.log[1], self.log[2], n, self.agent_of, self.to_of, self.cur,
                self.entered, *out, self.open_of, self.t0, self.open_time, self.openings)
        self.log[3][0] = 0
        self._emit(*out)

    def sync(self, x, t):
        """After an event at t (ouabain binding moves agents without a transition)."""
        self.drain()
        new = self._states(x)
        moved = np.nonzero(new != self.cur)[0]
        self._open_until(moved, t)
        self.openings[moved] += new[moved] == self.open_of[moved]
        self._emit(moved, self.cur[moved], self.entered[moved], np.full(len(moved), t))
        self.cur[moved] = new[moved]
        self.entered[moved] = t

    def _open_until(self, k, t):
        """Add the open time up to t of those of agents k that are open."""
        k = k[self.cur[k] == self.open_of[k]]
        since = self.entered[k]
        self.open_time[k] += t - np.where(np.isnan(since), self.t0, since)

    def close(self, t_end):
        """The dwells still open at the end t_end (left_s = NaN); all rows as one table
        (None when no mechanism writes dwell rows)."""
        self.drain()
        k = np.arange(len(self.cur))
        self._open_until(k, t_end)
        self._emit(k, self.cur, self.entered, np.full(len(k), np.nan))
        return pa.concat_tables(self.tables) if self.tables else None

    def channel_record(self, mech):
        """(openings, open time in s) of each channel of an individual channel mechanism
        (after close)."""
        mi = self.mechs.index(mech)
        k = np.nonzero(self.mech_of == mi)[0]
        return self.openings[k], self.open_time[k]


class LoggedSSA(SSA):
    """The `ssa` method with the firing log of a Recorder."""

    def __init__(self, model, x, rng, recorder):
        super().__init__(model, x, rng)
        self.recorder = recorder

    def advance(self, stop_times):
        stop_times = np.asarray(stop_times, float)
        lattice.clear(self.M)  # parameters may have changed (events)
        out = self._outputs(len(stop_times))
        r = 0
        while r < len(stop_times):
            self.t, fired, r = logged_run(self.x, self.firings, self.S, self.ledger_sum, self.t,
                                          stop_times,
                                          r, *out, self.rs, self.M, self.recorder.log)
            self.events += fired
            self.recorder.drain()
            checks.raise_on_failure(self.model, self.M, self.x)
        return out
