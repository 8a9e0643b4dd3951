"""The textbook energy budget of a scenario's initial state (`ionmc energetics`): what the
gradients store per ion, what the pump pays per cycle, and how much ATP and O2 it takes to
hold the state against the leaks.

Everything is computed from the compiled model's own initial counts, potentials and rate
parameters (temperature and Q10 included), with the closed forms of `closed_forms` — so a
simulated run of the same scenario can be checked against it.

Choices (docs/guide.md, "`ionmc energetics`"; docs/physics.md, "Energy budget"):
- "input_resistance_MOhm" is the *slope* resistance of all the membrane's leaks,
  1 / (dI_leak/dV) at fixed concentrations; the chord-conductance view is reported beside
  it ("chord_conductance_nS", "k_battery_share"). The per-molecule pump has a slope
  conductance of its own once its cycle has settled ("pump_slope_conductance_nS");
  "membrane_input_resistance_MOhm" counts it with the leaks', and is what a current step
  meets ("injection_dV_mV").
- "k_battery_share" is the K+ term's share of V in the chord-conductance equation
  V = (sum_s g_s E_s - I_pump) / sum_s g_s over all the leaks (Cl- included).
  "diffusion_share" is 1 - the pump's electrogenic share (slope resistance) over V;
  neither is defined at V = 0 (left out there).
- Two pump currents, never one standing for the other: "pump_current_pA" is what the
  scenario's own pumps carry at this state (their King-Altman turnover, one net charge out
  per cycle; 0 on a membrane without pumps), "balancing_pump_current_pA" what pumps would
  have to carry to balance the Na+ entry. They agree at a designed fixed point; when they
  differ by more than STEADY_TOLERANCE the state is not a steady state and the budget says
  so ("warnings"). The electrogenic share ("pump_electrogenic_mV") is the former's.
- "pump_cycles_per_s" / "atp_per_s" are the rates that balance the net Na+ entry through
  the leaks and, where the membrane has them, a spike train's mean Na+ load and the
  cotransporters' net Na+ flux at this state (/ 3, one ATP per cycle);
  "pump_model_cycles_per_s" is what the scenario's pumps actually turn over at this state.
- O2 per second = (pump ATP/s + the pool's basal ATP/s) / ATP per O2: the cell's pool's
  `ATP_per_O2` where it has one, else 5 (P/O ~2.5 per O atom: Hinkle, Biochim. Biophys.
  Acta 1706:1, 2005; Attwell & Laughlin, J. Cereb. Blood Flow Metab. 21:1133, 2001); "o2_for_pumps_per_s" is the pumps' part. With a pool, the pump's
  dG_ATP is the pool's, dG0' + RT ln([ADP][Pi]/[ATP]).
- Current injections (injection.py) into or out of a membrane's inside: the current now,
  the largest (by magnitude, several injections summed) that the events set, and its
  depolarisation through the slope input resistance at the initial concentrations.
"""
import math

from scipy.optimize import brentq

from ionmc.mechanisms.base import Mechanism
from ionmc.scenario.validate import moves_water
from ionmc.thermo.closed_forms import nak_cycle_dG, nernst
from ionmc.constants import E_CHARGE, F, R

ATP_PER_O2 = 5.0
#: the pumps' current and the balancing one may differ by this fraction before the budget
#: warns that the initial state is not a steady state
STEADY_TOLERANCE = 0.10
_KJ = 1e-3


def _on(model, mi):
    """The mechanisms on membrane mi."""
    return [m for m in model.mechs if m.spec.get("membrane") == model.mems[mi]]


def _concs(model, x):
    """concs(compartment, species) -> mM at state x."""
    return lambda comp, s: _conc(model, x, comp, s)


def _leak_current(model, mi, x, V):
    """Net outward current (A) of the membrane's conductances (leaks, Kir channels, and the
    voltage-gated channels at their steady-state open probability at V, so the resting
    budget counts their window currents, and slopes are steady-state slopes), per
    species."""
    per = {}
    concs = _concs(model, x)
    for mech in _on(model, mi):
        for s, i in mech.passive_current(model, V, concs).items():
            per[s] = per.get(s, 0.0) + i
    return per


