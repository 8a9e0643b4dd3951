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
    method_cls = REGISTRY[sc["method"]]
    if seed_seq is None:
        seed_seq = np.random.SeedSequence(sc["seed"]).spawn(replicate + 1)[replicate]
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    x0 = initial_state(model, method_cls.integer) if x_start is None else x_start.copy()
    if sc["random_streams"] == "per_transition":
        from ionmc.engine.paired import PairedSSA, PairedTauLeap

        # one key per replicate, the same for every scenario with this seed: control and
        # treatment runs share each transition's Poisson process
        paired = PairedTauLeap if sc["method"] == "tau-leap" else PairedSSA
        method = paired(model, x0, rng, seed_seq.generate_state(1, np.uint64)[0])
    else:
        method = method_cls(model, x0, rng)
    recorder = Recorder(model, x0, replicate)
    if recorder:  # individual agents with dwell times (ssa only: scenario.py)
        method = LoggedSSA(model, x0, rng, recorder)
    cols = Columns(model, method_cls.integer, x0)
    # water flow (volume.py): the volumes move with the method; the ledger follows them
    method = volume.attach(method, model, cols.ledger)

    rec = record_times(sc["duration_s"], sc["record_interval_s"])
    # mechanisms' own jumps (spike trains): drawn for the whole run, applied as events
    spikes = {}
    for mech in model.mechs:
        for t in mech.jump_times(model, data["events"], sc["duration_s"], rng):
            spikes.setdefault(float(t), []).append(mech)
    ev_times = sorted({e["at_s"] for e in data["events"]} | set(spikes))
    stops, is_rec, is_event = stop_grid(rec, [t for t in ev_times if 0 < t <= sc["duration_s"]])
    fired = []
    writer = None
    frames = []  # tables not yet written (all of them without a path)

    def emit(table):
        for name, value in (extra or {}).items():  # a sweep point's values, per row
            table = table.append_column(name, pa.array([value] * table.num_rows))
        frames.append(table)
        if path is not None and sum(f.num_rows for f in frames) >= CHUNK:
            flush()

    def flush():
        """Write the tables held so far as one row group: a short replicate (the first
        row, then one chunk) is one write, not two -- ~1 ms of a 20 s spine replicate's
        ~17 ms (benchmarks/peers.py, network c)."""
        nonlocal writer
        if not frames:
            return
        table = pa.concat_tables(frames) if len(frames) > 1 else frames[0]
        frames.clear()
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)

    def fire(t):
        """Apply the events at t; the jump of G each assignment causes is booked as work
        (clamp, bath or other, see ledger.py)."""
        for e in data["events"]:
            if e["at_s"] == t:
                for k, v in e["set"].items():
                    g0 = cols.free_energy(method.x)
                    model.apply_set(k, v, method.x, rng, continuous=not method_cls.integer)
                    cols.ledger.update(method.x)
                    kind = {"membranes": "clamp", "compartments": "bath"}.get(k.split(".")[0])
                    cols.event_work(kind, cols.free_energy(method.x) - g0)
                fired.append({"at_s": t, "set": e["set"]})
        for mech in spikes.get(t, ()):
            mech.jump(model, method.x, rng, method_cls.integer, cols.free_energy)
        if recorder:
            recorder.sync(method.x, t)

    X0 = np.asarray(method.x)[None, :].copy()
    zeros = np.zeros((1, model.nt))
    emit(cols.table(replicate, rec[:1], X0, zeros.astype(np.int64) if method_cls.integer
                    else zeros, zeros, zeros, water=getattr(method, "volume_rows", None)))
    fire(0.0)
    i = 0
    try:
        while i < len(stops):
            j = min(i + CHUNK, len(stops))
            ev = np.nonzero(is_event[i:j])[0]
            if len(ev):
                j = i + ev[0] + 1
            X, Fc, S, ledger_sum = method.advance(stops[i:j])
            keep = is_rec[i:j]
            table = cols.table(replicate, stops[i:j], X, Fc, S, ledger_sum, keep,
                               water=getattr(method, "volume_rows", None))
            if table.num_rows:
                emit(table)
            if is_event[j - 1]:
                fire(stops[j - 1])
            if progress is not None:
                progress(stops[j - 1])
            i = j
        if path is not None:
            flush()
    finally:
        if writer is not None:
            writer.close()
    info = {"events_fired": fired, "method_events": int(method.events)}
    individual = any(m.agent_slots is not None for m in model.mechs)  # ssa only
    t_end = float(stops[-1]) if len(stops) else 0.0
    dwell = recorder.close(t_end) if recorder else None  # first: it closes open dwells
    side = {"agents": _agent_table(model, method.firings, replicate, recorder, t_end)
            if individual else None, "dwell_times": dwell}
    for kind, table in side.items():
        if table is None:
            continue
        for name, value in (extra or {}).items():
            table = table.append_column(name, pa.array([value] * table.num_rows))
        if path is None:
            info[kind] = table.to_pandas()
        else:  # beside the timeseries part (agents.SIDE_DIRS), renamed with it (runner.py)
            f = agents.side_file(Path(path), kind)
            f.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, f)
            info.setdefault("side_files", []).append(kind)
    if path is None:
        return pa.concat_tables(frames).to_pandas(), info
    return None, info


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
