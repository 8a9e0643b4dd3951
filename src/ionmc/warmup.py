"""Compile the kernels of every method into Numba's cache before a first run needs them.

    python -m ionmc.warmup [METHOD ...]      # default: ssa tau-leap ode

`make demo` runs this first, so that a new user's first `ionmc run` of any method starts in
about a second instead of compiling for ~15-25 s. Methods whose kernels are already cached
for these sources are skipped; the others compile side by side, each in a process of its
own (as many at once as there are cores), each by running the built-in `pump_block` for a
moment (which reaches every kernel of its method; for ode also a 20-unit tissue, for the
solver's banded form). What a scenario adds still compiles on its first use: its own
written rate laws (well under a second each), the paired random streams of
`random_streams`, dwell-time logging.
"""
import concurrent.futures
import multiprocessing
import os
import sys
import time

#: biological time each method runs: enough to reach every kernel of the method
DURATIONS = {"ssa": 1e-4, "tau-leap": 0.01, "ode": 0.01}


def compile_method(method):
    """Run pump_block briefly under `method` (its kernels compile, or load from the cache);
    returns the wall time in seconds."""
    import ionmc
    from ionmc.scenario import load_scenario

    t0 = time.perf_counter()
    ionmc.simulate(load_scenario("pump_block", [("scenario.method", method)],
                                 duration=DURATIONS[method]))
    if method == "ode":  # and the solver's banded form, for models of >= 400 counts
        from ionmc.mechanisms.tissue import tissue_scenario
        from ionmc.scenario import validate

        d = DURATIONS[method]
        ionmc.simulate(validate(tissue_scenario(20, layout="chain", method="ode",
                                                duration_s=d, record_interval_s=d,
                                                block_at_s=d / 2), "warm-up tissue"))
    return time.perf_counter() - t0


def main(argv=None):
    from ionmc.numba_conf import CACHE_DIR
    from ionmc.runs.progress import COMPILE_S
    from ionmc.runs.runner import needs_compiling

    methods = list(argv if argv is not None else sys.argv[1:]) or list(DURATIONS)
    unknown = [m for m in methods if m not in DURATIONS]
    if unknown:
        print(f"ionmc.warmup: unknown method {unknown[0]!r}; one of {', '.join(DURATIONS)}",
              file=sys.stderr)
        return 2
    todo = [m for m in methods if needs_compiling(m)]
    if not todo:
        print(f"ionmc's kernels for {', '.join(methods)} are compiled (cache: {CACHE_DIR})")
        return 0
    jobs = min(len(todo), os.cpu_count() or 1)
    # longest first, each to the core that frees first (what the pool does): the estimate
    # is when the last one ends
    todo.sort(key=lambda m: -COMPILE_S.get(m, 30))
    ends = [0.0] * jobs
    for m in todo:
        k = ends.index(min(ends))
        ends[k] += COMPILE_S.get(m, 30)
    guess = max(ends)
    print(f"compiling ionmc's kernels for {', '.join(todo)}, once after installing or "
          f"updating (~{guess:.0f} s; cache: {CACHE_DIR})...", flush=True)
    t0 = time.perf_counter()
    if jobs == 1:
        times = [compile_method(m) for m in todo]
    else:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited state
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            times = list(pool.map(compile_method, todo))
    each = ", ".join(f"{m} {s:.0f} s" for m, s in zip(todo, times))
    print(f"compiled in {time.perf_counter() - t0:.0f} s ({each}); later runs start in about "
          "a second", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
