"""A finished run for a notebook: `ionmc.open_run(outdir)` returns a `RunResult`.

    >>> import ionmc
    >>> res = ionmc.open_run("out/pb")
    >>> res                          # what, how, how long, what changed
    >>> res.summary()                # final V, main concentrations, ledger closure, wall time
    >>> df = res.timeseries          # the tidy table (one row per replicate and record time)
    >>> figs = res.plot()            # the report's figures, as matplotlib Figures

It wraps `ionmc.analysis.open_run`'s `Run` (what the statistics functions take: pass
`res.run`, or `res` itself) and draws with the report's own `Figures`, so a notebook shows
what `ionmc report` shows.
"""
from functools import cached_property

import pandas as pd

from ionmc.analysis import tables


def _closed_species(sc, columns):
    """(compartment, species) of the closed compartments' permeant ions the run records, in
    scenario order: what "the main concentrations" are."""
    d = sc.data
    own = set()
    from ionmc.mechanisms.registry import REGISTRY

    for m in d["mechanisms"]:
        own |= set(getattr(REGISTRY[m["type"]], "OWN_SPECIES", ()))
    return [(c, s) for c, spec in d["compartments"].items() if not spec["bath"]
            for s, sp in d["species"].items()
            if sp["permeant"] and s not in own and f"{c}.{s}.mM" in columns]


class Summary(dict):
    """The numbers of a run at a glance: a dict (label -> value) that prints as an aligned
    two-column table, numbers to 4 significant digits (a pandas Series of mixed types
    would print 4e-17 as 0.000000)."""

    @staticmethod
    def _fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    def __repr__(self):
        w = max((len(k) for k in self), default=0)
        return "\n".join(f"{k:<{w}}  {self._fmt(v)}" for k, v in self.items())

    def _repr_html_(self):
        import html

        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td>{html.escape(self._fmt(v))}</td></tr>" for k, v in self.items())
        return f"<table>{rows}</table>"


def summary_values(run, sc):
    """The numbers of a run at a glance, as a Summary (dict) with readable labels: wall
    time, replicates, each membrane's V and each closed compartment's ions at the start and
    the end (mean over replicates), and the ledger's largest residual (absolute, and as a
    fraction of its largest term)."""
    m = run.manifest
    out = {"method": m.get("method"), "replicates": run.replicates,
           "duration (s)": m.get("duration_s"), "wall time (s)": m.get("wall_time_s")}
    cols = [f"{mem}.V_mV" for mem in sc.data["membranes"] if f"{mem}.V_mV" in run.columns]
    conc = [f"{c}.{s}.mM" for c, s in _closed_species(sc, run.columns)]
    stats = tables.ensemble_stats(run, cols + conc)
    for col in cols:
        mem = col.split(".")[0]
        s = stats[col]["mean"]
        out[f"V {mem} (mV), start"] = float(s.iloc[0])
        out[f"V {mem} (mV), end"] = float(s.iloc[-1])
    for col in conc:
        c, sp, _ = col.split(".")
        s = stats[col]["mean"]
        out[f"{sp} in {c} (mM), start"] = float(s.iloc[0])
        out[f"{sp} in {c} (mM), end"] = float(s.iloc[-1])
    if "thermo.balance_residual_J" in run.columns:
        terms = [c for c in run.columns if c.startswith("thermo.") and c.endswith("_J")
                 and c != "thermo.balance_residual_J"]
        st = tables.ensemble_stats(run, terms + ["thermo.balance_residual_J",
                                                 "thermo.entropy_production_J_per_K"])
        res = float(st["thermo.balance_residual_J"]["mean"].abs().max())
        T = sc.data["scenario"]["temperature_K"]
        big = max([float(st[c]["mean"].abs().max()) for c in terms]
                  + [T * float(st["thermo.entropy_production_J_per_K"]["mean"].abs().max()),
                     1e-300])
        out["ledger residual, largest (J)"] = res
        out["ledger residual / largest term"] = res / big
    return Summary(out)


def _png(fig):
    """A notebook's PNG of a figure: the report's encoder at a notebook's 80 dpi."""
    from ionmc.analysis.report import _png as png

    return png(fig, dpi=80)


