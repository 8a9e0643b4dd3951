"""One replicate: the loop that runs a method in chunks, records, and applies events.

Order of things at a time t (written down once, as Starsim's loop.py does): the state at t
is recorded first, then the events at t are applied, then the method advances. So the row
at an event's time shows the state just before the event.
"""
import copy
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ionmc.mechanisms import agents
from ionmc.engine import volume
from ionmc.engine.dwell import LoggedSSA, Recorder
from ionmc.engine.methods import REGISTRY
from ionmc.model import Model
from ionmc.engine.ode import steady_state
from ionmc.engine import checks
from ionmc.runs.output import Columns

CHUNK = 4096  # record rows per kernel call and per Parquet row group


def record_times(duration, dt):
    n = int(np.floor(duration / dt + 1e-9))
    t = dt * np.arange(n + 1)
    if duration - t[-1] > 1e-9 * dt:
        t = np.append(t, duration)
    return t


def stop_grid(rec, ev_times):
    """The times a method stops at: the record times after 0 and the event times, with
    masks of which are records and which events. Built with one insertion, not a sort of
    the union: for a 10-minute run recorded every 1 ms the transient copies of
    union1d/isin were ~30 MB (benchmarks/bench_ensemble.py)."""
    stops = rec[1:]
    pos = np.searchsorted(stops, ev_times)
    on_rec = np.array([p < len(stops) and stops[p] == t for p, t in zip(pos, ev_times)],
                      bool)
    ins_pos, ins_t = pos[~on_rec], np.asarray(ev_times, float)[~on_rec]
    stops = np.insert(stops, ins_pos, ins_t)
    is_rec = np.ones(len(stops), bool)
    # inserted entries land at ins_pos + (number inserted before them)
    new_idx = ins_pos + np.arange(len(ins_pos))
    is_rec[new_idx] = False
    is_event = np.zeros(len(stops), bool)
    is_event[np.searchsorted(stops, ev_times)] = True
    return stops, is_rec, is_event


def initial_state(model, integer):
    """The start state: as given, or the ODE's fixed point (`start = "steady_state"`)."""
    if model.scenario.data["scenario"]["start"] != "steady_state":
        return model.x0.copy() if integer else model.x0.astype(float)
    xs = steady_state(model, model.x0.astype(float))
    if not integer:
        return xs
    x = np.rint(xs).astype(np.int64)
    for mech in model.mechs:
        if mech.states:  # keep each agent population's (pumps, channels) total exact
            st = mech.states
            blocked = 0 if mech.blocked is None else int(model.x0[mech.blocked])
            active = mech.n_agents - blocked
            tot = xs[st].sum()
            x[st] = agents.largest_remainder(active, xs[st] / tot if tot > 0 else
                                       np.full(len(st), 1.0 / len(st)))
            if mech.blocked is not None:
                x[mech.blocked] = blocked
            agents.assign(mech, x)
    return x


def simulate(scenario, replicate=0, seed_seq=None, path=None, progress=None, x_start=None,
             extra=None):
    """Run one replicate. Writes Parquet to `path` (row group per chunk) when given,
    otherwise returns a pandas DataFrame. Returns (DataFrame or None, info dict)."""
    data = copy.deepcopy(scenario.data)
    sc = data["scenario"]
    from ionmc.scenario.load import Scenario

    model = Model(Scenario(data, scenario.source))
    integer = REGISTRY[sc["method"]].integer
    if seed_seq is None:
        seed_seq = np.random.SeedSequence(sc["seed"]).spawn(replicate + 1)[replicate]
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    x0 = initial_state(model, integer) if x_start is None else x_start.copy()
    recorder = Recorder(model, x0, replicate)
    cols = Columns(model, integer, x0)
    method = _method(model, sc, seed_seq, x0, rng, recorder, cols)
    events = _Events(model, data["events"], sc["duration_s"], method, integer, rng, cols,
                     recorder)
    rec = record_times(sc["duration_s"], sc["record_interval_s"])
    stops, is_rec, is_event = stop_grid(rec, events.times())
    sink = _Sink(path, extra)
    water = lambda: getattr(method, "volume_rows", None)  # noqa: E731 (volumes move)
    zeros = np.zeros((1, model.nt))
    last = cols.table(replicate, rec[:1], np.asarray(method.x)[None, :].copy(),
                      zeros.astype(np.int64) if integer else zeros, zeros, zeros,
                      water=water())
    sink.emit(last)
    events.fire(0.0)
    i = 0
    try:
        while i < len(stops):
            j = min(i + CHUNK, len(stops))
            ev = np.nonzero(is_event[i:j])[0]
            if len(ev):
                j = i + ev[0] + 1
            X, firings, S, ledger_sum = method.advance(stops[i:j])
            table = cols.table(replicate, stops[i:j], X, firings, S, ledger_sum, is_rec[i:j],
                               water=water())
            if table.num_rows:
                sink.emit(table)
                last = table
            if is_event[j - 1]:
                events.fire(stops[j - 1])
            if progress is not None:
                progress(stops[j - 1])
            i = j
        sink.flush()
    finally:
        sink.close()
    info = {"events_fired": events.fired, "method_events": int(method.events),
            "final": _final(model, last)}
    t_end = float(stops[-1]) if len(stops) else 0.0
    _side_tables(model, method, replicate, recorder, t_end, sink, info)
    return sink.frame(), info


