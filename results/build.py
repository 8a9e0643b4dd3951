"""`make results`: run the built-in scenarios, write their reports (Markdown + PNG) under
results/, and results/README.md — the seed essay's claims next to what ionmc computes, each
number measured from a run or from `ionmc energetics`, with the command that reproduces it.

Parquet logs go to results/runs/ (not committed); reports and the table are committed.
usage: python results/build.py
"""
import copy
import math
import shutil

import numpy as np
import sys
from pathlib import Path

import ionmc
from ionmc import analysis
from ionmc.thermo.energetics import energetics
from ionmc.analysis.report import build as build_report
from ionmc.constants import F, R
from ionmc.scenario import load_scenario, validate

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
ODE = "scenario.method=ode"  # a bare word is a string to --set


def run(name, *overrides, duration=None, tag=None, events=None):
    """Run a built-in into results/runs/TAG, write results/TAG/report.md; return the Run.
    `events` replaces the scenario's events."""
    tag = tag or name
    out = RUNS / tag
    shutil.rmtree(out, ignore_errors=True)
    sc = load_scenario(name, list(overrides), duration=duration)
    if events is not None:
        data = copy.deepcopy(sc.data)
        data["events"] = events
        sc = validate(data, sc.source)
    ionmc.run(sc, out, progress=False)
    (HERE / tag).mkdir(exist_ok=True)
    build_report(out, HERE / tag / "report.md", fmt="md")
    return analysis.open_run(out)


def cmd(name, *overrides, duration=None):
    parts = ["ionmc run", name, f"-o out/{name}"]
    if duration:
        parts.append(f"--duration {duration:g}")
    parts += [f"--set {o}" for o in overrides]
    return " ".join(parts)


