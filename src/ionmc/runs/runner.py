"""Runs: replicates of a scenario written to OUTDIR, seeded, resumable (the layout of
OUTDIR: docs/guide.md, "Output").

Replicate k is seeded by the k-th child of one root `numpy.random.SeedSequence`, so the
numbers do not depend on how replicates are spread over workers, and any one replicate can
be re-run alone. Each replicate's Parquet is written to a temporary name and renamed when
complete: a part file exists only if it is whole, so an interrupted run loses nothing that
finished, and running again completes only what is missing.

Where the replicates run is a `concurrent.futures.Executor`: a ProcessPoolExecutor here, or
one over a Dask cluster (cluster.DaskExecutor, or a `Client.get_executor()`). Workers write
their part files into OUTDIR themselves; this process only submits, collects each replicate's info and keeps the
manifest, the same way whatever the executor.
"""
import contextlib
import json
import os
import platform
import shutil
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from pathlib import Path

import numpy as np

from ionmc.mechanisms import agents
from ionmc.errors import InputError, WarningTally
from ionmc.model.compiled import Model
from ionmc.runs import progress as prog
from ionmc.runs.replicate import initial_state, simulate
from ionmc.engine import checks
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


@contextlib.contextmanager
def compile_timer():
    """Seconds this process spends compiling Numba kernels inside the block (Numba's own
    "numba:compile" events, outermost only: a kernel compiled while compiling its caller
    counts once; loading a cached kernel is not compiling): yields a one-item list, filled
    counts once; loading a cached kernel is not compiling): yields a function that returns
    the seconds so far. A first run's wall time is mostly this; a warm run's none."""
    from numba.core import event

    tl = event.TimingListener()
    with event.install_listener("numba:compile", tl):
        yield lambda: tl.duration if tl.done else 0.0


def _run_one(scenario, k, seed_seq, final, x_start, progress=None, key=None, extra=None):
    """One replicate into the part file `final` (in whatever process or host runs it);
    returns (key, info). `extra`: constant columns (a sweep point's values). info's
    "compile_s": the part of its wall time spent compiling kernels."""
    t0 = time.perf_counter()
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own per attempt: a task that a cluster re-runs elsewhere while the first
    # attempt is still writing must not share its temporary file; a leading dot, so that
    # readers of the directory (pyarrow, `pandas.read_parquet(OUTDIR/"timeseries")`) skip it
    tmp = final.with_name(f".{final.name}.{socket.gethostname()}-{os.getpid()}.tmp")
    with WarningTally() as tally, compile_timer() as compiling:  # numpy/scipy warnings:
        _, info = simulate(scenario, k, seed_seq, path=tmp, x_start=x_start,  # counted,
                           progress=progress, extra=extra)  # not printed per line
    info["warnings"] = tally.counts
    # individual agents' tables first: a timeseries part that exists has its side files
    for kind in info.pop("side_files", ()):
        os.replace(agents.side_file(tmp, kind), agents.side_file(final, kind))
    os.replace(tmp, final)
    info["wall_time_s"] = time.perf_counter() - t0
    info["compile_s"] = compiling()
    info["host"] = socket.gethostname()
    return (str(k) if key is None else key), info


def task_file(p, k, sweep):
    """A task's part file, relative to OUTDIR/timeseries: part-NNNNN.parquet, under
    point=NNNN/ in a sweep (one `pandas.read_parquet(OUTDIR/"timeseries")` reads all)."""
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


#: the lock file of a running run (`outdir_lock`)
LOCK_NAME = ".ionmc.lock"
#: what a run may leave in OUTDIR before its manifest exists: the lock, a manifest being
#: written (a run killed then resumes as if OUTDIR were empty)
_OWN_BEFORE_MANIFEST = (LOCK_NAME, "manifest.json.tmp")