def _method(model, sc, seed_seq, x0, rng, recorder, cols):
    """The method object that advances this replicate: the scenario's method, its paired
    form for per-transition streams, the SSA that logs individual agents, each wrapped
    for water flow (volume.py: the volumes move with the method; the ledger follows)."""
    if sc["random_streams"] == "per_transition":
        from ionmc.engine.paired import PairedSSA, PairedTauLeap

        # one key per replicate, the same for every scenario with this seed: control and
        # treatment runs share each transition's Poisson process
        paired = PairedTauLeap if sc["method"] == "tau-leap" else PairedSSA
        method = paired(model, x0, rng, seed_seq.generate_state(1, np.uint64)[0])
    else:
        method = REGISTRY[sc["method"]](model, x0, rng)
    if recorder:  # individual agents with dwell times (ssa only: scenario validation)
        method = LoggedSSA(model, x0, rng, recorder)
    return volume.attach(method, model, cols.ledger)


class _Events:
    """The scenario's events and the mechanisms' own jumps (spike trains, drawn for the
    whole run), applied at their times."""

    def __init__(self, model, events, duration, method, integer, rng, cols, recorder):
        self.model, self.events, self.duration = model, events, duration
        self.method, self.integer = method, integer
        self.rng, self.cols, self.recorder = rng, cols, recorder
        self.spikes = {}
        for mech in model.mechs:
            for t in mech.jump_times(model, events, duration, rng):
                self.spikes.setdefault(float(t), []).append(mech)
        self.fired = []

    def times(self):
        """The times in (0, duration] at which something happens."""
        ts = sorted({e["at_s"] for e in self.events} | set(self.spikes))
        return [t for t in ts if 0 < t <= self.duration]

    def fire(self, t):
        """Apply the events at t; the jump of G each assignment causes is booked as work
        (clamp, bath or other, see ledger.py)."""
        x, cols = self.method.x, self.cols
        for e in self.events:
            if e["at_s"] == t:
                for k, v in e["set"].items():
                    g0 = cols.free_energy(x)
                    self.model.apply_set(k, v, x, self.rng, continuous=not self.integer)
                    cols.ledger.update(x)
                    kind = {"membranes": "clamp", "compartments": "bath"}.get(k.split(".")[0])
                    cols.event_work(kind, cols.free_energy(x) - g0)
                self.fired.append({"at_s": t, "set": e["set"]})
        for mech in self.spikes.get(t, ()):
            mech.jump(self.model, x, self.rng, self.integer, cols.free_energy)
        if self.recorder:
            self.recorder.sync(x, t)