def claims():
    rows = []  # (claim, ionmc, how)
    rest = energetics(load_scenario("resting_neuron"))["membranes"]["soma"]
    en_cmd = "`ionmc energetics resting_neuron`"
    rows.append(("A pump cycle (3 Na+ out, 2 K+ in) costs about 41.5 kJ/mol",
                 f"{rest['pump_cycle_dG_kJ_per_mol']:.2f} kJ/mol at Na 15/145, K 140/5 mM, "
                 "−70 mV, 310 K", en_cmd))
    rows.append(("One Na+ entering releases about 12.6 kJ/mol",
                 f"{rest['dG_influx_kJ_per_mol']['Na']:.2f} kJ/mol (K+ entering: "
                 f"{rest['dG_influx_kJ_per_mol']['K']:+.2f})", en_cmd))
    rows.append(("The pump is electrogenic: a few mV of the resting potential",
                 f"{rest['pump_electrogenic_mV']:.2f} mV (slope resistance "
                 f"{rest['input_resistance_MOhm']:.0f} MΩ; "
                 f"{rest['pump_electrogenic_chord_mV']:.2f} mV with chord conductances)",
                 en_cmd))
    rows.append(("Most of V is the K+ battery's diffusion potential (>90%)",
                 f"{100 * rest['diffusion_share']:.1f}% of V is diffusion potential (1 − pump "
                 f"share, slope R); K+ term of the chord equation {100 * rest['k_battery_share']:.0f}%"
                 " (Cl− at equilibrium carries part)", en_cmd))
    rows.append(("A neuron burns hundreds of millions of O2 per second",
                 f"{rest['o2_molecules_per_s']:.2g} O2/s for a 1000 µm³ soma at rest "
                 f"(200 MΩ, {rest['atp_per_s']:.2g} ATP/s, 5 ATP per O2), pumps only", en_cmd))
    eb = run("energy_budget")
    eb_b = energetics(load_scenario("energy_budget"))["membranes"]["soma"]
    t, o2 = analysis.read_column(eb, "neuron.o2_consumed")
    k = int(abs(t - 10.0).argmin())
    o2_rate = (o2[0, -1] - o2[0, k]) / (t[-1] - t[k])
    rows.append(("(the same) a whole firing neuron",
                 f"{o2_rate:.3g} O2/s simulated ({eb_b['o2_molecules_per_s']:.3g} budgeted): "
                 "2e4 µm², 50 MΩ, 4 Hz, pumps half of the ATP", f"`{cmd('energy_budget')}`"))
    # simulated ATP use equals the budget
    r = run("resting_neuron", duration=60.0)
    s = analysis.ensemble_stats(r, ["pump.forward", "pump.backward"])
    net = s["pump.forward"]["mean"] - s["pump.backward"]["mean"]
    atp = (net.iloc[-1] - net.iloc[0]) / (net.index[-1] - net.index[0])
    rows.append(("(check) a simulated soma spends ATP at the budget's rate",
                 f"{atp:.4g} ATP/s simulated (tau-leap, 60 s) vs {rest['atp_per_s']:.4g} "
                 f"predicted ({100 * (atp / rest['atp_per_s'] - 1):+.2f}%)",
                 f"`{cmd('resting_neuron', duration=60)}`"))
    # pump block
    pb = run("pump_block")
    t, na = analysis.read_column(pb, "neuron.Na.mM")
    _, v = analysis.read_column(pb, "soma.V_mV")
    t_block = pb.manifest["events_fired"][0]["at_s"]
    na0 = na[0, 0]
    t2 = analysis.first_passage(pb, "neuron.Na.mM", 2 * na0).iloc[0] - t_block
    t70 = analysis.first_passage(pb, "neuron.Na.mM", 70.0).iloc[0] - t_block
    # the same cell in a bath instead of its closed 250 um^3 ECS
    bath = "compartments.ecs.bath=true"
    pbb = run("pump_block", bath, tag="pump_block_bath")
    t2b = analysis.first_passage(pbb, "neuron.Na.mM", 2 * na0).iloc[0] - t_block
    rows.append(("Stop the pump (ouabain) and the gradients run down in minutes",
                 f"Na_i doubles {t2:.0f} s after the block and reaches 70 mM at "
                 + (f"{t70:.0f} s" if not math.isnan(t70) else "> run end")
                 + f"; at {t[-1]:.0f} s Na_i {na[0, -1]:.1f} mM, V {v[0, -1]:.1f} mV "
                 "(1000 µm³ soma, 200 MΩ slope, a closed ECS of 250 µm³ that fills with K+); "
                 f"with a bath instead of the closed ECS Na_i doubles in {t2b:.0f} s",
                 f"`{cmd('pump_block')}` (and `--set {bath}`)"))
    # anoxia, and ouabain on the same cell for comparison
    an = run("anoxia")
    cut = an.manifest["events_fired"][0]["at_s"]
    onset = onset_after(an, cut)
    ob = run("anoxia", tag="anoxia_ouabain",
             events=[{"at_s": cut, "set": {"mechanisms.pump.block_fraction": 1.0}}])
    rows.append(("After anoxia the gradients collapse within minutes",
                 f"V rises 10 mV {onset:.0f} s after the O2 cut (PCr, then ATP run down "
                 f"first); the same cell with ouabain instead: {onset_after(ob, cut):.0f} s. "
                 "1 GΩ soma, 7 mM ATP + PCr, no glycolysis",
                 f"`{cmd('anoxia')}`"))
    # GAT1: 2 Na+ + Cl- + GABA in, net charge +1: limit (Na_o/Na_i)^2 (Cl_o/Cl_i) e^(-FV/RT)
    ga = run("gaba_uptake")
    col = {c: analysis.read_column(ga, c)[1][0] for c in
           ("cell.GABA.mM", "ecs.GABA.mM", "cell.Na.mM", "ecs.Na.mM", "cell.Cl.mM",
            "ecs.Cl.mM", "pm.V_mV")}
    # the limit at the driving force averaged over the last tenth of the run (GABA_i follows
    # it over hundreds of seconds, so one record's V would not do under a noisy method)
    tail = slice(-max(1, len(col["pm.V_mV"]) // 10), None)
    force = np.mean((col["ecs.Na.mM"][tail] / col["cell.Na.mM"][tail]) ** 2
                    * col["ecs.Cl.mM"][tail] / col["cell.Cl.mM"][tail]
                    * np.exp(-F * col["pm.V_mV"][tail] * 1e-3 / (R * 310.0)))
    ratio = col["cell.GABA.mM"][-1] / col["ecs.GABA.mM"][-1]
    rows.append(("GAT1 concentrates GABA to a thermodynamic limit",
                 f"GABA_i/GABA_o = {ratio:.4g} after {t_end(ga):.0f} s, "
                 f"{100 * ratio / force:.1f}% of the closed-form limit {force:.4g} "
                 "(2 Na+ : Cl− : GABA, at the last tenth's mean driving force)",
                 f"`{cmd('gaba_uptake')}`"))
    kd = run("kidney_sglt")
    g = {c: analysis.read_column(kd, c)[1][0, -1] for c in
         ("s1.glucose.mM", "s3.glucose.mM", "lumen.glucose.mM")}
    rows.append(("SGLT reabsorbs glucose against its gradient (kidney)",
                 f"SGLT2 cell: {g['s1.glucose.mM'] / g['lumen.glucose.mM']:.1f}x the lumen "
                 "(closed-form limit 132.8x for 1 Na+ : 1 glucose); SGLT1 cell: "
                 f"{g['s3.glucose.mM'] / g['lumen.glucose.mM']:.0f}x and still rising at "
                 f"{t_end(kd):.0f} s (limit 1.76e4x for 2 Na+; no basolateral exit modelled)",
                 f"`{cmd('kidney_sglt')}`"))
    # Cl- below its outside concentration
    dn = run("donnan")
    _, cl = analysis.read_column(dn, "cell.Cl.mM")
    cl_o = load_scenario("donnan").data["compartments"]["bath"]["concentrations_mM"]["Cl"]
    rows.append(("Cl− is held below its outside concentration: by Donnan alone ≈ 0.6",
                 f"Cl_i/Cl_o = {cl[0, -1] / cl_o:.3f} after {t_end(dn):.0f} s (closed form "
                 "0.627)", f"`{cmd('donnan')}`"))
    rc = load_scenario("resting_neuron").data["compartments"]
    kcc2 = load_scenario("resting_neuron").to_toml() + KCC2
    (RUNS / "kcc2.toml").write_text(kcc2)
    kc = load_scenario(RUNS / "kcc2.toml", [ODE,
                                            "scenario.start='steady_state'",
                                            f"mechanisms.Cl_leak.permeability_cm_per_s={P_CL}"],
                       duration=1.0)
    kdf = ionmc.simulate(kc)[0].iloc[-1]
    rows.append(("… and with the pump-held potential and KCC2 ≈ 0.06",
                 f"{rc['neuron']['concentrations_mM']['Cl'] / rc['ecs']['concentrations_mM']['Cl']:.3f}"
                 " with the pump-held −70 mV alone (Cl− at equilibrium with V); "
                 f"{kdf['neuron.Cl.mM'] / kdf['ecs.Cl.mM']:.3f} with KCC2 (1e4 /µm², P_Cl "
                 f"0.045 P_K) at its steady state, V {kdf['soma.V_mV']:.1f} mV",
                 "results/build.py (resting_neuron + KCC2, ode, start = steady_state)"))
    rows += activity_rows()
    return rows


def activity_rows():
    """Issue 5's half of the seed: firing loads Na+ and the pump follows, FXYD tunes it,
    astrocytes carry K+ away, failing pumps swell cells, and what an action potential
    costs."""
    rows = []
    # ode: the deterministic answer, as in the README's description of these scenarios
    fn = run("firing_neuron", ODE, duration=150.0)
    spec = next(m for m in load_scenario("firing_neuron").data["mechanisms"]
                if m["type"] == "spike_train")
    t, na = analysis.read_column(fn, "neuron.Na.mM")
    # two isoforms side by side: alpha1 ("pump") and alpha3 ("pump_a3")
    r1, r3 = net_rate(fn), net_rate(fn, "pump_a3")
    rate = r1 + r3
    start, stop = spec["start_s"], spec["stop_s"]
    rest, end = (t > start - 5) & (t < start), (t > stop - 5) & (t < stop)
    before, late = rate[rest].mean(), rate[end]
    share = [r3[w].mean() / rate[w].mean() for w in (rest, end)]
    extra3 = (r3[end].mean() - r3[rest].mean()) / (late.mean() - before)
    # recovery: the slope of ln(Na_i excess) from 10 s after the train on (tests/test_activity)
    after = (t >= stop + 10) & (t <= stop + 80)
    tau = -1.0 / np.polyfit(t[after], np.log(na[0, after] - na[0, 0]), 1)[0]
    rows.append(("Firing loads the cell with Na+ and the pump speeds up, then recovers",
                 f"Na_i {na[0, 0]:.1f} → {na[0, (t > start) & (t < stop)].max():.1f} mM during "
                 f"{stop - start:.0f} s at {spec['rate_Hz']:g} Hz; pump turnover "
                 f"+{100 * (late.mean() / before - 1):.0f}% by the train's end (α3 "
                 f"{100 * share[0]:.0f}% of the flux at rest, {100 * share[1]:.0f}% at the "
                 f"train's end, {100 * extra3:.0f}% of the extra); Na_i recovers "
                 f"with τ {tau:.1f} s (ode)",
                 f"`{cmd('firing_neuron', ODE, duration=150.0)}`"))
    fx = run("fxyd", ODE, "scenario.record_interval_s=0.01")
    t, na = analysis.read_column(fx, "neuron.Na.mM")
    rate = net_rate(fx)
    t_ev = fx.manifest["events_fired"][0]["at_s"]
    k = int(np.searchsorted(t, t_ev))  # first row after the event: Na_i has not moved yet
    peak = int(np.argmax(rate[k:k + 50])) + k
    # the cycle's steady-state law at the unchanged state before the event, both ways, and
    # the model's own apparent K0.5 for Na_i (0 mV, K_i 140, Na_o 145, K_o 5.4 mM) both ways
    from ionmc.mechanisms import nka, nka_cycle
    from ionmc.model import Model

    model = Model(load_scenario("fxyd"))
    mech = next(m for m in model.mechs if m.type == nka.TYPE)
    _, cin, cout = mech.membrane_sides(model)
    conc = [model.x0[model.idx(c, s)] * model.inv_nvol[model.idx(c, s)]
            for c, s in ((cin, "Na"), (cin, "K"), (cout, "Na"), (cout, "K"))]
    p = dict(mech.spec)
    law, k05 = [], []
    for f in (0.0, 1.0):
        q = dict(p, fxyd_phosphorylated=f)
        law.append(nka_cycle.turnover(q, *conc, -0.070))
        k05.append(nka_cycle.apparent_k05_na(q)[0])
    rows.append(("FXYD phosphorylation tunes the pump's Na+ affinity",
                 f"pump turnover ×{rate[peak] / rate[k - 2]:.2f} at its peak "
                 f"{1e3 * (t[peak] - t_ev):.0f} ms after the event (Na_i already "
                 f"{na[0, k - 1] - na[0, peak]:.2f} mM lower; the cycle's law at the same Na_i: "
                 f"×{law[1] / law[0]:.2f}); Na_i then settles at {na[0, -1]:.1f} mM from "
                 f"{na[0, 0]:.0f} (the model's apparent K0.5 for Na_i {k05[0]:.1f} → "
                 f"{k05[1]:.1f} mM, ×{k05[1] / k05[0]:.2f}; Despa et al. 2005 measured "
                 "18.8 → 13.6 mM, ×0.72; ode)",
                 f"`{cmd('fxyd', ODE, 'scenario.record_interval_s=0.01')}`"))
    # a sweep of two points: the astrocyte working (0) and inert (1), same spike times
    out = RUNS / "astrocyte_buffering"
    shutil.rmtree(out, ignore_errors=True)
    ionmc.run(load_scenario("astrocyte_buffering", [ODE]), out,
              progress=False)
    (HERE / "astrocyte_buffering").mkdir(exist_ok=True)
    build_report(out, HERE / "astrocyte_buffering" / "report.md", fmt="md", point=0)
    ko = [analysis.read_column(analysis.open_run(out, p), "ecs.K.mM")[1][0] for p in (0, 1)]
    peaks, k_o0 = [float(k.max()) for k in ko], float(ko[0][0])
    rows.append(("Astrocytes carry K+ away from firing neurons",
                 f"peak K_o {peaks[0]:.2f} mM with the astrocyte (Kir, pump, gap junctions), "
                 f"{peaks[1]:.2f} mM with it inert, from {k_o0:.1f} mM during the same 20 Hz "
                 "firing", f"`{cmd('astrocyte_buffering', ODE)}`"))
    sw = run("anoxic_swelling", ODE)
    t, vol = analysis.read_column(sw, "neuron.volume_um3")
    nocl = run("anoxic_swelling", ODE,
               "mechanisms.Cl_leak.permeability_cm_per_s=0.0", tag="anoxic_swelling_no_cl")
    _, vol2 = analysis.read_column(nocl, "neuron.volume_um3")
    rows.append(("Cells whose pumps fail swell (when Cl− can follow Na+)",
                 f"neuron volume +{100 * (vol[0, -1] / vol[0, 0] - 1):.1f}% {t[-1] - 30:.0f} s "
                 f"after the O2 cut; without a Cl− leak +{100 * (vol2[0, -1] / vol2[0, 0] - 1):.2f}%"
                 " (Dijkstra et al. 2016)",
                 f"`{cmd('anoxic_swelling', ODE)}` (and with --set "
                 "mechanisms.Cl_leak.permeability_cm_per_s=0)"))
    from ionmc.analysis.spikes import spike_metrics
    from ionmc.model import Model

    ap = run("action_potential", ODE)
    t, v = analysis.read_column(ap, "soma.V_mV")
    _, na_in = analysis.read_column(ap, "NaV.Na.net_efflux")
    sc = load_scenario("action_potential")
    stim = max(e["at_s"] for e in sc.data["events"])
    m = spike_metrics(t, v[0], -na_in[0], Model(sc).mem_C[0], t_from=stim)
    rows.append(("An action potential's Na+ entry (what the pump must pay back)",
                 f"{m['na_entry']:.3g} Na+ through the channels, {m['overlap_factor']:.2f}× the "
                 f"minimum C·ΔV/e (peak {m['peak_mV']:+.1f} mV; Attwell & Laughlin assumed 4, "
                 "Alle et al. 2009 measured 1.3)",
                 f"`{cmd('action_potential', ODE)}`"))
    return rows


KCC2 = """
[[mechanisms]]
type = "cotransporter"
name = "KCC2"
membrane = "soma"
preset = "KCC2"
density_per_um2 = 1e4
"""
P_CL = 2.9461968183403014e-07  # resting_neuron's P_Cl / 10: mature neurons' low Cl- leak


def net_rate(r, pump="pump"):
    """Net pump cycles per second of replicate 0 (gradient of forward - backward)."""
    t, fw = analysis.read_column(r, f"{pump}.forward")
    _, bw = analysis.read_column(r, f"{pump}.backward")
    return np.gradient(fw[0] - bw[0], t)


def onset_after(r, t_event):
    """Seconds from an event until V stands 10 mV above its value at the event."""
    t, v = analysis.read_column(r, "soma.V_mV")
    k = int(abs(t - t_event).argmin())
    return float(analysis.first_passage(r, "soma.V_mV", v[0, k] + 10.0).iloc[0]) - t_event


def t_end(r):
    return float(r.manifest.get("duration_s", 0.0))


def main():
    RUNS.mkdir(parents=True, exist_ok=True)
    rows = claims()
    from ionmc import __version__

    lines = ["# What ionmc computes for the seed's claims", "",
             "Generated by `make results` (results/build.py) with ionmc "
             f"{__version__}; every number below is measured from the run or the "
             "`ionmc energetics` budget named beside it. Reports with figures: "
             + ", ".join(f"[{d.name}]({d.name}/report.md)" for d in sorted(HERE.iterdir())
                         if (d / "report.md").is_file()) + ".", "",
             "| claim (seed essay) | ionmc | reproduce |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    (HERE / "README.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'README.md'}")
    # the figures of docs/validation.md: the model against what it is held to
    import validation

    validation.main()


if __name__ == "__main__":
    sys.exit(main())
