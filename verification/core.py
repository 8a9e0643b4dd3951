"""The verification suite's machinery: a registry of checks, each a function that draws a
figure and asserts with tolerances stated in standard errors; a runner that lists them,
runs them one by one, writes their figures under results/verification/ and ends with a
line `N passed, N failed`.

A check is a function `f(v)` registered with `@check`; `v` is a Verify object:

    v.within(name, value, expected, se, k=4)   |value - expected| < k se, logged
    v.require(name, condition, detail)         a plain condition, logged
    v.figure(name)                             a (fig, ax) pair saved as <check>/<name>.png
    v.seeds(root, n)                           n independent SeedSequences from a fixed root

Every comparison is printed, passed or not, so that a run's log reads as its report.
"""
import math
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # builder, cells and conftest's helpers

import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

OUT = ROOT / "results" / "verification"
REGISTRY = {}


class CheckFailed(AssertionError):
    pass


def check(fn):
    """Register a verification check (its docstring's first line is its title)."""
    name = fn.__name__
    if name in REGISTRY:
        raise ValueError(f"check {name} registered twice")
    REGISTRY[name] = fn
    return fn


class Verify:
    def __init__(self, name, out):
        self.name, self.dir = name, out / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.failures, self.lines, self.figures = [], [], []

    def _log(self, ok, text):
        line = f"  {'ok  ' if ok else 'FAIL'} {text}"
        self.lines.append(line)
        print(line, flush=True)
        if not ok:
            self.failures.append(text)

    def within(self, what, value, expected, se, k=4.0):
        """|value - expected| < k se; se must be positive (a zero SE is itself a failure)."""
        z = (value - expected) / se if se > 0 else math.inf
        ok = se > 0 and abs(value - expected) < k * se
        self._log(ok, f"{what}: {value:.6g} vs {expected:.6g}, SE {se:.3g}, "
                      f"z = {z:+.2f} (tolerance {k:g} SE)")
        return ok

    def require(self, what, condition, detail=""):
        self._log(bool(condition), f"{what}{': ' + detail if detail else ''}")
        return bool(condition)

    def figure(self, name, ncols=1, size=(5.0, 4.0)):
        fig, ax = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]))
        path = self.dir / f"{name}.png"
        self.figures.append((fig, path))
        return fig, ax

    def save_figures(self):
        for fig, path in self.figures:
            fig.tight_layout()
            fig.savefig(path, dpi=80)
            plt.close(fig)
        self.figures = []

    @staticmethod
    def seeds(root, n):
        return np.random.SeedSequence(root).spawn(n)


# -- statistics shared by the checks ------------------------------------------------------

def se_of_mean(x):
    x = np.asarray(x, float)
    return x.std(ddof=1) / math.sqrt(len(x))


def se_of_var(x):
    """SE of the sample variance from the sample's fourth moment."""
    x = np.asarray(x, float)
    n, var = len(x), x.var(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    return math.sqrt(max(m4 - (n - 3) / (n - 1) * var ** 2, 0.0) / n)


def se_of_sd(x):
    """SE of a sample SD (normal samples): SD / sqrt(2 (n - 1))."""
    x = np.asarray(x, float)
    return x.std(ddof=1) / math.sqrt(2 * (len(x) - 1))


def qq(ax, sample, quantile_fn, label=""):
    """QQ plot of `sample` against a law's quantile function, with the diagonal."""
    s = np.sort(np.asarray(sample, float))
    p = (np.arange(1, len(s) + 1) - 0.5) / len(s)
    q = quantile_fn(p)
    ax.plot(q, s, ".", ms=3, label=label)
    lo, hi = min(q.min(), s.min()), max(q.max(), s.max())
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.set_xlabel("theoretical quantile")
    ax.set_ylabel("sample quantile")


def z_plot(ax, labels, z, k=4.0):
    """z-scores of several comparisons against the +-k band."""
    ax.axhspan(-k, k, color="0.9")
    ax.axhline(0, color="k", lw=0.8)
    ax.plot(range(len(z)), z, "o")
    ax.set_xticks(range(len(z)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("z = (value - expected) / SE")


# -- the runner ----------------------------------------------------------------------------

def title(fn):
    """The docstring's first paragraph, on one line."""
    first = (fn.__doc__ or fn.__name__).strip().split("\n\n")[0]
    return " ".join(line.strip() for line in first.splitlines())


def run(names, out=OUT):
    passed, failed = [], []
    t_all = time.perf_counter()
    for name in names:
        fn = REGISTRY[name]
        print(f"{name}: {title(fn)}", flush=True)
        v = Verify(name, out)
        t0 = time.perf_counter()
        try:
            fn(v)
        except Exception as exc:  # a crash is a failure of that check, not of the run
            v._log(False, f"raised {type(exc).__name__}: {exc}")
            traceback.print_exc()
        finally:
            try:
                v.save_figures()
            except Exception as exc:
                v._log(False, f"figure not written: {exc}")
        dt = time.perf_counter() - t0
        ok = not v.failures
        (passed if ok else failed).append(name)
        print(f"{'PASSED' if ok else 'FAILED'} {name} ({dt:.1f} s; figures in "
              f"{v.dir.relative_to(ROOT) if v.dir.is_relative_to(ROOT) else v.dir})",
              flush=True)
        (v.dir / "log.txt").write_text("\n".join([title(fn)] + v.lines) + "\n")
    print(f"verification: {time.perf_counter() - t_all:.0f} s")
    if failed:
        print("failed: " + ", ".join(failed))
    print(f"{len(passed)} passed, {len(failed)} failed")
    return not failed