def prepare_outdir(scenario, outdir):
    """Check OUTDIR; return the manifest of an earlier compatible run, or None."""
    outdir = Path(outdir)
    man = outdir / "manifest.json"
    if man.is_file():
        try:
            old = json.loads(man.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InputError(man, None, "unreadable manifest") from None
        if not isinstance(old, dict) or not isinstance(old.get("replicates"), dict):
            raise InputError(man, None, "not an ionmc manifest")
        from ionmc import __version__

        sc = scenario.data["scenario"]
        for key, new in (("ionmc_version", __version__), ("scenario_hash", scenario.hash()),
                         ("seed", sc["seed"]), ("method", sc["method"])):
            if old.get(key) != new:
                raise InputError(man, None, _conflict(outdir, old, key, new, scenario))
        return old
    if outdir.exists() and (not outdir.is_dir() or any(
            f.name not in _OWN_BEFORE_MANIFEST for f in outdir.iterdir())):
        raise InputError(outdir, None, "exists and is not an ionmc output directory")
    return None


def _flat(d, pre=""):
    """{dotted key: value} of a scenario dict; mechanisms by name, as `--set` addresses
    them."""
    out = {}
    for k, v in d.items():
        key = f"{pre}{k}"
        if k == "mechanisms" and not pre and isinstance(v, list):
            v = {m.get("name", str(i)): m for i, m in enumerate(v) if isinstance(m, dict)}
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _conflict(outdir, old, key, new, scenario):
    """Why OUTDIR's earlier run is not this one: the scenario there and the keys that
    differ (from its scenario.toml, the resolved scenario it ran), not two hashes."""
    import tomllib

    there = f"OUTDIR holds a run of {old.get('scenario_name', '?')!r}"
    if old.get("scenario_source"):
        there += f" (from {old['scenario_source']})"
    if key != "scenario_hash":
        return (f"{there} with {key} {old.get(key)!r}; this run has {new!r}: use another "
                "OUTDIR")
    try:
        a = _flat(tomllib.loads((Path(outdir) / "scenario.toml").read_text()))
    except (OSError, ValueError):
        return (f"{there}, a different scenario (its scenario.toml is unreadable): use "
                "another OUTDIR")
    # this run's scenario as written to scenario.toml and read back: the same types
    b = _flat(tomllib.loads(scenario.to_toml()))
    diff = [k for k in sorted(set(a) | set(b))
            if k != "scenario.replicates" and a.get(k) != b.get(k)]
    if a.get("scenario.name") != b.get("scenario.name"):
        there += f", not {b.get('scenario.name')!r}"
    # a name or description alone changes no number: listed only when nothing else differs
    keys = [k for k in diff if k not in ("scenario.name", "scenario.description")] or diff
    if not keys:  # differ only where TOML cannot say (the hash saw it)
        return f"{there}, a different scenario: use another OUTDIR"
    shown = "; ".join(f"{k} {_v(a.get(k))} there, {_v(b.get(k))} here" for k in keys[:4])
    more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
    return f"{there}; it differs in {shown}{more}: use another OUTDIR"


def _v(x):
    if x is None:
        return "(unset)"
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."


def _task_files(scenario):
    """Every part file the run of `scenario` writes, relative to OUTDIR/timeseries."""
    sweep = bool(scenario.sweep)
    return [task_file(p, k, sweep) for p in range(len(scenario.points()))
            for k in range(scenario.data["scenario"]["replicates"])]


def needs_compiling(method):
    """Whether `method`'s kernels are missing from the Numba cache (an empty cache, or
    ionmc's sources changed: numba_conf.CACHE_DIR is keyed by their hash), so that the run
    will compile them. Reads the cache index of the method's outermost kernel, compiled
    after every kernel it calls; False when that cannot be told."""
    import importlib

    mod, name = {"ssa": ("ionmc.engine.ssa", "ssa_run"),
                 "tau-leap": ("ionmc.engine.tauleap", "tauleap_run"),
                 "ode": ("ionmc.engine.bdf", "bdf_run")}.get(method, (None, None))
    if mod is None:
        return False
    try:
        kernel = getattr(importlib.import_module(mod), name)
        # Numba's own check: an index for these sources (file stamp) with overloads in it
        return not kernel._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 (Numba internals: a notice is not worth a failure)
        return False


@contextlib.contextmanager
def outdir_lock(outdir):
    """Hold an exclusive lock on OUTDIR (created if missing) for one run: a second run
    into it gets an InputError naming the process that holds it. The lock is the kernel's
    (flock): it goes with the process, however that ends."""
    import fcntl

    outdir.mkdir(parents=True, exist_ok=True)
    f = open(outdir / LOCK_NAME, "a+")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise InputError(outdir, None, f"another ionmc run ({holder}) is writing here; "
                             "wait for it or use another OUTDIR") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} on {socket.gethostname()}")
        f.flush()
        yield
    finally:
        f.close()