def _conc(model, x, comp, s):
    if comp not in model.comps:  # the ground (base.GROUND): no ions
        return 0.0
    i = model.idx(comp, s)
    return float(x[i] * model.inv_nvol[i])


def _pool(model, x, mi):
    """The metabolic pool inside membrane mi, if any: ATP per O2, its basal ATP use (1/s)
    and dG_ATP (kJ/mol) at state x."""
    pool = model.pools.get(model.scenario.data["membranes"][model.mems[mi]]["inside"])
    if pool is None or pool.spec["membrane"] != model.mems[mi]:
        return None
    return pool.pool_budget(model, _concs(model, x))


def _propensities(model, x):
    """The kernels' own propensities of every transition at x (1/s), as the run's checks
    evaluate them (integer counts stay integer: no second compilation of the rate laws)."""
    from ionmc.engine.checks import _propensities

    return _propensities(model, x)[0]


def _transport(model, mi, x, V, a):
    """Per transporter on membrane mi (the kernels' own propensities a at x): its budget."""
    mechs = _on(model, mi)
    if not any(type(m).transport is not Mechanism.transport for m in mechs):
        return {}
    pool = _pool(model, x, mi)
    pool_dg = pool["dG_ATP_kJ_per_mol"] if pool else None
    out = {}
    for m in mechs:
        t = m.transport(model, x, V, a, _concs(model, x), pool_dg)
        if t is not None:
            out[m.name] = t
    return out


def buffers(model, x):
    """Per mechanism with a table of its own state (buffers: free ligand, free and bound
    sites in uM, the buffer capacity kappa_B)."""
    out = {}
    for m in model.mechs:
        t = m.summary(model, _concs(model, x))
        if t is not None:
            out[m.name] = t
    return out


def membrane_budget(model, mi, x, a=None):
    """Membrane `mi`'s budget at counts x: driving forces, the leaks' currents and
    conductances, what the pumps must do against them, and the transporters', injections'
    and water's terms (the keys of `ionmc energetics --json`). `a`: every transition's
    propensity at x, when the caller has it (one evaluation for all membranes)."""
    mspec = model.scenario.data["membranes"][model.mems[mi]]
    V = float(model.voltages(x)[mi])
    out = {"V_mV": V * 1e3, "clamped": bool(model.mem_clamped[mi])}
    out["nernst_mV"], out["dG_influx_kJ_per_mol"] = _driving_forces(model, mspec, x, V)
    per = _leak_current(model, mi, x, V)
    g_slope = _leak_terms(out, model, mi, x, V, per)
    if all(s in model.scenario.data["species"] for s in ("Na", "K")):
        cin, cout = (lambda s: _conc(model, x, mspec["inside"], s),
                     lambda s: _conc(model, x, mspec["outside"], s))
        conc = (cin("Na"), cin("K"), cout("Na"), cout("K"))
        if min(conc) > 0:  # as the driving forces: undefined with a side empty (an SR's Na+)
            out["pump_cycle_dG_kJ_per_mol"] = nak_cycle_dG(*conc, V, model.T) * _KJ
    if a is None:
        a = _propensities(model, x)
    trans = _transport(model, mi, x, V, a)
    _pump_models(out, model, mi, x)
    if "Na" in per:
        _pump_load(out, model, mi, x, V, per, trans, g_slope)
        _pump_current(out, V, g_slope)
    out.pop("_g_chord", None)
    _net_current(out, model, mi, a)
    dg = {n: t["dG_kJ_per_mol"] for n, t in trans.items() if "dG_kJ_per_mol" in t}
    atp = {n: t["atp_per_s"] for n, t in trans.items() if "atp_per_s" in t}
    if dg:
        out["transporter_dG_kJ_per_mol"] = dg
    if atp:
        out["transporter_atp_per_s"] = atp
    g_pumps = _pump_slope(out, model, mi, x, V)
    _injections(out, model, mi, mspec, g_slope + g_pumps if g_slope > 0 else 0.0)
    if moves_water(mspec):
        _water(out, model, mi, mspec, x)
    return out


