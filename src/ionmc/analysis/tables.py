"""Reading and aggregating a run's output (pandas in and out), for reports and notebooks.

An OUTDIR holds one Parquet part per finished replicate (docs/guide.md, "Output"). Aggregation
reads one column at a time from each part (pyarrow column projection), so memory holds one
column of the ensemble, replicates x record times, never the whole table: an ensemble larger
than memory still aggregates.

    >>> import ionmc.analysis as ia
    >>> run = ia.open_run("out/pb")
    >>> stats = ia.ensemble_stats(run, ["neuron.Na.mM", "soma.V_mV"])
    >>> stats["neuron.Na.mM"]["mean"]          # a Series indexed by time_s
"""
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ionmc.errors import InputError

STATS = ("mean", "sd", "q05", "q50", "q95", "n")


@dataclass
class Run:
    """What an OUTDIR holds: its manifest, resolved scenario and finished parts."""
    outdir: Path
    manifest: dict
    parts: list
    columns: list
    missing: list = field(default_factory=list)
    point: int = None  # a sweep's point, or None

    @property
    def replicates(self):
        return len(self.parts)

    def scenario(self):
        from ionmc.scenario.load import load_scenario

        path = self.outdir / "scenario.toml"
        sc = load_scenario(path)
        want = self.manifest.get("scenario_hash")
        if want is not None and sc.hash() != want:
            raise InputError(path, None, "does not match the run's manifest (scenario_hash "
                             f"{want}): the file was changed or swapped after the run")
        return sc.at_point(sc.points()[self.point]) if self.point is not None else sc

    @property
    def point_values(self):
        """The sweep point's values ({"sweep.key": value}), or {}."""
        if self.point is None:
            return {}
        return self.manifest["sweep"]["points"][self.point]