def run(scenario, outdir, workers=None, progress=True, executor=None, executor_label=None,
        stats=None):
    """Run all replicates of a validated Scenario into OUTDIR; return OUTDIR as a Path.

    `workers`: local processes (default: one per core, at most one per replicate; with 1,
    replicates run in this process). `executor`: a `concurrent.futures.Executor` to run them
    on instead, e.g. from `ionmc.cluster.dask_executor` or a Dask `Client.get_executor()`; the
    caller owns it, and its workers must see OUTDIR at the same path. `executor_label` is
    what the manifest records as the executor.
    `progress`: True, a bar on a terminal (and a notice when kernels compile); "always",
    the same and, without a terminal, a line when the run starts, one per finished
    replicate of an ensemble and one when it ends (the command line's); False, silence.
    `stats`: a dict to fill with {"ran": replicates run now, "wall_time_s", "compile_s"
    (of that wall time, the seconds spent compiling kernels: a first run's, or after an
    update; manifest.json's "compile_s" too)}.
    Raises InputError for an incompatible OUTDIR before anything is written.
    """
    with compile_timer() as here:  # the set-up's compiling, and serial replicates'
        return _run(scenario, outdir, workers, progress, executor, executor_label, stats,
                    here)


def _run(scenario, outdir, workers, progress, executor, executor_label, stats, here):
    outdir = Path(outdir)
    t0 = time.perf_counter()
    tty = sys.stderr.isatty()
    talk = progress == "always" or (progress and tty)
    if prepare_outdir(scenario, outdir) is not None and all(
            (outdir / "timeseries" / f).is_file() for f in _task_files(scenario)):
        # a finished run again: nothing to set up (set-up may compile), only the manifest
        # brought up to date with its part files
        with outdir_lock(outdir):
            rescan(outdir)
            _clean_stale(outdir)
        _nothing_to_do(outdir, len(_task_files(scenario)), talk, stats, t0)
        return outdir
    r = _Run(scenario, outdir)  # checks, models and initial states: nothing written yet
    r.compiled_here = here
    created = not outdir.exists()
    try:
        with outdir_lock(outdir):
            r.old = prepare_outdir(scenario, outdir)  # again, now that no other run can
            r.plan(workers, executor, executor_label)
            if not r.pending:  # another run finished it meanwhile
                r.write_manifest()
                _nothing_to_do(outdir, len(r.tasks), talk, stats, t0)
                return r.outdir
            # after the set-up's checks, so that bad input still gets one line (the SSA's
            # set-up compiles its propensities, a few seconds before this notice)
            compiling = talk and needs_compiling(r.sc["method"])
            if compiling:
                prog.say(prog.compiling_notice(r.sc["method"]))
            r.start(talk and tty, talk and not tty, compiling)
            try:
                if r.serial:
                    r.run_here()
                elif r.pending:
                    r.run_on(executor)
            finally:
                if r.bar is not None:
                    r.bar.close()
                r.write_manifest()
    except InputError:
        if created and not (outdir / "manifest.json").exists():
            shutil.rmtree(outdir, ignore_errors=True)  # nothing written on bad input
        raise
    took = time.perf_counter() - t0
    comp = r.compile_s  # (the set-up's is added by write_manifest below)
    if talk:
        n = len(r.pending)
        prog.say(f"finished {scenario.name}: {n} replicate{'s' if n != 1 else ''} in "
                 f"{prog.wall(max(took - comp, 0.0))} wall time" + (
                     f" (+ {prog.wall(comp)} compiling kernels, first run only)"
                     if comp >= COMPILE_SHOWN_S else ""))
    if stats is not None:
        stats.update(ran=len(r.pending), wall_time_s=took, compile_s=comp)
    return r.outdir


#: compiling shorter than this (s) is not mentioned in the finish line
COMPILE_SHOWN_S = 0.5


def _clean_stale(outdir):
    """With the lock held: temporary files left in OUTDIR are a killed run's."""
    for stale in [f for d in ("timeseries",) + agents.SIDE_DIRS
                  for f in (outdir / d).rglob("*.tmp")]:
        stale.unlink()


def _nothing_to_do(outdir, n, talk, stats, t0):
    if talk:
        prog.say(f"{outdir}: already complete ({n} replicate{'s' if n != 1 else ''}), "
                 "nothing to do")
    if stats is not None:
        stats.update(ran=0, wall_time_s=time.perf_counter() - t0)


def _refuse_endless_ssa(scenario, models, x_starts, duration):
    """An exact run expected to fire more than checks.MAX_SSA_EVENTS events (a whole
    cell, or rates raised by orders of magnitude) is refused before it starts: it would
    run for hours and look like a hang."""
    limit = float(os.environ.get("IONMC_MAX_SSA_EVENTS", checks.MAX_SSA_EVENTS))
    n = max(checks.expected_events(m, x, duration) for m, x in zip(models, x_starts))
    if not n <= limit:
        raise InputError(scenario.source, "scenario.method", f"ssa would fire ~{n:.2g} "
                         f"events per replicate (more than {limit:.0e}): use tau-leap or "
                         "ode, a shorter duration or a smaller cell")