def _driving_forces(model, mspec, x, V):
    """Nernst potentials (mV) and the free energy of moving one mole in (kJ/mol) of each
    permeant species present on both sides."""
    RT = R * model.T
    nernst_mV, dG = {}, {}
    for s, sp in model.scenario.data["species"].items():
        if not sp["permeant"]:
            continue
        cin = _conc(model, x, mspec["inside"], s)
        cout = _conc(model, x, mspec["outside"], s)
        if cin <= 0 or cout <= 0:
            continue
        z = sp["charge"]
        if z != 0:
            nernst_mV[s] = nernst(z, cin, cout, model.T) * 1e3
        # moving one mole from outside to inside: RT ln(c_in/c_out) + zFV
        dG[s] = (RT * math.log(cin / cout) + z * F * V) * _KJ
    return nernst_mV, dG


def _leak_terms(out, model, mi, x, V, per):
    """The leaks' GHK reversal, current, input resistance and chord conductances into
    `out`; returns the slope conductance (0 when no leak conducts)."""
    def total(v):
        return sum(_leak_current(model, mi, x, v).values())

    h = 1e-5
    g_slope = (total(V + h) - total(V - h)) / (2 * h) if per else 0.0
    if not g_slope > 0:  # no leak conducts (all at P = 0, e.g. a sweep's "off" point)
        return 0.0
    nernst_mV = out["nernst_mV"]
    out["ghk_mV"] = brentq(total, -0.3, 0.3, xtol=1e-12) * 1e3
    out["leak_current_pA"] = sum(per.values()) * 1e12
    out["leak_current_by_species_pA"] = {s: i * 1e12 for s, i in per.items()}
    out["input_resistance_MOhm"] = 1e-6 / g_slope
    # chord conductances g_s = I_s / (V - E_s): V = sum g_s E_s / sum g_s - I_pump / sum g
    chord = {s: per[s] / (V - nernst_mV[s] * 1e-3) for s in per
             if s in nernst_mV and abs(V - nernst_mV[s] * 1e-3) > 1e-9}
    out["chord_conductance_nS"] = {s: g * 1e9 for s, g in chord.items()}
    gsum = sum(chord.values())
    if "K" in chord and gsum > 0 and V != 0:
        out["k_battery_share"] = chord["K"] * nernst_mV["K"] * 1e-3 / gsum / V
    out["_g_chord"] = gsum
    return g_slope


def _pump_load(out, model, mi, x, V, per, trans, g_slope):
    """What the pumps must do to hold Na+ against the leaks, spike trains and
    transporters (3 Na+ out per cycle, one ATP per cycle), the O2 that costs, and the
    pump current's share of V."""
    na_influx = -per["Na"] / E_CHARGE  # ions/s entering (Na+ is +1)
    out["na_influx_per_s"] = na_influx
    # mean Na+ loads besides the leaks' (spike trains on this membrane)
    load = sum(m.mean_na_load(model) for m in _on(model, mi))
    if load:
        out["activity_na_per_s"] = load
    na_tr = [t["na_in_per_s"] for t in trans.values() if "na_in_per_s" in t]
    if na_tr:
        tr = sum(na_tr)
        out["transporter_na_per_s"] = tr
        load += tr
    cycles = (na_influx + load) / 3.0
    out["pump_cycles_per_s"] = cycles
    out["atp_per_s"] = cycles
    pool = _pool(model, x, mi)
    ratio = pool["atp_per_o2"] if pool else ATP_PER_O2
    basal = pool["basal_atp_per_s"] if pool else 0.0
    out["atp_per_o2"] = ratio
    out["o2_for_pumps_per_s"] = cycles / ratio
    if pool:
        out["basal_atp_per_s"] = basal
        out["pool_dG_ATP_kJ_per_mol"] = pool["dG_ATP_kJ_per_mol"]
    # what the cell breathes: the pumps' ATP plus the pool's basal load
    out["o2_molecules_per_s"] = (cycles + basal) / ratio
    # one net charge out per cycle; outward positive
    out["balancing_pump_current_pA"] = cycles * E_CHARGE * 1e12