def open_run(outdir, point=None):
    """The run in OUTDIR (of a sweep: its `point`); InputError (one line) when it is no run,
    has nothing finished, or is a sweep and no valid point is named."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        raise InputError(outdir, None, "no such output directory")
    man_path = outdir / "manifest.json"
    if not man_path.is_file():
        raise InputError(outdir, None, "not an ionmc output directory (no manifest.json)")
    try:
        manifest = json.loads(man_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(man_path, None, "unreadable manifest") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("replicates", {}), dict):
        raise InputError(man_path, None, "not an ionmc manifest")
    ts = outdir / "timeseries"
    sweep = manifest.get("sweep")
    if sweep:
        n = len(sweep["points"])
        if point is None or not 0 <= point < n:
            raise InputError(outdir, "--point", f"is a sweep of {n} points: name one with "
                             f"--point 0..{n - 1}, or read it whole with pandas.read_parquet("
                             "OUTDIR/'timeseries') (one tidy table, sweep.* columns)")
        ts = ts / f"point={point:04d}"
    elif point is not None:
        raise InputError(outdir, "--point", "is not a sweep")
    parts = sorted(ts.glob("part-*.parquet"))
    if not parts:
        raise InputError(outdir, None, "no finished replicate to report (timeseries/ is empty)")
    columns = pq.read_schema(parts[0]).names
    # what is missing: the manifest's word, and any replicate whose part is not there
    # (a run killed before it could update its manifest)
    have = {int(p.name[5:10]) for p in parts}
    expected = range(len(manifest.get("replicate_seeds", [])))
    said = manifest.get("missing", [])
    if sweep:
        said = [int(k.split("/")[1]) for k in said if int(k.split("/")[0]) == point]
    missing = sorted(set(said) | (set(expected) - have))
    return Run(outdir, manifest, parts, columns, missing, point)


def read_column(run, column):
    """(times, values): values is replicates x times for one column."""
    rows, times = [], None
    for p in run.parts:
        t = pq.read_table(p, columns=["time_s", column])
        if times is None:
            times = t.column("time_s").to_numpy()
        v = t.column(column).to_numpy(zero_copy_only=False).astype(float)
        if len(v) != len(times):  # a replicate with another record grid: align on time
            v = np.interp(times, t.column("time_s").to_numpy(), v)
        rows.append(v)
    return times, np.vstack(rows)


def quantiles(v, qs=(5, 50, 95)):
    """Percentiles `qs` over replicates (rows of v) at each time (column), NaN ignored.
    np.percentile sorts every column at once; np.nanpercentile walks the columns one by one
    in Python (apply_along_axis), which took 17 of a report's 17 minutes for a 42,000-row
    run (benchmarks/bench_report.py). So nanpercentile only for the columns holding a NaN;
    on the others the two give the same numbers."""
    q = np.percentile(v, qs, axis=0)
    nan = np.isnan(v).any(axis=0)
    if nan.any():
        q[:, nan] = np.nanpercentile(v[:, nan], qs, axis=0)
    return q


def ensemble_stats(run, columns):
    """Per column: a DataFrame indexed by time_s with mean, sd, q05, q50, q95, n over
    replicates (sd is NaN for a single replicate)."""
    out = {}
    for c in columns:
        t, v = read_column(run, c)
        with warnings.catch_warnings():  # a column that is NaN at some time (current_pA at t0)
            warnings.simplefilter("ignore", RuntimeWarning)
            q = quantiles(v)
            sd = np.nanstd(v, axis=0, ddof=1) if v.shape[0] > 1 else np.full(v.shape[1], np.nan)
            mean = np.nanmean(v, axis=0)
        out[c] = pd.DataFrame({"mean": mean, "sd": sd, "q05": q[0],
                               "q50": q[1], "q95": q[2], "n": v.shape[0]},
                              index=pd.Index(t, name="time_s"))
    return out


def cv_over_time(run, column, stats=None):
    """Coefficient of variation (sd/mean over replicates) of a column against time; pass
    `stats` (its `ensemble_stats` frame) when already read."""
    s = stats if stats is not None else ensemble_stats(run, [column])[column]
    return s["sd"] / s["mean"].abs()


def rate(stat, column="mean"):
    """Time derivative of a cumulative series (per second), by finite differences."""
    s = stat[column]
    return pd.Series(np.gradient(s.to_numpy(), s.index.to_numpy()), index=s.index)


def columns_like(run, suffix=None, prefix=None, contains=None):
    """Column names by suffix / prefix / substring, in file order."""
    return [c for c in run.columns
            if (suffix is None or c.endswith(suffix)) and (prefix is None or c.startswith(prefix))
            and (contains is None or contains in c)]


# -- noise statistics (issue 6) -------------------------------------------------------------
def stationary_samples(run, column, t_min=0.0):
    """replicates x times array of a column after t_min (a burn-in), and its times."""
    t, v = read_column(run, column)
    keep = t >= t_min
    return t[keep], v[:, keep]


def noise_sd(run, column, t_min=0.0):
    """(SD, SE of the SD) of a column's fluctuations about each replicate's mean after t_min.

    The SE assumes samples further apart than the correlation time (check with
    `autocorrelation`): SE = SD / sqrt(2 (n - 1)), n the number of samples."""
    _, v = stationary_samples(run, column, t_min)
    dev = v - v.mean(axis=1, keepdims=True)
    n = dev.size - v.shape[0]  # one mean per replicate estimated
    sd = math.sqrt(float((dev ** 2).sum()) / n)
    return sd, sd / math.sqrt(2.0 * (n - 1))


def autocorrelation(run, column, max_lag=50, t_min=0.0):
    """Autocorrelation of a column's fluctuations against lag (in record intervals),
    averaged over replicates; a Series indexed by lag time (s)."""
    t, v = stationary_samples(run, column, t_min)
    dev = v - v.mean(axis=1, keepdims=True)
    var = (dev ** 2).mean()
    lags = range(min(max_lag, dev.shape[1] - 1) + 1)
    ac = [float((dev[:, :dev.shape[1] - k] * dev[:, k:]).mean() / var) for k in lags]
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    return pd.Series(ac, index=pd.Index([k * dt for k in lags], name="lag_s"))


def power_spectrum(run, column, t_min=0.0, nperseg=256):
    """One-sided power spectral density (units^2/Hz) by Welch's method, averaged over
    replicates; a Series indexed by frequency (Hz)."""
    from scipy.signal import welch

    t, v = stationary_samples(run, column, t_min)
    fs = 1.0 / (t[1] - t[0])
    f, p = welch(v, fs=fs, nperseg=min(nperseg, v.shape[1]), axis=1)
    return pd.Series(p.mean(axis=0), index=pd.Index(f, name="frequency_Hz"))


def first_passage(run, column, threshold, direction="up"):
    """Per replicate, the first recorded time the column crosses `threshold` (upward or
    downward); NaN where it never does. E.g. the time for Na_i to double after anoxia."""
    t, v = read_column(run, column)
    hit = v >= threshold if direction == "up" else v <= threshold
    first = np.where(hit.any(axis=1), t[np.argmax(hit, axis=1)], np.nan)
    return pd.Series(first, index=pd.Index(range(len(first)), name="replicate"))


def loglog_slope(x, y):
    """Least-squares slope of log y against log x and its standard error (e.g. CV against
    the mean count N: -1/2 for Poisson-like counting noise)."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, res, *_ = np.linalg.lstsq(A, ly, rcond=None)
    n = len(lx)
    if n <= 2:
        return float(coef[0]), float("nan")
    s2 = float(((ly - A @ coef) ** 2).sum()) / (n - 2)
    se = math.sqrt(s2 / float(((lx - lx.mean()) ** 2).sum()))
    return float(coef[0]), se