class FigureList(list):
    """The figures `RunResult.plot()` returns: a list of matplotlib Figures that a notebook
    cell shows as images. The figures are made without pyplot (no backend is switched), so
    Jupyter's inline backend would not know them: the list and each figure carry their own
    PNG/HTML representations."""

    def _repr_html_(self):
        import base64

        return "".join(f"<img src='data:image/png;base64,"
                       f"{base64.b64encode(_png(f)).decode()}' style='max-width:100%'><br>"
                       for f in self)


class RunResult:
    """A finished run in OUTDIR (of a sweep: one `point`).

    Attributes: `outdir`, `manifest` (dict), `scenario` (the Scenario it ran),
    `timeseries` (pandas DataFrame, read on first use), `replicates`, `missing`, `run` (the
    `ionmc.analysis.Run` the statistics functions take). Methods: `summary()`, `plot()`,
    `report()`."""

    def __init__(self, run):
        self.run = run

    # the statistics functions of ionmc.analysis read these: a RunResult passes for a Run
    outdir = property(lambda self: self.run.outdir)
    manifest = property(lambda self: self.run.manifest)
    parts = property(lambda self: self.run.parts)
    columns = property(lambda self: self.run.columns)
    missing = property(lambda self: self.run.missing)
    point = property(lambda self: self.run.point)
    replicates = property(lambda self: self.run.replicates)

    @cached_property
    def scenario(self):
        """The resolved Scenario the run used (OUTDIR/scenario.toml, checked against the
        manifest's hash)."""
        return self.run.scenario()

    @cached_property
    def timeseries(self):
        """The tidy table: one row per replicate and record time (`replicate`, `time_s`,
        then every recorded column). The whole ensemble in memory: for large ones use
        `ionmc.analysis.ensemble_stats(res, columns)`, which reads a column at a time."""
        return pd.concat([pd.read_parquet(p) for p in self.run.parts], ignore_index=True)

    def summary(self):
        """A Summary (a dict that prints as a table): method, replicates, duration and
        wall time; each membrane's V
        and each closed compartment's permeant ions at the start and the end (ensemble
        mean); the ledger's largest residual and its share of the largest term."""
        return summary_values(self.run, self.scenario)

    def plot(self, which=None):
        """The report's figures as a list of matplotlib Figures (a notebook cell shows
        them as images; `fig.savefig(...)` writes one). `which`: titles to draw (e.g.
        ["Concentrations", "Thermodynamics"]); default all the run has: Concentrations, Membrane potential, Mechanisms, Thermodynamics,
        and where they apply Metabolism, Volume, Noise."""
        from ionmc.analysis.figures import Figures

        figs = Figures(self.run).all()
        if which is not None:
            want = [which] if isinstance(which, str) else list(which)
            known = [t for t, _, _ in figs]
            bad = [w for w in want if w not in known]
            if bad:
                raise ValueError(f"no figure {bad[0]!r} in this run; it has {known}")
            figs = [f for f in figs if f[0] in want]
        out = FigureList(fig for _, _, fig in figs)
        for fig in out:  # `figs[0]` alone in a cell shows too
            fig._repr_png_ = (lambda f=fig: _png(f))
        return out

    def report(self, out=None, fmt="html"):
        """Write the HTML report (as `ionmc report OUTDIR` does); returns its path."""
        from ionmc.analysis.report import build

        return build(self.outdir, out=out, fmt=fmt, point=self.point)

    def __repr__(self):
        m = self.manifest
        pt = f", point {self.point}" if self.point is not None else ""
        miss = f", {len(self.missing)} missing" if self.missing else ""
        wall = m.get("wall_time_s")
        wall = f", wall time {wall:.3g} s" if isinstance(wall, (int, float)) else ""
        ev = m.get("events_fired", [])
        evs = ""
        if ev:
            from ionmc.analysis.figures import event_label

            evs = "; events: " + "; ".join(f"{e['at_s']:g} s {event_label(e)}" for e in ev)
        return (f"<RunResult {m.get('scenario_name', '?')!r}{pt}: {m.get('method')}, "
                f"{m.get('duration_s')} s, {self.replicates} replicate(s){miss}{wall}{evs}; "
                f"{len(self.columns)} columns; {str(self.outdir)!r}>")


def open_result(outdir, point=None):
    """The finished run in OUTDIR as a RunResult (`ionmc.open_run`); of a sweep, name its
    `point`. InputError (one line) when OUTDIR holds no finished run."""
    return RunResult(tables.open_run(outdir, point))