def _pump_current(out, V, g_slope):
    """The current the scenario's pumps carry (one net charge out per cycle), its
    electrogenic share of V, and a warning when it is not the balancing one."""
    i_pump = out.get("pump_model_cycles_per_s", 0.0) * E_CHARGE
    out["pump_current_pA"] = i_pump * 1e12
    if g_slope > 0:
        out["pump_electrogenic_mV"] = -i_pump / g_slope * 1e3 + 0.0  # no "-0.00 mV"
        # "V comes from the K+ battery, not the pump": the part of V that is a diffusion
        # potential, 1 - (pump's share) with the slope resistance; no share of V = 0
        if V != 0:
            out["diffusion_share"] = 1.0 - out["pump_electrogenic_mV"] / (V * 1e3)
    if out.get("_g_chord", 0) > 0:
        out["pump_electrogenic_chord_mV"] = -i_pump / out["_g_chord"] * 1e3 + 0.0
    bal = out["balancing_pump_current_pA"]
    have = out["pump_current_pA"]
    if abs(have - bal) > STEADY_TOLERANCE * max(abs(have), abs(bal)):
        what = (f"the scenario's pumps carry {have:.3g} pA" if "pump_model_cycles_per_s"
                in out else "no pump on this membrane carries current")
        out.setdefault("warnings", []).append(
            f"not a steady state: {what}, {bal:.3g} pA would balance the Na+ entry "
            f"(differ by more than {STEADY_TOLERANCE:.0%}); the concentrations will move")


def _net_current(out, model, mi, a):
    """The membrane current of every mechanism at this state (outward +, pA), from the
    kernels' propensities and the charge each transition moves across the membrane
    (Model.tr_qm: generic, whatever the mechanism), their sum, and what it does to V;
    a warning when the sum exceeds STEADY_TOLERANCE of the largest single current (V is
    not at rest: the pumps' check alone missed a leak out of balance)."""
    import numpy as np

    q = model.membrane_charges(mi)  # charge (e) each transition adds to the inside
    per = {}
    for j in np.nonzero(q)[0]:
        name = model.mechs[model.tr_mech[j]].name
        per[name] = per.get(name, 0.0) - float(q[j] * a[j]) * E_CHARGE * 1e12
    if not per:
        return
    net = sum(per.values())
    out["current_by_mechanism_pA"] = {k: v + 0.0 for k, v in per.items()}
    out["net_current_pA"] = net + 0.0
    C = model.mem_C[mi]
    if model.mem_clamped[mi] or not C > 0:
        return  # the clamp holds V, whatever the current
    out["dV_dt_mV_per_s"] = -net * 1e-12 / C * 1e3 + 0.0
    big = max(per, key=lambda k: abs(per[k]))
    if abs(net) > STEADY_TOLERANCE * abs(per[big]):
        out.setdefault("warnings", []).append(
            f"not a steady state: the net membrane current is {net:.3g} pA (outward +), "
            f"more than {STEADY_TOLERANCE:.0%} of the largest single current ({big} "
            f"{per[big]:.3g} pA); V will move at dV/dt = -I_net/C = "
            f"{out['dV_dt_mV_per_s']:+.3g} mV/s" + (
                f", toward a V ~{-net * out['input_resistance_MOhm'] * 1e-3:+.3g} mV from here "
                "(I_net x input resistance, at these concentrations)"
                if "input_resistance_MOhm" in out else ""))


def _pump_models(out, model, mi, x):
    """What the scenario's own pumps turn over at x (their rate laws), against which
    `pump_cycles_per_s` (what the leaks need) can be read."""
    model_cycles = 0.0
    pumps = []
    for mech in _on(model, mi):
        c = mech.pump_cycles(model, x)
        if c is not None:
            pumps.append(mech)
            model_cycles += c
    if pumps:
        out["pump_model_cycles_per_s"] = model_cycles
        pool = _pool(model, x, mi)
        out["pump_dG_ATP_kJ_per_mol"] = pool["dG_ATP_kJ_per_mol"] if pool else \
            pumps[0].spec["dG_ATP_kJ_per_mol"]


