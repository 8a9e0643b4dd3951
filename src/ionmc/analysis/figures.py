"""The report's figures (analysis/report.py): each drawn only when the run has its
columns; statistics use every record, plots draw at most `MAX_POINTS` times (a stride)."""
import math

import numpy as np

from ionmc.analysis import tables as analysis
from ionmc.mechanisms.registry import REGISTRY
from ionmc.thermo.energetics import membrane_budget

MAX_POINTS = 800
NREF = 60  # times at which Nernst/GHK references are evaluated


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class Figures:
    """Builds the figures of one run; each method returns (title, caption, figure) or None."""

    def __init__(self, run):
        self.run = run
        self.sc = run.scenario()
        d = self.sc.data
        self.d = d
        self.events = [e["at_s"] for e in run.manifest.get("events_fired", [])]
        cmap = pyplot().get_cmap("tab10")
        self.colour = {s: cmap(i % 10) for i, s in enumerate(d["species"])}
        self.stats = {}
        #: the mechanism types in the run, in registry order, and the species they keep
        #: in figures of their own (a metabolic pool's)
        used = {m["type"] for m in d["mechanisms"]}
        self.types = [mod for t, mod in REGISTRY.items() if t in used]
        self.own_species = {s for mod in self.types for s in getattr(mod, "OWN_SPECIES", ())}

    def stat(self, col):
        if col not in self.stats:
            self.stats.update(analysis.ensemble_stats(self.run, [col]))
        return self.stats[col]

    def _line(self, ax, col, label=None, colour=None, scale=1.0):
        s = self.stat(col)
        step = max(1, len(s) // MAX_POINTS)
        s = s.iloc[::step]
        t = s.index.to_numpy()
        ax.plot(t, s["mean"] * scale, label=label, color=colour, lw=1.4)
        if self.run.replicates > 1:
            ax.fill_between(t, s["q05"] * scale, s["q95"] * scale, color=colour, alpha=0.2,
                            lw=0)

    def _events(self, ax):
        for t in self.events:
            ax.axvline(t, color="0.4", ls=":", lw=1)

    @staticmethod
    def _label(ax, ylabel, title):
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=8)

    def _time_axes(self, axes):
        """Events marked and time on the x axis of every panel."""
        for ax in axes:
            self._events(ax)
            ax.set_xlabel("time (s)")

    def _fig(self, n, ncols=2, h=3.0):
        plt = pyplot()
        nrows = math.ceil(n / ncols)
        fig, axes = plt.subplots(nrows, min(n, ncols), figsize=(5.2 * min(n, ncols), h * nrows),
                                 squeeze=False, constrained_layout=True)
        axes = axes.ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
        return fig, axes[:n]

    # -- the figures ---------------------------------------------------------------------
    def concentrations(self):
        comps = [c for c, spec in self.d["compartments"].items() if not spec["bath"]]
        if not comps:
            return None
        fig, axes = self._fig(len(comps))
        for ax, c in zip(axes, comps):
            for s, sp in self.d["species"].items():
                col = f"{c}.{s}.mM"
                if sp["permeant"] and s not in self.own_species and col in self.run.columns:
                    self._line(ax, col, s, self.colour[s])
            self._events(ax)
            ax.set_title(f"{c} ({self.d['compartments'][c]['volume_um3']:g} µm³)")
            ax.set_xlabel("time (s)")
            ax.set_ylabel("concentration (mM)")
            ax.set_yscale("log")
            ax.legend(fontsize=8)
        return ("Concentrations", "Permeant species per compartment (log scale); dotted lines"
                " mark events." + self._band_note(), fig)

    def _band_note(self):
        return (" Lines: ensemble mean; bands: 5–95% of replicates."
                if self.run.replicates > 1 else "")

    def _references(self, mi):
        """Nernst and GHK potentials (mV) over time, from the mean counts."""
        from ionmc.model.compiled import Model

        model = Model(self.sc)
        st = {}
        for ci, c in enumerate(model.comps):
            for s in model.species:
                st[model.idx(c, s)] = f"{c}.{s}.count"
        for mech in model.mechs:
            for k, i in enumerate(mech.states):
                st[i] = f"{mech.name}.{mech.state_label(k)}.count"
            if mech.blocked is not None:
                st[mech.blocked] = f"{mech.name}.blocked.count"
        if any(col not in self.run.columns for col in st.values()):
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
        fig, axes = self._fig(len(mems), ncols=1, h=3.6)
        for mi, (ax, m) in enumerate(zip(axes, mems)):
            self._line(ax, f"{m}.V_mV", "V", "black")
            refs = self._references(list(self.d["membranes"]).index(m))
            if refs:
                for s, v in refs["nernst"].items():
                    ax.plot(refs["t"], v, ls="--", lw=1, color=self.colour[s], label=f"E_{s}")
                ax.plot(refs["t"], refs["ghk"], ls="-.", lw=1, color="0.5", label="GHK")
            self._events(ax)
            ax.set_title(f"membrane {m}")
            ax.set_xlabel("time (s)")
            ax.set_ylabel("potential (mV)")
            ax.legend(fontsize=8, ncol=3)
        return ("Membrane potential", "V (inside minus outside) with the Nernst potential of "
                "each ion and the leaks' GHK potential at the current mean concentrations."
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
        fig, axes = self._fig(3, ncols=3, h=3.2)
        for ax, group, title, unit in ((axes[0], pumps, "pump cycles", "net cycles/s"),
                                       (axes[1], others,
                                        "net forward firings (leak: inside → outside)",
                                        "events/s")):
            for name in group:
                f, b = self.stat(f"{name}.forward"), self.stat(f"{name}.backward")
                net = (f["mean"] - b["mean"])
                r = analysis.rate({"mean": net})
                step = max(1, len(r) // MAX_POINTS)
                ax.plot(r.index[::step], r.to_numpy()[::step], label=name, lw=1.3)
            self._events(ax)
            ax.set_title(title)
            ax.set_xlabel("time (s)")
            ax.set_ylabel(unit)
            if group:
                ax.legend(fontsize=8)
        for name in mechs:
            col = f"{name}.current_pA"
            if col in self.run.columns:
                self._line(axes[2], col, name)
        self._events(axes[2])
        axes[2].set_title("currents (outward +)")
        axes[2].set_xlabel("time (s)")
        axes[2].set_ylabel("pA")
        axes[2].legend(fontsize=8)
        return ("Mechanisms", "Turnover of each mechanism (the rate of its net forward count) "
                "and its mean current over each record interval.", fig)

    def thermodynamics(self):
        need = ["thermo.free_energy_J", "thermo.mixing_entropy_J_per_K",
                "thermo.entropy_production_J_per_K", "thermo.atp_work_J"]
        if any(c not in self.run.columns for c in need):
            return None
        T = self.d["scenario"]["temperature_K"]
        fig, axes = self._fig(4, ncols=2, h=3.0)
        fJ = 1e15
        self._line(axes[0], "thermo.free_energy_J", "G stored", "tab:blue", fJ)
        axes[0].set_ylabel("fJ")
        axes[0].set_title("free energy stored in the gradients")
        self._line(axes[1], "thermo.mixing_entropy_J_per_K", "S_mix", "tab:green", fJ)
        axes[1].set_ylabel("fJ/K")
        axes[1].set_title("mixing entropy (rises as gradients decay)")
        self._line(axes[2], "thermo.atp_work_J", "ATP work", "tab:red", fJ)
        self._line(axes[2], "thermo.entropy_production_J_per_K", "T·S produced", "tab:orange",
                   fJ * T)
        for col, lab in (("thermo.clamp_work_J", "clamp work"),
                         ("thermo.bath_exchange_J", "bath exchange"),
                         ("thermo.water_work_J", "water work"),
                         ("thermo.stimulus_work_J", "stimulus work")):
            if col in self.run.columns and np.any(self.stat(col)["mean"].to_numpy() != 0):
                self._line(axes[2], col, lab, None, fJ)
        self._label(axes[2], "fJ (cumulative)", "work done and heat dissipated")
        for m in self.d["mechanisms"]:
            col = f"{m['name']}.entropy_production_J_per_K"
            if col in self.run.columns:
                self._line(axes[3], col, m["name"], None, fJ * T)
        self._label(axes[3], "T·S produced (fJ)", "where the entropy is made")
        self._time_axes(axes)
        cols = self.run.columns
        caption = ("The ledger: G(t) − G(0) = W_ATP + W_clamp + W_bath"
                   " − T·S_prod"
                   + (" + W_water (volume.py)" if "thermo.water_work_J" in cols else "")
                   + (" + W_stim (current injection, injection.py)"
                      if "thermo.stimulus_work_J" in cols else "")
                   + "." + self._band_note())
        if "thermo.balance_residual_J" in self.run.columns:
            res = self.stat("thermo.balance_residual_J")["mean"].abs().max()
            scale = max(self.stat("thermo.atp_work_J")["mean"].abs().max(),
                        self.stat("thermo.free_energy_J")["mean"].abs().max(), 1e-300)
            caption += (f" Largest balance residual: {res:.3g} J ({res / scale:.2g} of the "
                        "largest term).")
        return "Thermodynamics", caption, fig

    def volume(self):
        comps = [c for c, spec in self.d["compartments"].items()
                 if not spec["bath"] and f"{c}.volume_um3" in self.run.columns]
        if not comps:
            return None
        fig, axes = self._fig(2, ncols=2, h=3.0)
        for c in comps:
            self._line(axes[0], f"{c}.volume_um3", c, None,
                       1.0 / self.d["compartments"][c]["volume_um3"])
        self._label(axes[0], "volume / initial volume", "compartment volumes")
        T = self.d["scenario"]["temperature_K"]
        self._line(axes[1], "thermo.water_entropy_production_J_per_K", "T·S produced by water "
                   "flow", "tab:orange", 1e15 * T)
        self._line(axes[1], "thermo.water_work_J", "water work (G change at fixed counts)",
                   "tab:blue", 1e15)
        self._label(axes[1], "fJ (cumulative)", "osmotic water flow")
        self._time_axes(axes)
        return ("Volume", "Water follows osmotic differences through each membrane's water "
                "permeability (volume.py); the flow's dissipation and the ledger's water term."
                + self._band_note(), fig)

    def noise(self):
        if self.run.replicates < 2:
            return None
        comps = [c for c, spec in self.d["compartments"].items() if not spec["bath"]]
        smallest = min(comps, key=lambda c: self.d["compartments"][c]["volume_um3"])
        species = [s for s, sp in self.d["species"].items() if sp["permeant"]
                   and f"{smallest}.{s}.count" in self.run.columns]
        if not species:
            return None
        fig, axes = self._fig(2, ncols=2, h=3.2)
        s0 = species[0]
        t, v = analysis.read_column(self.run, f"{smallest}.{s0}.count")
        for k in np.unique(np.linspace(len(t) // 3, len(t) - 1, 3).astype(int)):
            axes[0].hist(v[:, k], bins=min(40, max(5, self.run.replicates // 5)),
                         histtype="step", label=f"t = {t[k]:g} s")
        axes[0].set_title(f"{s0} count in {smallest}, across replicates")
        axes[0].set_xlabel("count")
        axes[0].set_ylabel("replicates")
        axes[0].legend(fontsize=8)
        for s in species:
            col = f"{smallest}.{s}.count"
            cv = analysis.cv_over_time(self.run, col, self.stat(col))  # read once
            axes[1].plot(cv.index, cv.to_numpy(), color=self.colour[s], label=s)
        axes[1].set_yscale("log")
        axes[1].set_title(f"coefficient of variation in {smallest}")
        axes[1].set_xlabel("time (s)")
        axes[1].set_ylabel("SD / mean")
        axes[1].legend(fontsize=8)
        return ("Noise", f"{self.run.replicates} replicates: distributions at three times, and "
                "the CV of each count over time.", fig)

    def all(self):
        out = []
        # the figures of the mechanism types in the run (each type's report_figure)
        own = [lambda mod=mod: mod.report_figure(self) for mod in self.types
               if hasattr(mod, "report_figure")]
        for f in (self.concentrations, self.potentials, self.turnover, self.thermodynamics,
                  *own, self.volume, self.noise):
            r = f()
            if r is not None:
                out.append(r)
        return out
