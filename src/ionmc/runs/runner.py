"""Runs: replicates of a scenario written to OUTDIR, seeded, resumable (DESIGN.md section 4).

Replicate k is seeded by the k-th child of one root `numpy.random.SeedSequence`, so the
numbers do not depend on how replicates are spread over workers, and any one replicate can
be re-run alone. Each replicate's Parquet is written to a temporary name and renamed when
complete: a part file exists only if it is whole, so an interrupted run loses nothing that
finished, and running again completes only what is missing.

Where the replicates run is a `concurrent.futures.Executor`: a ProcessPoolExecutor here, or
one over a Dask cluster (cluster.DaskExecutor, or a `Client.get_executor()`). Workers write their part files into
OUTDIR themselves; this process only submits, collects each replicate's info and keeps the
manifest, the same way whatever the executor.
"""
import json
import os
import platform
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from pathlib import Path

import numpy as np

from ionmc.mechanisms import agents
from ionmc.errors import InputError
from ionmc.model.compiled import Model
from ionmc.runs.replicate import initial_state, simulate
from ionmc.engine.methods import REGISTRY


def _versions():
    from importlib.metadata import version  # not `import pandas`: ~1 s of a CLI start

    from ionmc import __version__

    return {"ionmc": __version__, "python": platform.python_version(),
            "numpy": np.__version__, **{p: version(p) for p in ("numba", "pandas", "pyarrow")}}


def part_name(k):
    return f"part-{k:05d}.parquet"


def _write_json(path, obj):
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float) + "\n")
    os.replace(tmp, path)


def _run_one(scenario, k, seed_seq, final, x_start, progress=None, key=None, extra=None):
    """One replicate into the part file `final` (in whatever process or host runs it);
    returns (key, info). `extra`: constant columns (a sweep point's values)."""
    t0 = time.perf_counter()
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per attempt: a task that a cluster re-runs elsewhere while the first
    # attempt is still writing must not share its temporary file
    tmp = final.with_name(f"{final.name}.{socket.gethostname()}-{os.getpid()}.tmp")
    _, info = simulate(scenario, k, seed_seq, path=tmp, x_start=x_start, progress=progress,
                       extra=extra)
    # individual agents' tables first: a timeseries part that exists has its side files
    for kind in info.pop("side_files", ()):
        os.replace(agents.side_file(tmp, kind), agents.side_file(final, kind))
    os.replace(tmp, final)
    info["wall_time_s"] = time.perf_counter() - t0
    info["host"] = socket.gethostname()
    return (str(k) if key is None else key), info


def task_file(p, k, sweep):
    """A task's part file, relative to OUTDIR/timeseries (DESIGN.md section 4)."""
    return f"point={p:04d}/{part_name(k)}" if sweep else part_name(k)


def _scan(manifest, ts_dir):
    """Mark the tasks whose part file exists as done; update `missing`, `complete`."""
    reps = manifest["replicates"]
    for key, entry in reps.items():  # a part file exists only when whole (written, renamed)
        if entry["status"] != "done" and (ts_dir.parent / entry["file"]).is_file():
            reps[key] = {"status": "done", "file": entry["file"]}
    missing = [k for k, e in reps.items() if e["status"] != "done"]
    # replicate numbers without a sweep (as before); "point/replicate" keys with one
    manifest["missing"] = [int(k) for k in missing] if "sweep" not in manifest else missing
    manifest["complete"] = not missing


def rescan(outdir):
    """Bring OUTDIR's manifest up to date with the part files there: after an interrupted
    run on a cluster whose running tasks finished after the runner had written it."""
    man = Path(outdir) / "manifest.json"
    try:
        manifest = json.loads(man.read_text())
    except (OSError, json.JSONDecodeError):
        return
    _scan(manifest, Path(outdir) / "timeseries")
    _write_json(man, manifest)


def prepare_outdir(scenario, outdir):
    """Check OUTDIR; return the manifest of an earlier compatible run, or None."""
    outdir = Path(outdir)
    man = outdir / "manifest.json"
    if man.is_file():
        try:
            old = json.loads(man.read_text())
        except json.JSONDecodeError:
            raise InputError(man, None, "unreadable manifest") from None
        from ionmc import __version__

        sc = scenario.data["scenario"]
        for key, new in (("scenario_hash", scenario.hash()), ("seed", sc["seed"]),
                         ("method", sc["method"]), ("ionmc_version", __version__)):
            if old.get(key) != new:
                raise InputError(man, key, f"OUTDIR holds a run with {key} {old.get(key)!r}, "
                                 f"this run has {new!r}: use another OUTDIR")
        return old
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise InputError(outdir, None, "exists and is not an ionmc output directory")
    return None