def _pump_slope(out, model, mi, x, V):
    """The slope conductance (S) of the mechanisms that know their steady-state current
    (`Mechanism.steady_current`: the per-molecule pump, whose cycle settles in ms), at
    these counts; "membrane_input_resistance_MOhm" with the leaks'."""
    h = 1e-5
    g = 0.0
    for m in _on(model, mi):
        lo = m.steady_current(model, x, V - h)
        if lo is not None:
            g += (m.steady_current(model, x, V + h) - lo) / (2 * h)
    if g and "input_resistance_MOhm" in out:
        out["pump_slope_conductance_nS"] = g * 1e9
        out["membrane_input_resistance_MOhm"] = 1e-6 / (1e-6 / out["input_resistance_MOhm"] + g)
    return g


def _injections(out, model, mi, mspec, g_slope):
    """Current injections into (or out of) what the membrane encloses (injection.py): now,
    the largest the events set, and the depolarisation it gives through the slope
    resistance at these concentrations (leaks and the pumps' steady-state slope: the
    concentrations will move). An injection between two compartments the membrane both
    encloses (the cell and its SR; an extracellular space and its cell, for a capacitance
    to ground) carries no current across it."""
    enclosed = [model.comps[c] for c in model.mem_comps[mi]]
    scheds = []
    for m in model.mechs:
        sides = [sch for sch in (m.current_schedule(model, c) for c in enclosed)
                 if sch is not None]
        if len(sides) == 1:
            scheds.append(sides[0])
    if not scheds:
        return
    # several injections add: at each time, the sum of each one's latest step
    times = sorted({t for sch in scheds for t, _ in sch})
    total = [sum([i for t2, i in sch if t2 <= t][-1] for sch in scheds) for t in times]
    out["injected_current_pA"] = total[0] * 1e12
    peak = max(total, key=abs)
    out["injection_peak_pA"] = peak * 1e12
    if g_slope > 0 and not model.mem_clamped[mi]:
        out["injection_dV_mV"] = peak / g_slope * 1e3


def _water(out, model, mi, mspec, x):
    """Osmolarities on both sides (volume.py: all species are osmolytes) and the water flow
    into the inside by the membrane's law (van 't Hoff's or its own)."""
    from ionmc.engine.volume import Water

    w = Water(model)
    osm = w.osmolarity(x, model.vol)
    oin, oout = (osm[model.comps.index(mspec[k])] for k in ("inside", "outside"))
    out["osmolarity_in_mM"], out["osmolarity_out_mM"] = oin, oout
    k = [m for m, spec in model.scenario.data["membranes"].items()
         if moves_water(spec)].index(model.mems[mi])
    out["water_flux_um3_per_s"] = float(w.fluxes(x, model.vol)[k])


def energetics(scenario):
    """The budget of a scenario's initial state: the object `ionmc energetics --json`
    prints (docs/guide.md, "`ionmc energetics`")."""
    from ionmc.model.compiled import Model

    model = Model(scenario)
    x = model.x0
    a = _propensities(model, x)
    out = {"scenario": scenario.data["scenario"]["name"], "temperature_K": model.T,
           "membranes": {name: membrane_budget(model, mi, x, a)
                         for mi, name in enumerate(model.mems)}}
    buf = buffers(model, x)
    if buf:
        out["buffers"] = buf
    return out


def _fmt(v):
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}" if (abs(v) >= 1e5 or (v != 0 and abs(v) < 1e-2)) else f"{v:.2f}"
    return str(v)