class _Sink:
    """Where a replicate's tables go: a Parquet file (a row group per CHUNK rows) when
    `path` is given, else kept for one DataFrame. `extra`: constant columns (a sweep
    point's values) added to every table."""

    def __init__(self, path, extra):
        self.path, self.extra = path, extra or {}
        self.frames = []  # tables not yet written (all of them without a path)
        self.writer = None

    def with_extra(self, table):
        for name, value in self.extra.items():
            table = table.append_column(name, pa.array([value] * table.num_rows))
        return table

    def emit(self, table):
        checks.check_table(table)  # finite, non-negative, or a SimulationError: never written
        self.frames.append(self.with_extra(table))
        if self.path is not None and sum(f.num_rows for f in self.frames) >= CHUNK:
            self.flush()

    def flush(self):
        """Write the tables held so far as one row group: a short replicate (the first
        row, then one chunk) is one write, not two -- ~1 ms of a 20 s spine replicate's
        ~17 ms (benchmarks/peers.py, network c)."""
        if self.path is None or not self.frames:
            return
        table = pa.concat_tables(self.frames) if len(self.frames) > 1 else self.frames[0]
        self.frames.clear()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.writer.write_table(table)

    def close(self):
        if self.writer is not None:
            self.writer.close()

    def frame(self):
        return None if self.path is not None else pa.concat_tables(self.frames).to_pandas()


def _final(model, table):
    """The last recorded row's membrane potentials and, inside each membrane, the
    concentrations (mM) of the species its mechanisms move: what `ionmc run` reports at
    the end."""
    d = model.scenario.data
    moved = set()
    for mech in model.mechs:
        moved.update(getattr(mech, "efflux", {}))
    names = ["time_s"] + [f"{m}.V_mV" for m in model.mems]
    for m in model.mems:
        c = d["membranes"][m]["inside"]
        if not d["compartments"][c]["bath"]:
            names += [f"{c}.{s}.mM" for s in d["species"] if s in moved]
    row = table.slice(table.num_rows - 1)
    have = set(row.column_names)
    return {n: float(row.column(n)[0].as_py()) for n in dict.fromkeys(names) if n in have}


def _side_tables(model, method, replicate, recorder, t_end, sink, info):
    """The individual agents' tables (ssa only): into `info` without a path, else beside
    the timeseries part (agents.SIDE_DIRS), renamed with it (runner.py)."""
    individual = any(m.agent_slots is not None for m in model.mechs)
    dwell = recorder.close(t_end) if recorder else None  # first: it closes open dwells
    side = {"agents": _agent_table(model, method.firings, replicate, recorder, t_end)
            if individual else None, "dwell_times": dwell}
    for kind, table in side.items():
        if table is None:
            continue
        table = sink.with_extra(table)
        if sink.path is None:
            info[kind] = table.to_pandas()
        else:
            f = agents.side_file(Path(sink.path), kind)
            f.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, f)
            info.setdefault("side_files", []).append(kind)


def _agent_table(model, firings, replicate, recorder, t_end):
    """Per individual agent at the end of the run. A pump: firings of its reference step
    (the Na+ step) forward and backward and their difference, the net cycles it made. A
    channel: what a single-channel record gives first, its number of openings (entries
    into the conducting state), its total open time and the fraction of the run it was
    open (its open probability; mean open time = open time / openings). Pumps and channels
    in one scenario share the table, each with nulls in the other's columns."""
    rows = []
    for mech in model.mechs:
        if mech.agent_slots is None:
            continue  # counts per state: no agent to report
        if mech.open_state is not None:
            n, t_open = recorder.channel_record(mech)
            rows.append(pa.table({
                "replicate": np.full(len(n), replicate, np.int64),
                "mechanism": [mech.name] * len(n),
                "agent": np.arange(len(n), dtype=np.int64),
                "openings": np.asarray(n, np.int64), "open_time_s": np.asarray(t_open),
                "open_fraction": np.asarray(t_open) / t_end if t_end > 0 else
                np.full(len(n), np.nan)}))
            continue
        fw, bw = agents.turnover(mech, firings)
        rows.append(pa.table({
            "replicate": np.full(len(fw), replicate, np.int64),
            "mechanism": [mech.name] * len(fw),
            "agent": np.arange(len(fw), dtype=np.int64),
            "forward": np.asarray(fw, np.int64), "backward": np.asarray(bw, np.int64),
            "turnover": np.asarray(fw - bw, np.int64)}))
    return pa.concat_tables(rows, promote_options="default")
