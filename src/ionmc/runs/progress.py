"""What a run tells its user while it runs (on stderr): that kernels are compiling, and a
progress bar on a terminal (runner.py prints start, per-replicate and finish lines
elsewhere).

Two things a plain tqdm bar got wrong on a first run (a user took it for a hang):
- its clock only moves when the bar is updated, and a run updates it once per chunk of
  4096 records (replicate.CHUNK), so with one chunk the bar sat at 0% for the whole first
  run, clock stopped. A daemon thread redraws it twice a second.
- its ETA extrapolated the first update, which on a first run is mostly compilation
  (tens of seconds for a few records): 1.5 hours shown a second before the end. Here the
  rate is measured from the first update on, so compilation never enters it; before a
  second update the ETA is "?".
"""
import sys
import threading
import time


def say(message):
    """One line on stderr, prefixed like every ionmc message."""
    print(f"ionmc: {message}", file=sys.stderr, flush=True)


def wall(seconds):
    """A wall time for people: 0.4 s, 12 s, 3 min 05 s, 1 h 02 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    m, s = divmod(int(round(seconds)), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def compiling_notice(method):
    """The line shown before a run whose method's kernels are not in the Numba cache."""
    return (f"compiling the {method} kernels (first run only, and after an update; "
            f"~{COMPILE_S.get(method, 30)} s)...")


#: a first run's compilation (s) on a 2-core machine (benchmarks/bench_compile.py,
#: docs/performance.md), rounded: what the notices say (here and ionmc.warmup), nothing
#: relies on it
COMPILE_S = {"ssa": 16, "tau-leap": 26, "ode": 31}


class Bar:
    """A tqdm bar over `total` (simulated seconds, or replicates) that redraws on a timer
    and estimates the time left from the updates after the first."""

    REDRAW_S = 0.5

    def __init__(self, desc, total, by_time, compiling=False):
        from tqdm import tqdm

        self.by_time = by_time
        self.total = total
        self._first = None  # (wall time, n) at the first update
        self._status = "compiling" if compiling else "starting"
        bar = self

        class _Tqdm(tqdm):
            @property
            def format_dict(self):
                d = super().format_dict
                d["progress"], d["left"] = bar._progress(d["n"]), bar._left(d["n"])
                return d

        self._bar = _Tqdm(total=total, desc=desc, dynamic_ncols=True, file=sys.stderr,
                          bar_format="{desc}: {percentage:3.0f}%|{bar}| {progress} "
                                     "[{elapsed} elapsed, {left}]")
        self._stop = threading.Event()
        self._thread = None

    def start_redraw(self):
        """Start redrawing on a timer: after a process pool has forked its workers (a
        thread that holds a lock at a fork leaves the child that lock held)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._redraw, daemon=True)
            self._thread.start()

    def _progress(self, n):
        if self.by_time:
            return f"{n:.3g}/{self.total:.3g} s simulated"
        return f"{int(n)}/{self.total} replicates"

    def _left(self, n):
        if self._first is None:
            return self._status
        t0, n0 = self._first
        if n <= n0:
            return "left ?"
        rate = (n - n0) / (time.perf_counter() - t0)
        return f"~{wall((self.total - n) / rate)} left"

    def _redraw(self):
        while not self._stop.wait(self.REDRAW_S):
            self._bar.refresh()

    def update(self, n):
        """Progress is now n (absolute)."""
        if self._first is None:
            self._first = (time.perf_counter(), n)
        self._bar.update(n - self._bar.n)

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._bar.close()

