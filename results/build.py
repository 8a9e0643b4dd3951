"""`make results`: run the built-in scenarios, write their reports (Markdown + PNG) under
results/, and results/README.md — the seed essay's claims next to what ionmc computes, each
number measured from a run or from `ionmc energetics`, with the command that reproduces it.

Parquet logs go to results/runs/ (not committed); reports and the table are committed.
usage: python results/build.py
"""
import copy
import math
import shutil
import sys
from pathlib import Path

import ionmc
from ionmc import analysis
from ionmc.energetics import energetics
from ionmc.report import build as build_report
from ionmc.constants import F, R
from ionmc.scenario import load_scenario, validate

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"


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
    rows.append(("Stop the pump (ouabain) and the gradients run down in minutes",
                 f"Na_i doubles {t2:.0f} s after the block and reaches 70 mM at "
                 + (f"{t70:.0f} s" if not math.isnan(t70) else "> run end")
                 + f"; at {t[-1]:.0f} s Na_i {na[0, -1]:.1f} mM, V {v[0, -1]:.1f} mV "
                 "(1000 µm³ soma, 200 MΩ slope, ECS 250 µm³)",
                 f"`{cmd('pump_block')}`"))
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
    last = {c: analysis.read_column(ga, c)[1][0, -1] for c in
            ("cell.GABA.mM", "ecs.GABA.mM", "cell.Na.mM", "ecs.Na.mM", "cell.Cl.mM",
             "ecs.Cl.mM", "pm.V_mV")}
    lim = ((last["ecs.Na.mM"] / last["cell.Na.mM"]) ** 2 * last["ecs.Cl.mM"]
           / last["cell.Cl.mM"] * math.exp(-F * last["pm.V_mV"] * 1e-3 / (R * 310.0)))
    ratio = last["cell.GABA.mM"] / last["ecs.GABA.mM"]
    rows.append(("GAT1 concentrates GABA to a thermodynamic limit",
                 f"GABA_i/GABA_o = {ratio:.4g} after {t_end(ga):.0f} s, {100 * ratio / lim:.1f}% "
                 f"of the closed-form limit {lim:.4g} at the final state (2 Na+ : Cl− : GABA)",
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
    kc = load_scenario(RUNS / "kcc2.toml", ["scenario.method='ode'",
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


if __name__ == "__main__":
    sys.exit(main())