class _Run:
    """One call of `run`: its tasks (a sweep point's replicate each), the manifest and the
    progress bar."""

    def __init__(self, scenario, outdir):
        self.scenario, self.outdir = scenario, outdir
        self.sc = sc = scenario.data["scenario"]
        self.old = prepare_outdir(scenario, outdir)
        # a sweep: one scenario per point, each an ensemble; replicate k has the same seed
        # at every point (common random numbers across the sweep)
        self.sweep = bool(scenario.sweep)
        self.points = scenario.points()
        self.point_sc = [scenario.at_point(pt) if self.sweep else scenario
                         for pt in self.points]
        # the initial states (catching their errors before anything is written)
        models = [Model(s) for s in self.point_sc]
        self.x_starts = [initial_state(m, REGISTRY[sc["method"]].integer) for m in models]
        if sc["method"] == "ssa":
            _refuse_endless_ssa(scenario, models, self.x_starts, sc["duration_s"])
        self.children = np.random.SeedSequence(sc["seed"]).spawn(sc["replicates"])
        self.ts_dir = outdir / "timeseries"
        self.tasks = {}  # key -> (point, replicate, file relative to timeseries/)
        for p in range(len(self.points)):
            for k in range(sc["replicates"]):
                key = f"{p}/{k}" if self.sweep else str(k)
                self.tasks[key] = (p, k, task_file(p, k, self.sweep))
        self.bar = None
        self.warnings = WarningTally()  # the replicates' numerical warnings, summed
        # compiling: this process's (set-up, serial replicates), and the most any other
        # process running replicates spent (they compile side by side)
        self.compiled_here = lambda: 0.0
        self.compiled_elsewhere = 0.0
        self.compiled_replicates = 0.0  # summed

    @property
    def compile_s(self):
        """Seconds of this run's wall time spent compiling kernels."""
        return self.compiled_here() + (0.0 if self.serial else self.compiled_elsewhere)

    def plan(self, workers, executor, executor_label):
        """The pending tasks, where they run, and the manifest as it starts: written
        first (atomically), so that a run killed at any later instant resumes."""
        # a part file exists only when whole (written, then renamed), and its numbers depend
        # on nothing but the scenario, seed and k, which prepare_outdir pinned: it is done,
        # whatever the manifest had time to say (a worker may finish after an interrupt)
        self.pending = [key for key, (_, _, f) in self.tasks.items()
                        if not (self.ts_dir / f).is_file()]
        if executor is None:
            # never more processes than replicates to run
            self.workers = max(1, min(workers or os.cpu_count() or 1, len(self.pending)))
            self.serial = self.workers == 1 or len(self.pending) <= 1
            self.label = "local process" if self.serial else \
                f"local processes ({self.workers})"
        else:
            self.serial = False
            self.label = executor_label or type(executor).__name__
        self.manifest = self._manifest()
        self.compile_before = self.manifest["compile_s"]
        self.reps = self.manifest["replicates"]
        pending = set(self.pending)
        for key, (_, _, f) in self.tasks.items():
            if key in pending or key not in self.reps:
                self.reps[key] = {"status": "missing", "file": f"timeseries/{f}"}
        self.write_manifest()
        _clean_stale(self.outdir)
        (self.outdir / "scenario.toml").write_text(self.scenario.to_toml())
        self.ts_dir.mkdir(parents=True, exist_ok=True)

    def _manifest(self):
        from ionmc import __version__

        sc, scenario, old = self.sc, self.scenario, self.old or {}
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
                                for c in self.children],
            "duration_s": sc["duration_s"],
            "events": scenario.data["events"],
            "events_dropped": scenario.dropped_events,
            "warnings": scenario.warnings,
            "executor": self.label,
            "wall_time_s": old.get("wall_time_s", 0.0),
            # of wall_time_s, compiling kernels (a first run's, or after an update)
            "compile_s": old.get("compile_s", 0.0),
            "replicates": dict(old.get("replicates", {})),
        }
        if self.sweep:
            manifest["sweep"] = {"mode": scenario.sweep["mode"],
                                 "points": [{f"sweep.{k}": v for k, v in pt}
                                            for pt in self.points]}
        return manifest

    def write_manifest(self):
        # the part of the manifest's wall_time_s (the replicates', set-up excluded)
        self.manifest["compile_s"] = self.compile_before + (
            self.compiled_replicates if self.serial else self.compiled_elsewhere)
        if self.warnings.counts:
            self.manifest["numerical_warnings"] = self.warnings.counts
        _scan(self.manifest, self.ts_dir)
        _write_json(self.outdir / "manifest.json", self.manifest)

    def start(self, bar, lines, compiling=False):
        """Open a bar (on a terminal) over biological time for one replicate, over
        replicates for an ensemble; or (`lines`) say in one line what starts."""
        self.t0 = self.last_write = time.perf_counter()
        self.by_time = self.serial and len(self.pending) == 1
        self.lines = lines
        self.finished = 0
        if bar:
            total = self.sc["duration_s"] if self.by_time else len(self.pending)
            self.bar = prog.Bar(self.scenario.name, total, self.by_time, compiling)
        elif lines:
            n, todo, reps = len(self.tasks), len(self.pending), self.sc["replicates"]
            what = f"{n} replicate{'s' if n != 1 else ''}" if not self.sweep else \
                f"{len(self.points)} sweep points x {reps} replicate{'s' if reps != 1 else ''}"
            what += f" ({todo} still to run)" if todo != n else ""
            prog.say(f"running {self.scenario.name}: {what}, {self.sc['method']}, "
                     f"{self.sc['duration_s']:g} s simulated each, {self.label}, into "
                     f"{self.outdir}")

    def tick(self, t):
        if self.bar is not None:
            self.bar.update(t)

    def done(self, key, info):
        self.reps[key] = {"status": "done", "file": f"timeseries/{self.tasks[key][2]}",
                          "wall_time_s": info["wall_time_s"],
                          "compile_s": info.get("compile_s", 0.0),
                          "events": info["method_events"],
                          "events_fired": info["events_fired"],
                          "executor": self.label, "host": info["host"]}
        if info.get("final"):
            self.reps[key]["final"] = info["final"]
        self.manifest["events_fired"] = info["events_fired"]
        self.warnings.add(info.get("warnings", {}))
        self.compiled_elsewhere = max(self.compiled_elsewhere, info.get("compile_s", 0.0))
        self.compiled_replicates += info.get("compile_s", 0.0)
        if self.serial:
            self.manifest["wall_time_s"] += info["wall_time_s"]
        # rewrite the manifest at most once a second: for many short replicates the rewrite
        # was ~40% of the run's overhead (benchmarks/peers.py, network c). A part file is
        # the record that a replicate is done; the manifest catches up from the files
        # (here at the end, or at the next run after a kill).
        now = time.perf_counter()
        if now - self.last_write >= 1.0:
            self.write_manifest()
            self.last_write = now
        self.finished += 1
        if self.bar is not None and not self.by_time:
            self.bar.update(self.finished)
        elif self.lines and len(self.pending) > 1 and (
                self.finished % -(-len(self.pending) // 100) == 0
                or self.finished == len(self.pending)):  # at most ~100 lines
            which = "point {} replicate {}".format(*key.split("/")) if self.sweep else \
                f"replicate {key}"
            prog.say(f"{which} finished ({self.finished}/{len(self.pending)}, "
                     f"{prog.wall(info['wall_time_s'])})")

    def args(self, key, where):
        p, k, f = self.tasks[key]
        extra = {f"sweep.{name}": v for name, v in self.points[p]} if self.sweep else None
        return (self.point_sc[p], k, self.children[k], where / f, self.x_starts[p]), \
            {"key": key, "extra": extra}

    def run_here(self):
        if self.bar is not None:
            self.bar.start_redraw()
        for key in self.pending:
            a, kw = self.args(key, self.ts_dir)
            self.done(*_run_one(*a, progress=self.tick if self.by_time else None, **kw))

    def run_on(self, executor):
        own = executor is None
        pool = ProcessPoolExecutor(max_workers=self.workers) if own else executor
        # workers may run elsewhere (another cwd, another host): send absolute paths
        where = self.ts_dir.absolute()
        futs = []
        try:
            futs = [pool.submit(_run_one, *a, **kw)
                    for a, kw in (self.args(key, where) for key in self.pending)]
            if self.bar is not None:  # the pool's workers exist now
                self.bar.start_redraw()
            for f in as_completed(futs):
                self.done(*f.result())
        except BaseException:
            # drop the queue; replicates already running finish and are kept (a Dask
            # cluster's running tasks are not waited for: their parts are picked up by the
            # manifest when they are there, or by the next run)
            for f in futs:
                f.cancel()
            if own:
                wait(futs)
            raise
        finally:
            if own:
                pool.shutdown()
        self.manifest["wall_time_s"] += time.perf_counter() - self.t0