def run(scenario, outdir, workers=None, progress=True, executor=None, executor_label=None):
    """Run all replicates of a validated Scenario into OUTDIR; return OUTDIR as a Path.

    `workers`: local processes (default: one per core, at most one per replicate; with 1,
    replicates run in this process). `executor`: a `concurrent.futures.Executor` to run them
    on instead, e.g. from `ionmc.cluster.dask_executor` or a Dask `Client.get_executor()`; the
    caller owns it, and its workers must see OUTDIR at the same path. `executor_label` is
    what the manifest records as the executor.
    Raises InputError for an incompatible OUTDIR before anything is written.
    """
    from ionmc import __version__

    outdir = Path(outdir)
    sc = scenario.data["scenario"]
    old = prepare_outdir(scenario, outdir)
    # a sweep: one scenario per point, each an ensemble; replicate k has the same seed at
    # every point (common random numbers across the sweep)
    sweep = bool(scenario.sweep)
    points = scenario.points()
    point_sc = [scenario.at_point(pt) if sweep else scenario for pt in points]
    # the initial states (catching their errors before anything is written)
    x_starts = [initial_state(Model(s), REGISTRY[sc["method"]].integer) for s in point_sc]
    R = sc["replicates"]
    root = np.random.SeedSequence(sc["seed"])
    children = root.spawn(R)
    ts_dir = outdir / "timeseries"
    ts_dir.mkdir(parents=True, exist_ok=True)
    for stale in [f for d in ("timeseries",) + agents.SIDE_DIRS
                  for f in (outdir / d).rglob("*.tmp")]:
        stale.unlink()
    (outdir / "scenario.toml").write_text(scenario.to_toml())
    reps = dict(old.get("replicates", {})) if old else {}
    tasks = {}  # key -> (point, replicate, file relative to timeseries/)
    for p in range(len(points)):
        for k in range(R):
            tasks[f"{p}/{k}" if sweep else str(k)] = (p, k, task_file(p, k, sweep))
    # a part file exists only when whole (written, then renamed), and its numbers depend on
    # nothing but the scenario, seed and k, which the manifest check above pinned: it is
    # done, whatever the manifest had time to say (a worker may finish after an interrupt)
    pending = [key for key, (_, _, f) in tasks.items() if not (ts_dir / f).is_file()]
    if executor is None:
        workers = workers or min(len(pending), os.cpu_count() or 1) or 1
        serial = workers == 1 or len(pending) <= 1
        label = "local process" if serial else f"local processes ({workers})"
    else:
        serial = False
        label = executor_label or type(executor).__name__
    manifest = {
        "ionmc_version": __version__,
        "versions": _versions(),
        "platform": platform.platform(),
        "scenario_name": scenario.name,
        "scenario_source": scenario.source,
        "scenario_hash": scenario.hash(),
        "method": sc["method"],
        "seed": sc["seed"],
        "replicate_seeds": [{"entropy": c.entropy, "spawn_key": list(c.spawn_key)}
                            for c in children],
        "duration_s": sc["duration_s"],
        "events": scenario.data["events"],
        "events_dropped": scenario.dropped_events,
        "warnings": scenario.warnings,
        "executor": label,
        "wall_time_s": (old or {}).get("wall_time_s", 0.0),
        "replicates": reps,
    }
    if sweep:
        manifest["sweep"] = {"mode": scenario.sweep["mode"],
                             "points": [{f"sweep.{k}": v for k, v in pt} for pt in points]}
    for key, (_, _, f) in tasks.items():
        if key in pending or key not in reps:
            reps[key] = {"status": "missing", "file": f"timeseries/{f}"}

    def finish():
        _scan(manifest, ts_dir)
        _write_json(outdir / "manifest.json", manifest)

    finish()
    t0 = time.perf_counter()
    last_write = [t0]
    show = progress and sys.stderr.isatty()
    bar = None
    # a bar over biological time for one replicate, over replicates for an ensemble
    by_time = serial and len(pending) == 1
    if show:
        from tqdm import tqdm

        if by_time:
            bar = tqdm(total=sc["duration_s"], unit="s", desc=scenario.name,
                       bar_format="{l_bar}{bar}| {n:.3g}/{total:.3g} s [{elapsed}<{remaining}]")
        else:
            bar = tqdm(total=len(pending), unit="replicate", desc=scenario.name)

    def tick(t):
        if bar is not None:
            bar.update(t - bar.n)

    def done(key, info):
        reps[key] = {"status": "done", "file": f"timeseries/{tasks[key][2]}",
                        "wall_time_s": info["wall_time_s"],
                        "events": info["method_events"],
                        "events_fired": info["events_fired"],
                        "executor": label, "host": info["host"]}
        manifest["events_fired"] = info["events_fired"]
        if serial:
            manifest["wall_time_s"] += info["wall_time_s"]
        # rewrite the manifest at most once a second: for many short replicates the rewrite
        # was ~40% of the run's overhead (benchmarks/peers.py, network c). A part file is
        # the record that a replicate is done; the manifest catches up from the files
        # (here at the end, or at the next run after a kill).
        now = time.perf_counter()
        if now - last_write[0] >= 1.0:
            finish()
            last_write[0] = now
        if bar is not None and not by_time:
            bar.update(1)

    try:
        def args(key, where):
            p, k, f = tasks[key]
            extra = {f"sweep.{name}": v for name, v in points[p]} if sweep else None
            return (point_sc[p], k, children[k], where / f, x_starts[p]), \
                {"key": key, "extra": extra}

        if serial:
            for key in pending:
                a, kw = args(key, ts_dir)
                done(*_run_one(*a, progress=tick if by_time else None, **kw))
        elif pending:
            own = executor is None
            pool = ProcessPoolExecutor(max_workers=workers) if own else executor
            # workers may run elsewhere (another cwd, another host): send absolute paths
            where = ts_dir.absolute()
            futs = []
            try:
                futs = [pool.submit(_run_one, *a, **kw)
                        for a, kw in (args(key, where) for key in pending)]
                for f in as_completed(futs):
                    done(*f.result())
            except BaseException:
                # drop the queue; replicates already running finish and are kept (a Dask
                # cluster's running tasks are not waited for: their parts are picked up by
                # the manifest when they are there, or by the next run)
                for f in futs:
                    f.cancel()
                if own:
                    wait(futs)
                raise
            finally:
                if own:
                    pool.shutdown()
            manifest["wall_time_s"] += time.perf_counter() - t0
    finally:
        if bar is not None:
            bar.close()
        finish()
    return outdir
