"""The report's figures (analysis/report.py) and `RunResult.plot()`: each drawn only when
the run has its columns; statistics use every record, plots draw about 2 x `MAX_POINTS`
times (each bucket's lowest and highest: `thin`).

Figures are `matplotlib.figure.Figure` objects made without pyplot: no global state and no
backend switch, so a notebook's inline backend keeps working and the report needs no
`plt.close`.

Colours mean one thing everywhere: a species has the same colour in every figure of every
run (`species_colour`: a fixed palette for the common ions, a hash of the name otherwise),
and so has a mechanism (`mechanism_colours`: a mechanism that moves one species takes that
species' colour, so the Na+ leak is drawn in Na+'s colour; the others a fixed colour by
name or a hash).
"""
import math
import zlib

import numpy as np

from ionmc.analysis import tables as analysis
from ionmc.mechanisms.registry import REGISTRY
from ionmc.thermo.energetics import membrane_budget

MAX_POINTS = 800


def thin(values, n=MAX_POINTS):
    """Which of `values` (one per record, in time order) to draw: all of them up to 2n,
    else the first and last and, per bucket of len/n records, the lowest and the highest
    (min/max decimation), so that a spike narrower than a bucket keeps its peak. A plain
    stride drew a 2 ms action potential at -30 mV instead of +15 in a 30 s run."""
    m = len(values)
    step = m // n
    if step <= 2:
        return np.arange(m)
    k = (m // step) * step
    b = np.asarray(values[:k], float).reshape(-1, step)
    start = np.arange(0, k, step)
    lo = np.argmin(np.nan_to_num(b, nan=np.inf), axis=1)  # a NaN is drawn as a gap anyway
    hi = np.argmax(np.nan_to_num(b, nan=-np.inf), axis=1)
    return np.unique(np.concatenate([start + lo, start + hi, [0, m - 1], np.arange(k, m)]))
NREF = 60  # times at which Nernst/GHK references are evaluated

#: fixed colours of the common species (Na red, K blue, Cl green, Ca purple: the usual
#: electrophysiology convention); other names hash into FALLBACK
SPECIES_COLOURS = {
    "Na": "#d62728", "K": "#1f77b4", "Cl": "#2ca02c", "Ca": "#9467bd", "Mg": "#8c564b",
    "H": "#7f7f7f", "HCO3": "#bcbd22", "Glu": "#17becf", "GABA": "#e377c2",
    "ATP": "#ff7f0e", "ADP": "#c49c94", "Pi": "#98df8a", "PCr": "#aec7e8", "Cr": "#c5b0d5",
    "O2": "#17becf", "X": "#444444", "glucose": "#dbdb8d",
}
#: mechanisms that move several species (pumps, exchangers): their own hues, unlike any
#: species'
MECHANISM_COLOURS = {"pump": "#e6ab02", "nka": "#e6ab02", "atpase": "#e6ab02",
                     "ncx": "#637939", "gat1": "#7b4173", "sglt": "#843c39",
                     "kcc2": "#3182bd", "nkcc1": "#31a354", "metab": "#636363"}
FALLBACK = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#5254a3", "#8ca252",
            "#bd9e39", "#ad494a", "#a55194", "#6b6ecf", "#b5cf6b", "#e7ba52", "#d6616b",
            "#ce6dbd", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"]
#: the ledger's terms, in every run: black for the state functions and the heat, and for
#: the work terms hues that no species, mechanism or FALLBACK colour has (each at least 30
#: CIE76 ΔE from every one of those and from each other; test_report checks), so a work
#: band is never read as an ion's or a mechanism's line
QUANTITY_COLOURS = {"G": "#000000", "S_mix": "#000000", "T·S produced": "#000000",
                    "ATP work": "#3311bb", "clamp work": "#007766",
                    "bath exchange": "#bb11ff", "water work": "#0000ff",
                    "stimulus work": "#ff0088", "chemical work": "#881199",
                    "event work": "#ff00dd"}


def _hashed(name):
    # crc32, not hash(): Python salts str hashes per process, and the colour must not
    # change from one report to the next
    return FALLBACK[zlib.crc32(name.encode()) % len(FALLBACK)]


def species_colour(name):
    """The colour of a species, the same in every figure of every run."""
    return SPECIES_COLOURS.get(name) or _hashed(name)


def mechanism_colours(mechanisms):
    """{name: colour} for a scenario's [[mechanisms]] (a list of their tables). A mechanism
    moving one species takes its colour; one named in MECHANISM_COLOURS (or whose name
    starts with such a key) that colour; else a hash of its name. A colour already taken in
    this run goes to the next free FALLBACK colour, in scenario order."""
    out, taken = {}, set()
    for m in mechanisms:
        name = m["name"]
        sp = m.get("species")
        want = None
        if isinstance(sp, str):
            want = species_colour(sp)
        else:
            low = name.lower()
            want = MECHANISM_COLOURS.get(low) or next(
                (c for k, c in MECHANISM_COLOURS.items() if low.startswith(k)), None)
        want = want or _hashed(name)
        if want in taken:
            k = FALLBACK.index(want) if want in FALLBACK else zlib.crc32(name.encode())
            want = next((FALLBACK[(k + i) % len(FALLBACK)] for i in range(len(FALLBACK))
                         if FALLBACK[(k + i) % len(FALLBACK)] not in taken), want)
        out[name] = want
        taken.add(want)
    return out


_PREFIX = {-24: "y", -21: "z", -18: "a", -15: "f", -12: "p", -9: "n", -6: "µ", -3: "m",
           0: "", 3: "k", 6: "M", 9: "G"}


def si_scale(values, unit):
    """(factor, label): the SI prefix that puts the largest |value| in [1, 1000), e.g.
    2e-10 J -> (1e12, "pJ"), so an axis reads 200 pJ and not 200000 fJ."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    big = float(np.abs(v).max()) if v.size else 0.0
    if big == 0.0:
        return 1.0, unit
    e = int(math.floor(math.log10(big) / 3.0) * 3)
    e = min(max(e, -24), 9)
    return 10.0 ** -e, _PREFIX[e] + unit


def si_format(value, unit, digits=3):
    """A number with its SI prefix: si_format(2.1e-10, "J") -> "210 pJ"."""
    f, lab = si_scale([value], unit)
    return f"{value * f:.{digits}g} {lab}"


def count_scale(values):
    """(factor, label suffix) for plain counts/rates: "×10⁸" when they are large."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    big = float(np.abs(v).max()) if v.size else 0.0
    if big < 1e4:
        return 1.0, ""
    e = int(math.floor(math.log10(big)))
    sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return 10.0 ** -e, f" (×10{sup})"


def readable_log_axis(ax):
    """A log y axis labelled at 1, 2, 3, 5 of every decade (not at the decades alone: a
    panel spanning 10-100 mM would otherwise show only '10¹' and '10²')."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo > 1e4:  # many decades: label the decades alone
        return
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="major", axis="y", color="0.9", lw=0.6)


def pyplot():
    """matplotlib.pyplot on Agg, for scripts that want pyplot (results/validation.py); the
    report's own figures do not use it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: the report's type sizes: at 90 dpi, 11 pt is ~14 px on the page
STYLE = {"font.size": 11, "axes.titlesize": 11.5, "axes.labelsize": 11,
         "legend.fontsize": 9.5, "xtick.labelsize": 10, "ytick.labelsize": 10,
         "axes.spines.top": False, "axes.spines.right": False, "legend.framealpha": 0.95}
WIDTH_IN = 11.0  # figure width (in): ~990 px at 90 dpi, the page's column


def event_label(e):
    """What an event set, e.g. "pump.block_fraction = 1" for
    {"mechanisms.pump.block_fraction": 1.0}."""
    parts = []
    for k, v in e["set"].items():
        k = k.split(".", 1)[1] if k.startswith(("mechanisms.", "compartments.")) else k
        parts.append(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}")
    return ", ".join(parts)


EVENT_LINE_PT = 12  # one line of event labels above an axes (9 pt type)
LEGEND_LOCS = ("upper right", "upper left", "lower left", "lower right", "center right",
               "center left", "lower center", "upper center", "center")


def title_room(ax):
    """Move the axes' title above its event labels (each a line in the top margin)."""
    ev = [t for t in ax.texts if t.get_gid() == "event"]
    if ev:
        top = max(t.xyann[1] for t in ev)
        ax.set_title(ax.get_title(), pad=top + EVENT_LINE_PT + 4)


def covers_data(ax, box):
    """Whether the display-space box `box` meets any line, band, marker or text of `ax`."""
    box = box.padded(2)
    for ln in ax.get_lines():
        if not ln.get_visible():
            continue
        path = ln.get_transform().transform_path(ln.get_path())
        if box.count_contains(path.vertices[np.isfinite(path.vertices).all(axis=1)]):
            return True
        if ln.get_linestyle() not in ("None", "none", "", " ") and len(path.vertices) > 1 \
                and path.intersects_bbox(box, filled=False):
            return True
    for col in ax.collections:
        if not col.get_visible():
            continue
        for p in col.get_paths():
            path = col.get_transform().transform_path(p)
            if box.count_contains(path.vertices[np.isfinite(path.vertices).all(axis=1)]) \
                    or path.intersects_bbox(box, filled=True):
                return True
    for patch in ax.patches:  # histogram bars
        if patch.get_visible() and patch.get_window_extent().overlaps(box):
            return True
    return False


def place_legends(fig, dpi=90):
    """Every legend of `fig` where it covers no data: where it is if it covers none, else
    the first of LEGEND_LOCS that covers none, else below the axes (under its time label,
    in as many columns as fit its width; the figure grows by the legend's height). Labels
    are kept whole."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import ScaledTranslation

    old_dpi = fig.dpi
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    for _ in range(3):
        canvas.draw()
        r = canvas.get_renderer()
        grow = {}
        for ax in fig.axes:
            leg = ax.get_legend()
            if not ax.get_visible() or leg is None or getattr(leg, "_ionmc_below", False):
                continue
            if not covers_data(ax, leg.get_window_extent(r)):
                continue
            for loc in LEGEND_LOCS:
                leg.set_loc(loc)
                if not covers_data(ax, leg.get_window_extent(r)):
                    break
            else:
                handles, labels = ax.get_legend_handles_labels()
                size = leg.get_texts()[0].get_fontsize() if leg.get_texts() else None
                dy = (ax.bbox.y0 - ax.xaxis.get_tightbbox(r).y0) / fig.dpi + 0.06
                anchor = ax.transAxes + ScaledTranslation(0, -dy, fig.dpi_scale_trans)
                for ncols in range(min(len(labels), 3), 0, -1):
                    leg = ax.legend(handles, labels, loc="upper center", ncols=ncols,
                                    bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor,
                                    fontsize=size)
                    if leg.get_window_extent(r).width <= ax.bbox.width * 1.05:
                        break
                leg._ionmc_below = True
                row = ax.get_subplotspec().rowspan.start if ax.get_subplotspec() else 0
                h = leg.get_window_extent(r).height / fig.dpi + 0.08
                grow[row] = max(grow.get(row, 0.0), h)
        if not grow:
            break
        fig.set_figheight(fig.get_figheight() + sum(grow.values()))
    fig.set_dpi(old_dpi)
    return fig


class Figures:
    """Builds the figures of one run; each method returns (title, caption, figure) or None;
    `alt` holds each figure's alt text (what it shows, in words) by title."""

    def __init__(self, run):
        self.run = run
        self.sc = run.scenario()
        d = self.sc.data
        self.d = d
        self.event_list = list(run.manifest.get("events_fired", []))
        self.events = [e["at_s"] for e in self.event_list]
        self.colour = {s: species_colour(s) for s in d["species"]}
        self.mcolour = mechanism_colours(d["mechanisms"])
        self.stats = {}
        self.alt = {}
        self.noise_table = None  # filled by noise(): rows for the report's noise section
        #: the mechanism types in the run, in registry order, and the species they keep
        #: in figures of their own (a metabolic pool's)
        used = {m["type"] for m in d["mechanisms"]}
        self.types = [mod for t, mod in REGISTRY.items() if t in used]
        self.own_species = {s for mod in self.types for s in getattr(mod, "OWN_SPECIES", ())}

    @property
    def model(self):
        """The compiled model of the run's scenario (built once, on first use)."""
        if getattr(self, "_model", None) is None:
            from ionmc.model.compiled import Model

            self._model = Model(self.sc)
        return self._model

    def outside_total(self):
        """Names of mechanisms whose own entropy production is outside the ledger's total
        (a metabolic pool's chemistry): reported per mechanism, not summed into T·S_prod."""
        out = set()
        for mech in self.model.mechs:
            if set(mech.outside_ion_ledger()) - set(mech.reservoir):
                out.add(mech.name)
        return out

    def stat(self, col):
        if col not in self.stats:
            self.stats.update(analysis.ensemble_stats(self.run, [col]))
        return self.stats[col]

    def _line(self, ax, col, label=None, colour=None, scale=1.0, **kw):
        s = self.stat(col)
        s = s.iloc[thin(s["mean"].to_numpy())]
        t = s.index.to_numpy()
        kw.setdefault("lw", 1.6)
        ax.plot(t, s["mean"] * scale, label=label, color=colour, **kw)
        if self.run.replicates > 1:
            ax.fill_between(t, s["q05"] * scale, s["q95"] * scale, color=colour, alpha=0.2,
                            lw=0)

    def _events(self, ax):
        """A dotted line at each event, labelled with what it set in the margin above the
        axes (no box, over no data); labels that would run into each other go a line up, and
        the panel's title moves up above them (`title_room`)."""
        if not self.event_list:
            return
        lo, hi = ax.get_xlim()
        placed = []  # (axes fraction, level) of the labels so far
        for e in self.event_list:
            ax.axvline(e["at_s"], color="0.35", ls=":", lw=1.2, gid="event")
            frac = (e["at_s"] - lo) / (hi - lo) if hi > lo else 0.0
            right = frac > 0.6  # runs left from its line near the right edge
            level = 0
            while any(lv == level and abs(f - frac) < 0.4 for f, lv in placed):
                level += 1
            placed.append((frac, level))
            ax.annotate(event_label(e), xy=(e["at_s"], 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 3 + EVENT_LINE_PT * level), textcoords="offset points",
                        ha="right" if right else "left", va="bottom", fontsize=9,
                        color="0.2", annotation_clip=False, gid="event")
        title_room(ax)

    @staticmethod
    def _label(ax, ylabel, title):
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()

    def _time_axes(self, axes):
        """Events marked and time on the x axis of every panel."""
        for ax in axes:
            self._events(ax)
            ax.set_xlabel("time (s)")

    def _fig(self, n, ncols=2, h=3.4):
        """n panels, at most two in a row (three in a row at the page's width leave ~7 px
        type); `ncols` above 2 is taken as 2."""
        from matplotlib.figure import Figure

        ncols = min(ncols, 2)
        nrows = math.ceil(n / ncols)
        cols = min(n, ncols)
        w = WIDTH_IN if cols > 1 else WIDTH_IN * 0.8
        fig = Figure(figsize=(w, h * nrows), layout="constrained")
        axes = fig.subplots(nrows, cols, squeeze=False).ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
        return fig, axes[:n]

    def _band_note(self):
        return (" Lines: ensemble mean; bands: 5–95% of replicates."
                if self.run.replicates > 1 else "")

    def _event_note(self):
        if not self.event_list:
            return ""
        return " Dotted lines: events (" + "; ".join(
            f"{e['at_s']:g} s: {event_label(e)}" for e in self.event_list) + ")."

    # -- the figures ---------------------------------------------------------------------
    def concentrations(self):
        comps = [c for c, spec in self.d["compartments"].items() if not spec["bath"]]
        if not comps:
            return None
        fig, axes = self._fig(len(comps))
        logs = []
        alt = []
        for ax, c in zip(axes, comps):
            lo, hi = math.inf, 0.0
            for s, sp in self.d["species"].items():
                col = f"{c}.{s}.mM"
                if sp["permeant"] and s not in self.own_species and col in self.run.columns:
                    m = self.stat(col)["mean"].to_numpy()
                    a, b = m[0], m[-1]
                    # the legend says where each line starts and ends: readable without
                    # interpolating between ticks
                    self._line(ax, col, f"{s}: {a:.3g} → {b:.3g} mM", self.colour[s])
                    alt.append(f"{s} in {c} {a:.3g} to {b:.3g} mM")
                    fin = m[np.isfinite(m) & (m > 0)]
                    if fin.size:
                        lo, hi = min(lo, fin.min()), max(hi, fin.max())
            ax.set_title(f"{c} ({self.d['compartments'][c]['volume_um3']:g} µm³)")
            ax.set_ylabel("concentration (mM)")
            if hi > 0 and hi / lo > 10:  # decades apart: log, labelled at 1-2-3-5
                ax.set_yscale("log")
                readable_log_axis(ax)
                logs.append(c)
            else:
                ax.set_ylim(bottom=0)
                ax.grid(True, axis="y", color="0.9", lw=0.6)
            ax.legend()
        self._time_axes(axes)
        self.alt["Concentrations"] = ("Concentrations against time: " + "; ".join(alt) + ".")
        scale = (" Log axes where a panel's species are more than tenfold apart, labelled at "
                 "1, 2, 3 and 5 of each decade." if logs else "")
        return ("Concentrations", "Permeant species per closed compartment; the legend gives "
                "each one's first and last value." + scale + self._event_note()
                + self._band_note(), fig)

    def _state_columns(self, model):
        """{state index: column} of every count the model's state holds, or None when a
        column is missing (an older run)."""
        st = {}
        for c in model.comps:
            for s in model.species:
                st[model.idx(c, s)] = f"{c}.{s}.count"
        for mech in model.mechs:
            for k, i in enumerate(mech.states):
                st[i] = f"{mech.name}.{mech.state_label(k)}.count"
            if mech.blocked is not None:
                st[mech.blocked] = f"{mech.name}.blocked.count"
        if any(col not in self.run.columns for col in st.values()):
            return None
        return st

    def _references(self, mi):
        """Nernst and GHK potentials (mV) over time, from the mean counts."""
        from ionmc.model.compiled import Model

        # under water flow the volumes are set on the model at each time: a model of its
        # own, so the shared one keeps the scenario's
        water_cols = any(c.endswith(".volume_um3") for c in self.run.columns)
        model = Model(self.sc) if water_cols else self.model
        st = self._state_columns(model)
        if st is None:
            return None
        means = {i: self.stat(col)["mean"] for i, col in st.items()}
        t_all = next(iter(means.values())).index.to_numpy()
        pick = np.unique(np.linspace(0, len(t_all) - 1, min(NREF, len(t_all))).astype(int))
        refs = {"t": t_all[pick], "nernst": {}, "ghk": []}
        # with water flow the concentrations are the counts over the volumes of that time
        vcols = [f"{c}.volume_um3" for c in model.comps]
        water = None
        if all(col in self.run.columns for col in vcols):
            from ionmc.engine.volume import Water

            water = Water(model)
            vols = [self.stat(col)["mean"] for col in vcols]
        for k in pick:
            x = np.zeros(model.nx)
            for i, m in means.items():
                x[i] = m.iloc[k]
            if water is not None:
                water.apply(np.array([v.iloc[k] for v in vols]))
            b = membrane_budget(model, mi, x)
            for s, v in b["nernst_mV"].items():
                refs["nernst"].setdefault(s, []).append(v)
            refs["ghk"].append(b.get("ghk_mV", np.nan))
        return refs

    def potentials(self):
        mems = [m for m in self.d["membranes"] if f"{m}.V_mV" in self.run.columns]
        if not mems:
            return None
        fig, axes = self._fig(len(mems), ncols=1, h=3.8)
        alt = []
        for ax, m in zip(axes, mems):
            v = self.stat(f"{m}.V_mV")["mean"].to_numpy()
            self._line(ax, f"{m}.V_mV", f"V: {v[0]:.3g} → {v[-1]:.3g} mV", "black", lw=2.0)
            alt.append(f"V of {m} {v[0]:.3g} to {v[-1]:.3g} mV")
            refs = self._references(list(self.d["membranes"]).index(m))
            if refs:
                for s, e in refs["nernst"].items():
                    ax.plot(refs["t"], e, ls="--", lw=1.2, color=self.colour[s],
                            label=f"E_{s}: {e[-1]:.3g} mV")
                    alt.append(f"E_{s} ends at {e[-1]:.3g} mV")
                if np.isfinite(refs["ghk"]).any():  # undefined with no permeable leak
                    ax.plot(refs["t"], refs["ghk"], ls="-.", lw=1.2, color="0.5",
                            label=f"GHK: {refs['ghk'][-1]:.3g} mV")
            ax.set_title(f"membrane {m}")
            ax.set_ylabel("potential (mV)")
            ax.grid(True, axis="y", color="0.9", lw=0.6)
            ax.legend(ncol=3, loc="best")
        self._time_axes(axes)
        self.alt["Membrane potential"] = ("Membrane potential against time with its Nernst "
                                          "and GHK references: " + "; ".join(alt) + ".")
        return ("Membrane potential", "V (inside minus outside) with the Nernst potential of "
                "each ion (dashed, in the ion's colour) and the leaks' GHK potential "
                "(dash-dot) at the mean concentrations of each time." + self._event_note()
                + self._band_note(), fig)

    def turnover(self):
        # ion-moving mechanisms, each in the panel its type names (the metabolic pool has
        # its own figure)
        panel = {m["name"]: REGISTRY[m["type"]].MECHANISM.TURNOVER_PANEL
                 for m in self.d["mechanisms"] if f"{m['name']}.forward" in self.run.columns}
        mechs = [name for name, p in panel.items() if p is not None]
        if not mechs:
            return None
        pumps = [name for name in mechs if panel[name] == "cycles"]
        others = [m for m in mechs if m not in pumps]
        groups = [(g, t, u) for g, t, u in (
            (pumps, "pump cycles", "net cycles/s"),
            (others, "net forward firings (leak: inside → outside)", "firings/s")) if g]
        currents = [n for n in mechs if f"{n}.current_pA" in self.run.columns]
        fig, axes = self._fig(len(groups) + bool(currents), ncols=2, h=3.4)
        for ax, (group, title, unit) in zip(axes, groups):
            rates = {}
            for name in group:
                f, b = self.stat(f"{name}.forward"), self.stat(f"{name}.backward")
                r = analysis.rate({"mean": f["mean"] - b["mean"]})
                keep = thin(r.to_numpy())
                rates[name] = (r.index[keep], r.to_numpy()[keep])
            k, suffix = count_scale(np.concatenate([v for _, v in rates.values()]))
            for name, (t, v) in rates.items():
                ax.plot(t, v * k, label=name, lw=1.6, color=self.mcolour[name])
            ax.axhline(0, color="0.6", lw=0.8)
            self._label(ax, unit + suffix, title)
        if currents:
            ax = axes[-1]
            for name in currents:
                self._line(ax, f"{name}.current_pA", name, self.mcolour[name])
            ax.axhline(0, color="0.6", lw=0.8)
            self._label(ax, "current (pA)", "currents (outward +)")
        self._time_axes(axes)
        cur = []
        for name in currents:
            m = self.stat(f"{name}.current_pA")["mean"].to_numpy()
            m = m[np.isfinite(m)]
            if m.size:
                cur.append(f"{name} {m[0]:.3g} to {m[-1]:.3g} pA")
        self.alt["Mechanisms"] = ("Turnover and current of each mechanism against time ("
                                  + ", ".join(mechs) + ")"
                                  + ("; currents " + ", ".join(cur) if cur else "") + ".")
        return ("Mechanisms", "Turnover of each mechanism (the rate of its net forward count) "
                "and its mean current over each record interval; each mechanism keeps its "
                "colour in every figure (a leak the colour of its ion)." + self._event_note(),
                fig)

    # -- thermodynamics --------------------------------------------------------------------
    WORK_TERMS = (("thermo.atp_work_J", "ATP work"), ("thermo.clamp_work_J", "clamp work"),
                  ("thermo.bath_exchange_J", "bath exchange"),
                  ("thermo.event_work_J", "event work"),
                  ("thermo.water_work_J", "water work"),
                  ("thermo.stimulus_work_J", "stimulus work"),
                  ("thermo.chemical_work_J", "chemical work"))

    def ledger_numbers(self):
        """The ledger's terms at the run's end (mean over replicates, J) and its closure:
        {"G0", "G1", "S_mix0", "S_mix1", "TS_prod", "work": {label: J},
        "residual", "relative"}, or None when the run has no ledger."""
        need = ["thermo.free_energy_J", "thermo.mixing_entropy_J_per_K",
                "thermo.entropy_production_J_per_K"]
        if any(c not in self.run.columns for c in need):
            return None
        T = self.d["scenario"]["temperature_K"]
        g = self.stat("thermo.free_energy_J")["mean"]
        s = self.stat("thermo.mixing_entropy_J_per_K")["mean"]
        ts = self.stat("thermo.entropy_production_J_per_K")["mean"] * T
        work = {lab: float(self.stat(c)["mean"].iloc[-1]) for c, lab in self.WORK_TERMS
                if c in self.run.columns and np.any(self.stat(c)["mean"].to_numpy() != 0)}
        out = {"T": T, "G0": float(g.iloc[0]), "G1": float(g.iloc[-1]),
               "S_mix0": float(s.iloc[0]), "S_mix1": float(s.iloc[-1]),
               "TS_prod": float(ts.iloc[-1]), "work": work}
        if "thermo.balance_residual_J" in self.run.columns:
            res = float(self.stat("thermo.balance_residual_J")["mean"].abs().max())
            scale = max([float(ts.abs().max()), float(g.abs().max())]
                        + [float(self.stat(c)["mean"].abs().max()) for c, _ in
                           self.WORK_TERMS if c in self.run.columns] + [1e-300])
            out["residual"], out["relative"] = res, res / scale
        return out

    def thermodynamics(self):
        need = ["thermo.free_energy_J", "thermo.mixing_entropy_J_per_K",
                "thermo.entropy_production_J_per_K", "thermo.atp_work_J"]
        if any(c not in self.run.columns for c in need):
            return None
        T = self.d["scenario"]["temperature_K"]
        fig, axes = self._fig(4, ncols=2, h=3.4)
        g = self.stat("thermo.free_energy_J")["mean"]
        k, u = si_scale(g, "J")
        self._line(axes[0], "thermo.free_energy_J", "G stored", QUANTITY_COLOURS["G"], k)
        axes[0].set_ylabel(u)
        axes[0].set_title("free energy stored in the gradients, G")
        s = self.stat("thermo.mixing_entropy_J_per_K")["mean"]
        k, u = si_scale(s, "J/K")
        self._line(axes[1], "thermo.mixing_entropy_J_per_K", "S_mix", QUANTITY_COLOURS["S_mix"],
                   k)
        axes[1].axhline(0, color="0.6", lw=0.8)
        axes[1].set_ylabel(u)
        axes[1].set_title("mixing entropy below the fully mixed state (0)")
        # work in and heat out: in a steady state they are equal and would be drawn on top
        # of each other, so the work is a wide pale band and T·S a thin dashed line over it
        terms = [(c, lab) for c, lab in self.WORK_TERMS if c in self.run.columns
                 and np.any(self.stat(c)["mean"].to_numpy() != 0)]
        vals = [self.stat(c)["mean"].to_numpy() for c, _ in terms]
        vals.append(self.stat("thermo.entropy_production_J_per_K")["mean"].to_numpy() * T)
        k, u = si_scale(np.concatenate(vals), "J")
        for c, lab in terms:
            self._line(axes[2], c, lab, QUANTITY_COLOURS[lab], k, lw=5.0, alpha=0.45)
        self._line(axes[2], "thermo.entropy_production_J_per_K", "T·S produced (heat)",
                   QUANTITY_COLOURS["T·S produced"], k * T, ls="--", lw=1.6)
        self._label(axes[2], f"{u} (cumulative)", "work done on the cell and heat dissipated")
        cols = [(m["name"], f"{m['name']}.entropy_production_J_per_K")
                for m in self.d["mechanisms"]]
        cols = [(n, c) for n, c in cols if c in self.run.columns]
        if cols:
            k, u = si_scale(np.concatenate([self.stat(c)["mean"].to_numpy() * T
                                            for _, c in cols]), "J")
            for name, col in cols:
                self._line(axes[3], col, name, self.mcolour[name], k * T)
        self._label(axes[3], f"T·S produced ({u})", "where the entropy is made")
        apart = sorted(n for n, _ in cols if n in self.outside_total())
        self._time_axes(axes)
        L = self.ledger_numbers()
        self.alt["Thermodynamics"] = (
            f"Free energy stored goes from {si_format(L['G0'], 'J')} to "
            f"{si_format(L['G1'], 'J')}; mixing entropy from {si_format(L['S_mix0'], 'J/K')} "
            f"to {si_format(L['S_mix1'], 'J/K')}; cumulative work "
            + ", ".join(f"{lab} {si_format(v, 'J')}" for lab, v in L["work"].items())
            + f" against heat T·S produced {si_format(L['TS_prod'], 'J')}; and the entropy "
            "produced by each mechanism.")
        cols = self.run.columns
        caption = ("The ledger: G(t) − G(0) = W_ATP + W_clamp + W_bath + W_event"
                   + (" + W_water" if "thermo.water_work_J" in cols else "")
                   + (" + W_stim" if "thermo.stimulus_work_J" in cols else "")
                   + (" + W_chem" if "thermo.chemical_work_J" in cols else "")
                   + " − T·S_prod (see the text above)."
                   + (f" {', '.join(apart)}: a metabolic reservoir's own chemistry, outside "
                      "the ledger's total T·S_prod, shown for comparison." if apart else "")
                   + self._event_note()
                   + self._band_note())
        if "residual" in L:
            caption += (f" Largest balance residual: {L['residual']:.3g} J "
                        f"({L['relative']:.2g} of the largest term).")
        return "Thermodynamics", caption, fig

    def volume(self):
        comps = [c for c, spec in self.d["compartments"].items()
                 if not spec["bath"] and f"{c}.volume_um3" in self.run.columns]
        if not comps:
            return None
        fig, axes = self._fig(2, ncols=2, h=3.4)
        for c, colour in zip(comps, FALLBACK[15:] + FALLBACK):
            self._line(axes[0], f"{c}.volume_um3", c, colour,
                       1.0 / self.d["compartments"][c]["volume_um3"])
        self._label(axes[0], "volume / initial volume", "compartment volumes")
        T = self.d["scenario"]["temperature_K"]
        k, u = si_scale(np.concatenate([
            self.stat("thermo.water_entropy_production_J_per_K")["mean"].to_numpy() * T,
            self.stat("thermo.water_work_J")["mean"].to_numpy()]), "J")
        self._line(axes[1], "thermo.water_entropy_production_J_per_K", "T·S produced by water "
                   "flow", QUANTITY_COLOURS["T·S produced"], k * T, ls="--")
        self._line(axes[1], "thermo.water_work_J", "water work (G change at fixed counts)",
                   QUANTITY_COLOURS["water work"], k, lw=5.0, alpha=0.45)
        self._label(axes[1], f"{u} (cumulative)", "osmotic water flow")
        self._time_axes(axes)
        self.alt["Volume"] = ("Relative volume of " + ", ".join(comps) + " against time, and "
                              "the water flow's dissipation and work.")
        return ("Volume", "Water follows osmotic differences through each membrane's water "
                "permeability; the flow's dissipation and the ledger's water term."
                + self._event_note() + self._band_note(), fig)

    # -- noise -----------------------------------------------------------------------------
    def noise_prediction(self, mem):
        """The white shot-noise prediction of V's fluctuations on membrane `mem` at the
        run's final mean state: {"C", "tau", "sd_shot", "sd_thermal", "gross"} (SI).

        Each transition r moves q_r elementary charges into the inside at rate a_r; the
        charge's drift f(Q) = sum_r q_r a_r relaxes with tau = -1/f'(Q), and the transitions
        as independent Poisson processes (Campbell's theorem) give the charge a variance
        tau/2 sum_r q_r^2 a_r, so sigma_V^2 = (e/C)^2 tau/2 sum_r q_r^2 a_r = e^2 sum_r q_r^2
        a_r / (2 C g) with g = C/tau (Stevens 1972, Biophys J 12:1028; the leaks' gross
        fluxes are the GHK unidirectional fluxes, Hodgkin & Katz 1949). At equilibrium
        detailed balance makes it k_B T / C (Nyquist 1928). A multi-step pump's steps are
        not independent, and its real noise lies below this formula (the linear-noise
        approximation, van Kampen 2007, is what the verification compares it with)."""
        from ionmc.constants import E_CHARGE, K_B
        from ionmc.engine.checks import _propensities

        model = self.model
        st = self._state_columns(model)
        mi = model.mems.index(mem)
        if st is None or model.mem_clamped[mi]:
            return None
        x = np.zeros(model.nx, np.int64)
        for i, col in st.items():
            x[i] = int(round(float(self.stat(col)["mean"].iloc[-1])))
        C = float(model.mem_C[mi])
        q = model.membrane_charges(mi)
        inside = self.d["membranes"][mem]["inside"]
        # move V by ~0.1 mV with ions of a charged, unclamped species inside
        cand = [(s, z) for s, z in zip(model.species, model.charge)
                if z != 0 and not model.clamped[model.idx(inside, s)]
                and x[model.idx(inside, s)] > 0]
        if not cand:
            return None
        s, z = cand[0]
        i = model.idx(inside, s)
        dn = max(1, int(round(1e-4 * C / (E_CHARGE * abs(z)))))

        def drift(dx):
            y = x.copy()
            y[i] += dx
            a, _ = _propensities(model, y)
            return float(q @ a), a

        fp, _ = drift(dn)
        fm, _ = drift(-dn)
        _, a = drift(0)
        slope = (fp - fm) / (2 * dn * z)
        if not slope < 0:
            return None
        tau = -1.0 / slope
        gross = float((q ** 2) @ a)
        sd = math.sqrt(tau / 2.0 * gross) * E_CHARGE / C
        T = self.d["scenario"]["temperature_K"]
        return {"C": C, "tau": tau, "sd_shot": sd, "sd_thermal": math.sqrt(K_B * T / C),
                "gross": gross}

    def linear_noise_sd(self, mem):
        """SD of V (mV) on membrane `mem` in the linear-noise approximation at the
        scenario's deterministic steady state (analysis.linear_noise), or None."""
        from ionmc.analysis.lna import LNAError, linear_noise

        try:
            return linear_noise(self.model).v_sd[mem] * 1e3 or None
        except (LNAError, np.linalg.LinAlgError, ValueError):
            return None

    def noise(self):
        if self.run.replicates < 2 or self.run.manifest.get("method") == "ode":
            return None
        comps = [c for c, spec in self.d["compartments"].items() if not spec["bath"]]
        if not comps:
            return None
        smallest = min(comps, key=lambda c: self.d["compartments"][c]["volume_um3"])
        species = [s for s, sp in self.d["species"].items() if sp["permeant"]
                   and f"{smallest}.{s}.count" in self.run.columns]
        mems = [m for m in self.d["membranes"] if f"{m}.V_mV" in self.run.columns]
        if not species and not mems:
            return None
        fig, axes = self._fig(4 if mems else 2, ncols=2, h=3.4)
        axes = list(axes)
        rows, alt = [], []
        if mems:
            mem = next((m for m in mems if self.d["membranes"][m]["inside"] == smallest),
                       mems[0])
            col = f"{mem}.V_mV"
            pred = self.noise_prediction(mem)
            t_all = self.stat(col).index.to_numpy()
            # stationary samples: after the last event and five relaxation times, but keep
            # at least the last half of the run
            t0 = max(self.events, default=t_all[0]) + 5 * (pred["tau"] if pred else 0.0)
            t_min = min(t0, t_all[0] + 0.5 * (t_all[-1] - t_all[0]))
            sd, _ = analysis.noise_sd(self.run, col, t_min=t_min)
            # samples closer than ~2 tau are correlated: the SE counts the independent ones
            n_ind = np.sum(t_all >= t_min) * self.run.replicates
            if pred:
                dt = t_all[1] - t_all[0]
                n_ind = max(2.0, n_ind * min(1.0, dt / (2 * pred["tau"])))
            se = sd / math.sqrt(2 * (n_ind - 1))
            rows.append((f"SD of V ({mem}), measured", f"{sd:.4g} mV ± {se:.2g} (SE, "
                         f"{self.run.replicates} replicates after t = {t_min:.3g} s)"))
            if pred:
                rows += [("membrane capacitance C", si_format(pred["C"], "F")),
                         ("relaxation time τ = C/g (g: slope conductance)",
                          si_format(pred["tau"], "s")),
                         ("thermal: √(k_BT/C)", f"{pred['sd_thermal'] * 1e3:.4g} mV"),
                         ("shot noise: √(e² Σ q²a / 2Cg)", f"{pred['sd_shot'] * 1e3:.4g} mV"),
                         ("measured / shot noise", f"{sd / (pred['sd_shot'] * 1e3):.3g}")]
            lna = self.linear_noise_sd(mem)
            if lna:
                # the shot-noise formula treats every jump as independent; the linear-noise
                # approximation keeps back-steps and the pumps' held charge
                rows += [("linear-noise approximation (steady state)", f"{lna:.4g} mV"),
                         ("measured / linear-noise", f"{sd / lna:.3g}")]
            _, v = analysis.stationary_samples(self.run, col, t_min)
            dev = (v - v.mean(axis=1, keepdims=True)).ravel()
            ax = axes[0]
            ax.hist(dev, bins=50, density=True, color="0.6", label=f"measured, SD {sd:.3g} mV")
            xs = np.linspace(dev.min(), dev.max(), 200)
            if pred:
                for sdv, lab, sty in ((pred["sd_shot"] * 1e3, "shot noise", "-"),
                                      (pred["sd_thermal"] * 1e3, "k_BT/C", "--")):
                    ax.plot(xs, np.exp(-xs ** 2 / (2 * sdv ** 2)) / (sdv * math.sqrt(2 * math.pi)),
                            color="black", ls=sty, lw=1.4, label=f"{lab}: {sdv:.3g} mV")
            self._label(ax, "probability density (1/mV)", f"V − its mean ({mem})")
            ax.set_xlabel("mV")
            psd = analysis.power_spectrum(self.run, col, t_min=t_min)
            psd = psd[psd.index > 0]
            ax = axes[1]
            ax.loglog(psd.index, psd.to_numpy(), color="0.4", lw=1.4, label="measured (Welch)")
            if pred:
                # V relaxing with tau under white noise (an Ornstein-Uhlenbeck process)
                # sampled every dt is an AR(1) series with phi = exp(-dt/tau); its one-sided
                # spectrum, aliasing included, is 2 dt sigma^2 (1 - phi^2) /
                # (1 - 2 phi cos(2 pi f dt) + phi^2) (Box & Jenkins 1976, Time Series
                # Analysis, ch. 3); for dt << tau it is the Lorentzian 4 sigma^2 tau /
                # (1 + (2 pi f tau)^2)
                f = psd.index.to_numpy()
                dt = t_all[1] - t_all[0]
                phi = math.exp(-dt / pred["tau"])
                for sdv, lab, sty in ((pred["sd_shot"] * 1e3, "shot noise", "-"),
                                      (pred["sd_thermal"] * 1e3, "k_BT/C", "--")):
                    ax.loglog(f, 2 * dt * sdv ** 2 * (1 - phi ** 2)
                              / (1 - 2 * phi * np.cos(2 * np.pi * f * dt) + phi ** 2),
                              color="black", ls=sty, lw=1.4, label=lab)
            ax.set_xlabel("frequency (Hz)")
            self._label(ax, "power (mV²/Hz)", "power spectrum of V")
            alt.append(f"V fluctuations with SD {sd:.3g} mV"
                       + (f" against the shot-noise {pred['sd_shot'] * 1e3:.3g} mV and the "
                          f"thermal {pred['sd_thermal'] * 1e3:.3g} mV" if pred else "")
                       + ", and their power spectrum")
            axes = axes[2:]
        if species:
            ax = axes[0]
            n_, cv_ = [], []
            for c in comps:
                for s in species:
                    colname = f"{c}.{s}.count"
                    if colname not in self.run.columns:
                        continue
                    st = self.stat(colname)
                    m, sdv = float(st["mean"].iloc[-1]), float(st["sd"].iloc[-1])
                    if m > 0 and sdv > 0:
                        n_.append(m)
                        cv_.append(sdv / m)
                        ax.loglog([m], [sdv / m], "o", color=self.colour[s], ms=7,
                                  label=f"{s} in {c}")
            if n_:
                nn = np.geomspace(min(n_) / 2, max(n_) * 2, 50)
                ax.loglog(nn, 1 / np.sqrt(nn), color="black", lw=1, ls="--",
                          label="Poisson: 1/√N")
            ax.set_xlabel("mean count N")
            t_end = self.stat(f"{smallest}.{species[0]}.count").index[-1]
            self._label(ax, "CV (SD/mean)", f"CV of each count against its mean, t = {t_end:g} s")
            ax = axes[1]
            for s in species:
                colname = f"{smallest}.{s}.count"
                cv = analysis.cv_over_time(self.run, colname, self.stat(colname))
                ax.plot(cv.index, cv.to_numpy(), color=self.colour[s], label=s, lw=1.6)
            ax.set_yscale("log")
            readable_log_axis(ax)
            ax.set_xlabel("time (s)")
            self._events(ax)
            self._label(ax, "SD / mean", f"CV of each count in {smallest} over time")
            alt.append("the coefficient of variation of each count against its mean count and "
                       "over time")
        self.noise_table = rows
        self.alt["Noise"] = (f"{self.run.replicates} replicates: " + "; ".join(alt) + ".")
        return ("Noise", f"{self.run.replicates} replicates. Top: V's fluctuations about each "
                "replicate's mean after the burn-in, as a histogram and as a power spectrum, "
                "against the shot-noise formula (solid) and the equilibrium k_BT/C (dashed), "
                "each a Lorentzian with the relaxation time τ = C/g as sampled every record "
                "interval (aliasing included). Bottom: the CV of each "
                "count at the end against its mean N (dashed: 1/√N), and over time.", fig)

    def all(self):
        import matplotlib

        out = []
        # the figures of the mechanism types in the run (each type's report_figure)
        own = [lambda mod=mod: mod.report_figure(self) for mod in self.types
               if hasattr(mod, "report_figure")]
        with matplotlib.rc_context(STYLE):
            for f in (self.concentrations, self.potentials, self.turnover,
                      self.thermodynamics, *own, self.volume, self.noise):
                r = f()
                if r is None:
                    continue
                title, caption, fig = r
                for ax in fig.axes:
                    # a type's own figure may set a log axis: label it readably too
                    if ax.get_visible() and ax.get_yscale() == "log" \
                            and ax.get_xscale() != "log":
                        readable_log_axis(ax)
                    fmt = ax.yaxis.get_major_formatter()
                    if hasattr(fmt, "set_useMathText"):  # "×10⁷", not "1e7", over an axis
                        fmt.set_useMathText(True)
                    title_room(ax)  # after any title set after the events were marked
                place_legends(fig)
                self.alt.setdefault(title, f"{title}: {caption}")
                out.append(r)
        return out