ROWS = [
    ("V_mV", "membrane potential", "mV"),
    ("ghk_mV", "GHK potential of the leaks", "mV"),
    ("nernst_mV", "Nernst potential", "mV"),
    ("dG_influx_kJ_per_mol", "dG of one ion entering", "kJ/mol"),
    ("pump_cycle_dG_kJ_per_mol", "dG of a pump cycle (3 Na+ out, 2 K+ in)", "kJ/mol"),
    ("pump_dG_ATP_kJ_per_mol", "dG of ATP hydrolysis the pump uses", "kJ/mol"),
    ("leak_current_pA", "net leak current (outward +)", "pA"),
    ("na_influx_per_s", "net Na+ entry through the leaks", "ions/s"),
    ("activity_na_per_s", "Na+ entry by spikes (mean)", "ions/s"),
    ("transporter_na_per_s", "Na+ entry through cotransporters (now)", "ions/s"),
    ("pump_cycles_per_s", "pump cycles that balance the Na+ entry (= ATP/s)", "1/s"),
    ("pump_model_cycles_per_s", "pump cycles the scenario's pumps run at", "1/s"),
    ("basal_atp_per_s", "ATP used by the pool's basal load", "1/s"),
    ("o2_for_pumps_per_s", "O2 for the pumps' ATP", "1/s"),
    ("o2_molecules_per_s", "O2 consumed ((pump + basal ATP/s) / ATP per O2)", "1/s"),
    ("pump_current_pA", "pump current the scenario's pumps carry (outward +)", "pA"),
    ("balancing_pump_current_pA", "pump current that would balance the Na+ entry", "pA"),
    ("current_by_mechanism_pA", "membrane current (outward +)", "pA"),
    ("net_current_pA", "net membrane current, all mechanisms (outward +)", "pA"),
    ("dV_dt_mV_per_s", "dV/dt it gives (-I_net / C)", "mV/s"),
    ("input_resistance_MOhm", "input resistance (slope, all leaks)", "MOhm"),
    ("pump_electrogenic_mV", "its electrogenic share of V (slope R)", "mV"),
    ("pump_electrogenic_chord_mV", "the same with the chord conductances", "mV"),
    ("diffusion_share", "share of V that is diffusion potential (slope R)", ""),
    ("chord_conductance_nS", "chord conductance", "nS"),
    ("k_battery_share", "K+ battery's share of V (chord conductances)", ""),
    ("transporter_dG_kJ_per_mol", "dG of a forward turnover (ATP incl.)", "kJ/mol"),
    ("transporter_atp_per_s", "ATP used by ATP-driven transporters (now)", "1/s"),
    ("osmolarity_in_mM", "osmolarity inside (all species)", "mM"),
    ("osmolarity_out_mM", "osmolarity outside (all species)", "mM"),
    ("water_flux_um3_per_s", "water flow into the inside (its law)", "um^3/s"),
    ("injected_current_pA", "injected current into the inside (now)", "pA"),
    ("injection_peak_pA", "largest injected current the events set", "pA"),
    ("injection_dV_mV", "its depolarisation through the slope resistance", "mV"),
]


#: in the table, a value of a per-species (per-mechanism) row smaller than this fraction of
#: the row's largest is shown as 0
DISPLAY_RELATIVE = 1e-4


def table(result):
    """A readable table of `energetics`' result."""
    lines = [f"ionmc energetics: {result['scenario']} at {result['temperature_K']:g} K"]
    for name, b in result["membranes"].items():
        lines.append(f"\nmembrane {name}" + (" (voltage-clamped)" if b["clamped"] else ""))
        for key, label, unit in ROWS:
            if key not in b:
                continue
            v = b[key]
            if isinstance(v, dict):
                # a value below the row's display precision is 0 (Cl at equilibrium:
                # dG -5e-07 kJ/mol beside Na's -12.6); JSON keeps every digit
                top = max((abs(u) for u in v.values() if isinstance(u, float)), default=0.0)
                for s, vs in v.items():
                    if isinstance(vs, float) and abs(vs) < DISPLAY_RELATIVE * top:
                        vs = 0.0
                    lines.append(f"  {label + ', ' + s:<52} {_fmt(vs):>12} {unit}")
            else:
                lines.append(f"  {label:<52} {_fmt(v):>12} {unit}")
        for w in b.get("warnings", ()):
            lines.append(f"  warning: {w}")
    for name, b in result.get("buffers", {}).items():
        lines.append(f"\nbuffer {name} (in {b['compartment']})")
        for key, label, unit in (("free_ligand_uM", "free ligand", "uM"),
                                 ("free_sites_uM", "free sites", "uM"),
                                 ("bound_sites_uM", "bound sites", "uM"),
                                 ("kappa_B", "buffer capacity kappa_B", "")):
            lines.append(f"  {label:<52} {_fmt(b[key]):>12} {unit}")
    return "\n".join(lines)
