"""ionmc against edNEGmodel (Saetra et al. 2021, PLoS Comput Biol 17:e1008143): resting state
and K_o after a stimulus, single layer, method `ode`.

Reads only the reference CSVs in this folder (written by edNEGmodel's own code, see
README.md for how); it neither imports nor needs edNEGmodel. Run from the repository root:

    PYTHONPATH=src python results/ednegmodel/compare.py

Writes: rest_table.csv / .md, stimulus_table.md, mapping_table.csv, ionmc_*.csv and
comparison.png in this folder.

The mapping (README.md explains each line): edNEG's two layers (soma, dendrite) are lumped
into one (volumes and areas summed; its axial electrodiffusion then cancels), and every
Ohmic conductance becomes a GHK permeability carrying the same flux at edNEG's resting
point ("flux" variant) or having the same slope conductance there ("slope" variant). Pump
and cotransporter densities give edNEG's resting turnover with ionmc's own rate laws.
"""
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ionmc import simulate  # noqa: E402
from ionmc.engine import kernels  # noqa: E402
from ionmc.mechanisms import channels, pump  # noqa: E402
from ionmc.thermo.closed_forms import ghk_fluxes  # noqa: E402
from ionmc.constants import IONS_PER_MM_UM3, N_A  # noqa: E402
from ionmc.model import Model  # noqa: E402
from ionmc.scenario import validate  # noqa: E402

HERE = Path(__file__).resolve().parent

# ---- edNEGmodel's parameters (edNEGmodel/edNEGmodel.py, CINPLA/edNEGmodel b5fe0aa) --------
T = 309.14                      # K (solve_edNEGmodel.py)
F_E, R_E = 96480.0, 8.314       # edNEG's own constants (C/mol, J/mol/K)
A_M_UM2 = 616.0                 # each membrane compartment, 616e-8 cm^2
C_M = 3.0                       # uF/cm^2, all four membranes (Pinsky & Rinzel 1994)
G = dict(Na_leak_n=0.0246, K_leak_n=0.0245, Cl_leak_n=0.1, Na=30.0, DR=15.0, Ca=11.8,
         AHP=0.8, C=15.0, Na_leak_g=0.1, K_IR=1.696, Cl_leak_g=0.05)   # mS/cm^2
RHO_N, RHO_G = 1.87e-4, 1.12e-4            # pump maxima, nmol/cm^2/ms
U_KCC2, U_NKCC1, U_CADEC = 1.49e-5, 2.33e-5, 0.075
CB_K_SE, CB_K_SG = 3.082, 99.959           # Kir's baseline concentrations (mM)
CB_CA = 0.01                               # mM, neuronal Ca baseline
#: one edNEG flux unit, nmol/cm^2/ms, on one membrane compartment (616 um^2), in ions/s
J_TO_IONS = 1e-9 * N_A * 616e-8 * 1e3

LAYERS = ("s", "d")


def kir_spec():
    """edNEG's glial Kir as ionmc's `kir` mechanism (linear law: Halnes 2013 / edNEG's
    I = g f (V - E_K)), same constants. edNEG's first numerator is 1 + exp(18.4/42.4) where
    ionmc's is 1 + exp(a/s) with a = 18.5, s = 42.5: the ratio goes into g."""
    g = G["K_IR"] * (1 + math.exp(18.4 / 42.4)) / (1 + math.exp(18.5 / 42.5))
    return {"type": "kir", "name": "Kir_g", "membrane": "glia_m", "species": "K",
            "conductance_mS_per_cm2": g, "K_o_ref_mM": CB_K_SE,
            "E_K_ref_mV": float(nernst_e(1, CB_K_SG, CB_K_SE)),
            "shift_mV": 18.5, "slope_mV": 42.5, "V_half_mV": -118.6, "V_slope_mV": 44.1,
            "q10": 1.0}


def have(mech_type):
    """Whether this ionmc has a mechanism type (the Kir comes with the couplings work)."""
    from ionmc.mechanisms.registry import REGISTRY
    return mech_type in REGISTRY


def nernst_e(z, ci, co):
    """Reversal potential (mV) as edNEG computes it (its R and F)."""
    return 1e3 * R_E * T / (z * F_E) * np.log(co / ci)


def ednegs_transport(r, L):
    """edNEG's pump and cotransporter fluxes (nmol/cm^2/ms, outward) in layer L of row r,
    from its formulas (edNEGmodel.py j_pump_n/g, j_kcc2, j_nkcc1; concentrations in mM):
    the transcription the tests check against edNEG's own output."""
    na_n, k_n, cl_n = (r[f"c{s}_{L}n_mM"] for s in ("Na", "K", "Cl"))
    na_e, k_e, cl_e = (r[f"c{s}_{L}e_mM"] for s in ("Na", "K", "Cl"))
    na_g = r[f"cNa_{L}g_mM"]
    return {
        "pump_n": RHO_N / (1 + np.exp((25.0 - na_n) / 3.0)) / (1 + np.exp((3.5 - k_e) / 1.0)),
        "pump_g": RHO_G * na_g ** 1.5 / (na_g ** 1.5 + 10.0 ** 1.5) * k_e / (k_e + 1.5),
        "kcc2": U_KCC2 * np.log(k_n * cl_n / (k_e * cl_e)),
        "nkcc1": U_NKCC1 / (1 + np.exp(16.0 - k_e)) * (np.log(k_n * cl_n / (k_e * cl_e))
                                                       + np.log(na_n * cl_n / (na_e * cl_e))),
    }


def m_inf(v):
    a = -0.32 * (v + 46.9) / (np.exp(-(v + 46.9) / 4) - 1.0)
    b = 0.28 * (v + 19.9) / (np.exp((v + 19.9) / 5) - 1.0)
    return a / (a + b)


def kir_factor(v, dphi, k_e, bE_K):
    """edNEG's glial Kir rectification (j_K_sg; Halnes et al. 2013): the conductance is
    g_K_IR times this."""
    f1 = (1 + math.exp(18.4 / 42.4)) / (1 + np.exp((dphi + 18.5) / 42.5))
    f2 = (1 + math.exp(-(118.6 + bE_K) / 44.1)) / (1 + np.exp(-(118.6 + v) / 44.1))
    return np.sqrt(k_e / CB_K_SE) * f1 * f2


def passive_fluxes(r, layers=LAYERS):
    """Outward passive fluxes (ions/s) per membrane (neuron, glia) and ion, summed over the
    two layers, in a reference row `r`: every Ohmic conductance (leaks, the Pinsky-Rinzel
    channels at their gates) and the 2 Na+ per Ca2+ of edNEG's Ca2+ extrusion (its Ca2+
    channel and extrusion balance at rest, so they are lumped as this Na+ entry, which
    carries the Ca2+ channel's charge)."""
    out = {("n", s): 0.0 for s in ("Na", "K", "Cl")}
    out.update({("g", s): 0.0 for s in ("Na", "K", "Cl")})
    for L in layers:
        vn, vg = r[f"phi_m{L}n_mV"], r[f"phi_m{L}g_mV"]
        e = {s: nernst_e(z, r[f"c{s}_{L}n_mM"], r[f"c{s}_{L}e_mM"])
             for s, z in (("Na", 1), ("K", 1), ("Cl", -1))}
        eg = {s: nernst_e(z, r[f"c{s}_{L}g_mM"], r[f"c{s}_{L}e_mM"])
              for s, z in (("Na", 1), ("K", 1), ("Cl", -1))}
        gna = G["Na_leak_n"] + (G["Na"] * m_inf(vn) ** 2 * r["gate_h"] if L == "s" else 0.0)
        gk = G["K_leak_n"] + (G["DR"] * r["gate_n"] if L == "s" else
                              G["AHP"] * r["gate_q"] + G["C"] * r["gate_c"] * min(
                                  (0.01 * r["cCa_dn_mM"] * 1e3 - 99.8e-3) / 2.5e-1, 1.0))
        ca_ext = U_CADEC * (r[f"cCa_{L}n_mM"] - CB_CA) * 1e3 * r[f"V_{L}n_um3"] * 1e-12 \
            / 616e-8
        out["n", "Na"] += (gna * (vn - e["Na"]) / F_E - 2 * ca_ext) * J_TO_IONS
        out["n", "K"] += gk * (vn - e["K"]) / F_E * J_TO_IONS
        out["n", "Cl"] += -G["Cl_leak_n"] * (vn - e["Cl"]) / F_E * J_TO_IONS
        bE = nernst_e(1, CB_K_SG, CB_K_SE)
        gkir = G["K_IR"] * kir_factor(vg, vg - eg["K"], r[f"cK_{L}e_mM"], bE)
        out["g", "Na"] += G["Na_leak_g"] * (vg - eg["Na"]) / F_E * J_TO_IONS
        out["g", "K"] += gkir * (vg - eg["K"]) / F_E * J_TO_IONS
        out["g", "Cl"] += -G["Cl_leak_g"] * (vg - eg["Cl"]) / F_E * J_TO_IONS
    return out


def slope_conductances(r):
    """edNEG's Ohmic conductance (mS/cm^2, layer mean) per membrane and ion at rest (for
    the Kir its chord conductance g_K_IR x f)."""
    vals = {"n": {"Na": [], "K": [], "Cl": []}, "g": {"Na": [], "K": [], "Cl": []}}
    for L in LAYERS:
        vn, vg = r[f"phi_m{L}n_mV"], r[f"phi_m{L}g_mV"]
        vals["n"]["Na"].append(G["Na_leak_n"] + (G["Na"] * m_inf(vn) ** 2 * r["gate_h"]
                                                 if L == "s" else 0.0))
        chi = min((0.01 * r["cCa_dn_mM"] * 1e3 - 99.8e-3) / 2.5e-1, 1.0)
        vals["n"]["K"].append(G["K_leak_n"] + (G["DR"] * r["gate_n"] if L == "s" else
                                               G["AHP"] * r["gate_q"]
                                               + G["C"] * r["gate_c"] * chi))
        vals["n"]["Cl"].append(G["Cl_leak_n"])
        ek = nernst_e(1, r[f"cK_{L}g_mM"], r[f"cK_{L}e_mM"])
        bE = nernst_e(1, CB_K_SG, CB_K_SE)
        vals["g"]["K"].append(G["K_IR"] * kir_factor(vg, vg - ek, r[f"cK_{L}e_mM"], bE))
        vals["g"]["Na"].append(G["Na_leak_g"])
        vals["g"]["Cl"].append(G["Cl_leak_g"])
    return {(m, s): float(np.mean(v)) for m in vals for s, v in vals[m].items()}


def lumped(r):
    """One-layer view of a reference row: concentrations (mM) from summed amounts over
    summed volumes, potentials (mV) as the layer mean, volumes (um^3) summed."""
    out = {}
    for c in ("n", "e", "g"):
        vol = sum(r[f"V_{L}{c}_um3"] for L in LAYERS)
        out[f"V_{c}_um3"] = vol
        for s in ("Na", "K", "Cl", "Ca"):
            if s == "Ca" and c == "g":
                continue
            out[f"{s}_{c}"] = sum(r[f"c{s}_{L}{c}_mM"] * r[f"V_{L}{c}_um3"] for L in LAYERS) / vol
    out["Vm_n"] = 0.5 * (r["phi_msn_mV"] + r["phi_mdn_mV"])
    out["Vm_g"] = 0.5 * (r["phi_msg_mV"] + r["phi_mdg_mV"])
    return out


def ghk_slope_P(g_mS_cm2, z, ci, co, v_mV):
    """Permeability (cm/s) whose GHK current has slope dI/dV = g at fixed concentrations."""
    h = 1e-3

    def cur(P, v):
        o, i = ghk_fluxes(P, 1.0, z, ci, co, v * 1e-3, T)
        return z * (o - i)          # charges/s through 1 um^2, outward positive
    slope = (cur(1.0, v_mV + h) - cur(1.0, v_mV - h)) / (2 * h * 1e-3)   # per V
    g_per_um2 = g_mS_cm2 * 1e-3 / 1e8 / 1.602176634e-19     # S/um^2 -> charges/s/V
    return g_per_um2 / slope


def scenario_dict(rest, P, dens, method="ode", duration=300.0, record=1.0, start="given",
                  spikes=None, kir=False, extra=(), events=()):
    """The ionmc scenario (one layer) at edNEG's lumped resting state."""
    L = rest
    comp = {
        "neuron": {"volume_um3": L["V_n_um3"], "balance_charge_with": "X",
                   "concentrations_mM": {s: L[f"{s}_n"] for s in ("Na", "K", "Cl", "Ca")}},
        "ecs": {"volume_um3": L["V_e_um3"], "balance_charge_with": "X",
                "concentrations_mM": {s: L[f"{s}_e"] for s in ("Na", "K", "Cl", "Ca")}},
        "glia": {"volume_um3": L["V_g_um3"], "balance_charge_with": "X",
                 "concentrations_mM": {s: L[f"{s}_g"] for s in ("Na", "K", "Cl")}},
    }
    mem = {
        "neuron_m": {"inside": "neuron", "outside": "ecs", "area_um2": 2 * A_M_UM2,
                     "capacitance_uF_per_cm2": C_M, "initial_potential_mV": L["Vm_n"]},
        "glia_m": {"inside": "glia", "outside": "ecs", "area_um2": 2 * A_M_UM2,
                   "capacitance_uF_per_cm2": C_M, "initial_potential_mV": L["Vm_g"]},
    }
    mechs = []
    for m, mname in (("n", "neuron_m"), ("g", "glia_m")):
        for s in ("Na", "K", "Cl"):
            if kir and (m, s) == ("g", "K"):
                mechs.append(kir_spec())   # edNEG's own law instead of a matched GHK leak
                continue
            mechs.append({"type": "leak", "name": f"{s}_{m}", "membrane": mname, "species": s,
                          "permeability_cm_per_s": P[m, s], "q10": 1.0})
        mechs.append(dict({"type": "nak_pump", "name": f"pump_{m}", "membrane": mname,
                           "density_per_um2": dens["pump", m], "q10": 1.0},
                          **dens.get("pump_params", {}).get(m, {})))
    for pre in ("KCC2", "NKCC1"):
        mechs.append({"type": "cotransporter", "name": pre, "preset": pre,
                      "membrane": "neuron_m", "density_per_um2": dens[pre], "q10": 1.0})
    if spikes:
        mechs.append(dict({"type": "spike_train", "name": "stim", "membrane": "neuron_m"},
                          **spikes))
    mechs.extend(extra)
    raw = {"scenario": {"name": "edneg_1layer", "temperature_K": T, "duration_s": duration,
                        "record_interval_s": record, "method": method, "seed": 7,
                        "start": start},
           "species": {"Na": {"charge": 1}, "K": {"charge": 1}, "Cl": {"charge": -1},
                       "Ca": {"charge": 2}, "X": {"charge": -1, "permeant": False}},
           "compartments": comp, "membranes": mem, "mechanisms": mechs}
    if events:
        raw["events"] = list(events)
    return raw


# ---- channels as agents and edNEG's stimulus as an injection -------------------------------
#: single-channel conductances (pS) for edNEG's soma g_Na and g_DR (action_potential's
#: choice: 30 mS/cm^2 = 20 /um^2 x 15 pS, 15 mS/cm^2 = 15 /um^2 x 10 pS)
GAMMA_PS = {"Na": 15.0, "DR": 10.0}
#: where each channel's GHK chord conductance equals gamma (mid-spike, as action_potential)
V_MATCH_MV = -20.0
STIM_PA, STIM_ON, STIM_OFF = 36.0, 10.0, 20.0
#: record interval of the run with channels (resolves a ~1 ms spike for the count)
CH_RECORD_S = 5e-4


def channel_specs(L, area_um2):
    """edNEG's somatic Pinsky-Rinzel Na+ (m^2 h, 30 mS/cm^2) and delayed-rectifier K+ (n,
    15 mS/cm^2) as `hh_channel` agents: as many channels as edNEG's total conductance on its
    616 um^2 soma holds (12 320 and 9 240), spread over ionmc's membrane of `area_um2`, each
    with the GHK permeability whose chord conductance at V_MATCH_MV and the resting
    concentrations is gamma. q10 and q10_gating 1: edNEG's rates hold at its T."""
    out = []
    for name, fam, key, s in (("NaV", "pr_na", "Na", "Na"), ("KDR", "pr_kdr", "DR", "K")):
        n = G[key] * 10.0 * A_M_UM2 / GAMMA_PS[key]      # 1 mS/cm^2 = 10 pS/um^2
        p = channels.permeability_for_conductance(GAMMA_PS[key], 1, L[f"{s}_n"], L[f"{s}_e"],
                                                  V_MATCH_MV * 1e-3, T)
        out.append({"type": "hh_channel", "name": name, "membrane": "neuron_m", "gates": fam,
                    "density_per_um2": n / area_um2,
                    "single_channel_permeability_um3_per_s": p, "q10": 1.0,
                    "q10_gating": 1.0})
    return out


def with_channels(L, P, area_um2=2 * A_M_UM2):
    """Channel specs and the neuron's leaks lowered by the channels' resting (window)
    permeability, so that the flux-matched rest stays a fixed point (as in
    action_potential): at fixed concentrations and V a GHK flux is linear in P, so the
    leak's P minus the channels' mean open permeability carries the same total flux."""
    specs = channel_specs(L, area_um2)
    P = dict(P)
    window = {}
    for spec, s in zip(specs, ("Na", "K")):
        pw = channels.mean_permeability_cm_per_s(spec, area_um2, L["Vm_n"] * 1e-3, T)
        window[s] = pw / P["n", s]
        P["n", s] -= pw
    return specs, P, window


def injection_spec(current_pA=STIM_PA, on=STIM_ON, off=STIM_OFF, name="stim",
                   compartment="neuron", source="ecs"):
    """edNEG's stimulus: K+ moved from the ECS into the soma at I/F (its dKdt_sn += I/F,
    dKdt_se -= I/F) as an `injection` switched on and off by two events."""
    spec = {"type": "injection", "name": name, "species": "K", "compartment": compartment,
            "from": source, "current_pA": 0.0}
    key = f"mechanisms.{name}.current_pA"
    return spec, [{"at_s": on, "set": {key: current_pA}}, {"at_s": off, "set": {key: 0.0}}]


def count_spikes(t, v, t0=STIM_ON, t1=STIM_OFF + 0.5, level=-20.0):
    """Upward crossings of `level` mV in (t0, t1] (the reference's spike criterion)."""
    t, v = np.asarray(t), np.asarray(v)
    up = (v[1:] >= level) & (v[:-1] < level) & (t[1:] > t0) & (t[1:] <= t1)
    return int(up.sum())


def net_rate_per_density(raw, mech_names):
    """Net forward turnovers/s per (1/um^2) of each named mechanism at the scenario's t = 0,
    from ionmc's own propensities (trial density 1000/um^2)."""
    sc = validate(raw, "edneg-trial")
    model = Model(sc)
    x = model.x0.astype(float)
    V = np.zeros(len(model.mems))
    M = model.kernel_args()
    kernels.voltages(x, V, M)
    a = np.zeros(model.nt)
    kernels.all_propensities(x, V, a, M)
    out = {}
    for mech in model.mechs:
        if mech.name in mech_names:
            f, b = mech.ref
            out[mech.name] = (a[f] - a[b]) / mech.spec["density_per_um2"]
    return out


def fit_K_Ko(rest_row, target=None):
    """K_Ko (mM) of ionmc's pump that gives edNEG's neuronal pump its K_o sensitivity
    d ln J / d K_o at rest (edNEG: 1 - 1/(1 + exp((3.5 - K_o)/1)) per mM = 0.488 /mM;
    ionmc's default K_Ko = 0.213 mM gives 0.059 /mM). A what-if, not the mapping."""
    from scipy.optimize import brentq
    L = lumped(rest_row)
    if target is None:
        target = 1.0 - 1.0 / (1.0 + math.exp(3.5 - L["K_e"]))

    def sens(kko):
        p = {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}
        p.update(q10=1.0, K_Ko_mM=kko)
        row = pump.param_row(p, T)
        j = [pump.turnover(row, L["Na_n"], L["K_n"], L["Na_e"], k, L["Vm_n"] * 1e-3)
             for k in (L["K_e"] - 1e-4, L["K_e"], L["K_e"] + 1e-4)]
        return (j[2] - j[0]) / 2e-4 / j[1] - target
    return brentq(sens, 0.213, 3.0, xtol=1e-8)


def derive(rest_row, variant="flux", pump_params=None):
    """Permeabilities and densities (the mapping) from edNEG's resting row;
    `pump_params`: {"n" or "g": {ionmc pump parameter: value}} (what-if variants)."""
    pump_params = pump_params or {}
    L = lumped(rest_row)
    flux = passive_fluxes(rest_row)
    gs = slope_conductances(rest_row)
    P = {}
    for m, vm, cin in (("n", L["Vm_n"], "n"), ("g", L["Vm_g"], "g")):
        for s, z in (("Na", 1), ("K", 1), ("Cl", -1)):
            ci, co = L[f"{s}_{cin}"], L[f"{s}_e"]
            if variant == "flux":
                o, i = ghk_fluxes(1.0, 2 * A_M_UM2, z, ci, co, vm * 1e-3, T)
                P[m, s] = flux[m, s] / (o - i)
            else:
                P[m, s] = ghk_slope_P(gs[m, s], z, ci, co, vm)
    cycles = {"n": sum(rest_row[f"j_pump_{L_}n"] for L_ in LAYERS) * J_TO_IONS,
              "g": sum(rest_row[f"j_pump_{L_}g"] for L_ in LAYERS) * J_TO_IONS}
    dens = {}
    for m, vm in (("n", L["Vm_n"]), ("g", L["Vm_g"])):
        p = {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}
        p["q10"] = 1.0
        p.update(pump_params.get(m, {}))
        row = pump.param_row(p, T)
        turn = pump.turnover(row, L[f"Na_{m}"], L[f"K_{m}"], L["Na_e"], L["K_e"], vm * 1e-3)
        dens["pump", m] = cycles[m] / turn / (2 * A_M_UM2)
        dens["pump_turnover", m] = turn
    dens["pump_params"] = pump_params
    trial = dict(dens, KCC2=1000.0, NKCC1=1000.0)
    per = net_rate_per_density(scenario_dict(L, P, trial), ("KCC2", "NKCC1"))
    # edNEG: j_kcc2 > 0 is K+ and Cl- out (ionmc KCC2 forward); j_nkcc1 > 0 is out
    # (ionmc NKCC1 forward is in)
    kcc2 = sum(rest_row[f"j_kcc2_{L_}n"] for L_ in LAYERS) * J_TO_IONS
    nkcc1 = -sum(rest_row[f"j_nkcc1_{L_}n"] for L_ in LAYERS) * J_TO_IONS
    dens["KCC2"] = kcc2 / per["KCC2"]
    dens["NKCC1"] = nkcc1 / per["NKCC1"]
    return L, P, dens, flux, gs, cycles, {"KCC2": kcc2, "NKCC1": nkcc1}


# ---- two layers: soma and dendrite joined by couplings (needs the `coupling` mechanism) ------
#: edNEG's axial transport (edNEGmodel.py): D (um^2/s), tortuosities, dx, cross-sections
D_UM2_S = {"Na": 1330.0, "K": 1960.0, "Cl": 2030.0, "Ca": 710.0}
LAMBDA_I, LAMBDA_E, DX_UM, A_I_UM2, A_E_UM2 = 3.2, 1.6, 667.0, 2 * 616.0, 61.6


def layer_state(r, L):
    """Concentrations (mM), potentials (mV) and volumes (um^3) of layer L ("s" or "d")."""
    out = {"Vm_n": r[f"phi_m{L}n_mV"], "Vm_g": r[f"phi_m{L}g_mV"]}
    for c in ("n", "e", "g"):
        out[f"V_{c}_um3"] = r[f"V_{L}{c}_um3"]
        for s in ("Na", "K", "Cl", "Ca"):
            if not (s == "Ca" and c == "g"):
                out[f"{s}_{c}"] = r[f"c{s}_{L}{c}_mM"]
    return out


def two_layer_dict(r, P, dens, duration=1.0, record=1.0, start="steady_state", kir=False):
    """edNEG's six compartments in ionmc: per layer the one-layer system (leaks matched per
    layer, pumps and transporters per layer), joined by electrodiffusive couplings with
    edNEG's D / lambda^2 over dx and its cross-sections. Neuronal Ca2+ moves axially with
    1% of D (edNEG moves the free 1% of its total Ca2+)."""
    comps, mems, mechs = {}, {}, []
    for L in LAYERS:
        st = layer_state(r, L)
        one_P = {(m, sp): P[L, m, sp] for m in "ng" for sp in ("Na", "K", "Cl")}
        one_d = {("pump", "n"): dens[L, "pump", "n"], ("pump", "g"): dens[L, "pump", "g"],
                 "KCC2": dens[L, "KCC2"], "NKCC1": dens[L, "NKCC1"]}
        one = scenario_dict(st, one_P, one_d, kir=kir)
        ren = {"neuron": f"neuron_{L}", "ecs": f"ecs_{L}", "glia": f"glia_{L}",
               "neuron_m": f"neuron_m_{L}", "glia_m": f"glia_m_{L}"}
        for c, spec in one["compartments"].items():
            comps[ren[c]] = spec
        for m, spec in one["membranes"].items():
            spec = dict(spec, inside=ren[spec["inside"]], outside=ren[spec["outside"]],
                        area_um2=A_M_UM2)
            mems[ren[m]] = spec
        for mech in one["mechanisms"]:
            mechs.append(dict(mech, name=f"{mech['name']}_{L}", membrane=ren[mech["membrane"]]))
    for c, lam, area, sp in (("neuron", LAMBDA_I, A_I_UM2, ("Na", "K", "Cl", "Ca")),
                             ("ecs", LAMBDA_E, A_E_UM2, ("Na", "K", "Cl", "Ca")),
                             ("glia", LAMBDA_I, A_I_UM2, ("Na", "K", "Cl"))):
        d = {s: D_UM2_S[s] * (0.01 if (c, s) == ("neuron", "Ca") else 1.0) for s in sp}
        mechs.append({"type": "coupling", "name": f"axial_{c}",
                      "compartments": [f"{c}_s", f"{c}_d"], "species": list(sp),
                      "length_um": DX_UM, "area_um2": area, "D_um2_per_s": d,
                      "tortuosity": lam, "q10": 1.0})
    raw = scenario_dict(lumped(r), {(m, s): 1.0 for m in "ng" for s in ("Na", "K", "Cl")},
                        {("pump", "n"): 1.0, ("pump", "g"): 1.0, "KCC2": 1.0, "NKCC1": 1.0},
                        duration=duration, record=record, start=start)
    raw["scenario"]["name"] = "edneg_2layer"
    raw["compartments"], raw["membranes"], raw["mechanisms"] = comps, mems, mechs
    return raw


def derive_two_layer(r):
    """Per-layer flux-matched permeabilities and densities (the one-layer rules, applied to
    each layer's membranes at its own resting state)."""
    P, dens = {}, {}
    for L in LAYERS:
        st = layer_state(r, L)
        flux = passive_fluxes(r, (L,))
        for m in ("n", "g"):
            vm = st[f"Vm_{m}"]
            for s, z in (("Na", 1), ("K", 1), ("Cl", -1)):
                o, i = ghk_fluxes(1.0, A_M_UM2, z, st[f"{s}_{m}"], st[f"{s}_e"], vm * 1e-3, T)
                P[L, m, s] = flux[m, s] / (o - i)
            p = {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}
            p["q10"] = 1.0
            turn = pump.turnover(pump.param_row(p, T), st[f"Na_{m}"], st[f"K_{m}"],
                                 st["Na_e"], st["K_e"], vm * 1e-3)
            dens[L, "pump", m] = r[f"j_pump_{L}{m}"] * J_TO_IONS / turn / A_M_UM2
        one_P = {(m, s): P[L, m, s] for m in "ng" for s in ("Na", "K", "Cl")}
        trial = {("pump", "n"): dens[L, "pump", "n"], ("pump", "g"): dens[L, "pump", "g"],
                 "KCC2": 1000.0, "NKCC1": 1000.0}
        raw = scenario_dict(st, one_P, trial)
        raw["membranes"] = {k: dict(v, area_um2=A_M_UM2) for k, v in raw["membranes"].items()}
        per = net_rate_per_density(raw, ("KCC2", "NKCC1"))
        dens[L, "KCC2"] = r[f"j_kcc2_{L}n"] * J_TO_IONS / per["KCC2"]
        dens[L, "NKCC1"] = -r[f"j_nkcc1_{L}n"] * J_TO_IONS / per["NKCC1"]
    return P, dens


def two_layer_stimulus(rest_row, duration=30.0, record=CH_RECORD_S):
    """Two layers under edNEG's stimulus: the injection of K+ from the somatic ECS into the
    soma, and the soma's Na+ and K-DR channel agents on its own 616 um^2 membrane (leaks of
    that layer lowered by their window permeability). Returns ionmc's output."""
    P, d = derive_two_layer(rest_row)
    st = layer_state(rest_row, "s")
    specs = [dict(sp, membrane="neuron_m_s") for sp in channel_specs(st, A_M_UM2)]
    for sp, ion in zip(specs, ("Na", "K")):
        P["s", "n", ion] -= channels.mean_permeability_cm_per_s(sp, A_M_UM2,
                                                                st["Vm_n"] * 1e-3, T)
    raw = two_layer_dict(rest_row, P, d, duration=duration, record=record,
                         start="steady_state", kir=have("kir"))
    inj, ev = injection_spec(compartment="neuron_s", source="ecs_s")
    raw["mechanisms"] += specs + [inj]
    raw["events"] = ev
    df, _ = simulate(validate(raw, "edneg-2layer-stim"))
    return df


def two_layer_rest(rest_row, write=True):
    """ionmc's two-layer fixed point (couplings between the layers) against edNEG's rest,
    per compartment; written to rest_table_2layer.md/.csv when `write`."""
    P, d = derive_two_layer(rest_row)
    kir = have("kir")
    df, _ = simulate(validate(two_layer_dict(rest_row, P, d, kir=kir), "edneg-2layer"))
    row = df.iloc[0]
    rows = []
    for L in LAYERS:
        for c, name in (("n", "neuron"), ("e", "ecs"), ("g", "glia")):
            for s in ("Na", "K", "Cl"):
                rows.append({"quantity": f"{s}_{L}{c}", "edNEG": rest_row[f"c{s}_{L}{c}_mM"],
                             "ionmc": row[f"{name}_{L}.{s}.mM"]})
        for c, name in (("n", "neuron"), ("g", "glia")):
            rows.append({"quantity": f"Vm_{L}{c}", "edNEG": rest_row[f"phi_m{L}{c}_mV"],
                         "ionmc": row[f"{name}_m_{L}.V_mV"]})
    t = pd.DataFrame(rows)
    t["diff"] = t["ionmc"] - t["edNEG"]
    if not write:
        return t
    t.to_csv(HERE / "rest_table_2layer.csv", index=False)
    (HERE / "rest_table_2layer.md").write_text(
        "Resting state, two layers (s soma, d dendrite; n neuron, e ECS, g glia; mM, mV): "
        "ionmc's ODE fixed point with the layers joined by couplings (edNEG's D/lambda^2 "
        f"over {DX_UM:g} um), leaks flux-matched per layer"
        + (", edNEG's Kir law on the glia" if kir else "") + ".\n\n" + fmt_table(t))
    return t


def k_budget_ref(ref, t0=10.0, t1=30.0):
    """edNEG's K+ budget over [t0, t1] (ions): uptake by each pump above its rate at t0
    (2 K+ per cycle, trapezoid on the grid) and the change of K+ in each lumped
    compartment (amounts = c x V, volumes move a little in edNEG)."""
    w = ref[(ref.t_s >= t0) & (ref.t_s <= t1)]
    out = {}
    for m in ("n", "g"):
        j = sum(w[f"j_pump_{L}{m}"] for L in LAYERS)
        j0 = j.iloc[0]
        out[f"K+ taken up by the {'neuronal' if m == 'n' else 'glial'} pumps above rest"] = \
            2 * np.trapezoid(j - j0, w.t_s * 1e3) * J_TO_IONS * 1e-3
    for c, name in (("n", "neuron"), ("e", "ECS"), ("g", "glia")):
        amt = sum(w[f"cK_{L}{c}_mM"] * w[f"V_{L}{c}_um3"] for L in LAYERS) * IONS_PER_MM_UM3
        out[f"change of K+ in {name}, {t0:g} -> {t1:g} s"] = amt.iloc[-1] - amt.iloc[0]
    return out


def k_budget_ionmc(df, t0=10.0, t1=30.0):
    """The same budget from an ionmc run (net pump cycles from the forward/backward counts of
    the Na+-translocating step; its rate at t0 from the first record interval)."""
    w = df[(df.time_s >= t0 - 1e-9) & (df.time_s <= t1 + 1e-9)]
    out = {}
    for m in ("n", "g"):
        net = w[f"pump_{m}.forward"] - w[f"pump_{m}.backward"]
        rate0 = (net.iloc[1] - net.iloc[0]) / (w.time_s.iloc[1] - w.time_s.iloc[0])
        extra = (net.iloc[-1] - net.iloc[0]) - rate0 * (t1 - t0)
        out[f"K+ taken up by the {'neuronal' if m == 'n' else 'glial'} pumps above rest"] = \
            2 * extra
    for c, name in (("neuron", "neuron"), ("ecs", "ECS"), ("glia", "glia")):
        k = w[f"{c}.K.count"]
        out[f"change of K+ in {name}, {t0:g} -> {t1:g} s"] = float(k.iloc[-1] - k.iloc[0])
    return out


def ionmc_lumped(df):
    """ionmc output renamed to the lumped reference's keys."""
    out = pd.DataFrame({"t_s": df["time_s"]})
    for c, name in (("n", "neuron"), ("e", "ecs"), ("g", "glia")):
        for s in ("Na", "K", "Cl", "Ca"):
            col = f"{name}.{s}.mM"
            if col in df:
                out[f"{s}_{c}"] = df[col]
    out["Vm_n"] = df["neuron_m.V_mV"]
    out["Vm_g"] = df["glia_m.V_mV"]
    return out


def ref_lumped(ref):
    rows = [lumped(r) for _, r in ref.iterrows()]
    out = pd.DataFrame(rows)
    out.insert(0, "t_s", ref["t_s"].values)
    return out


def stimulus_loads(summary, rest_summary, rest_duration, quanta=100):
    """Spike-train loads equivalent to edNEG's stimulus (README.md, "Stimulus"): the Na+
    entering through the active channels above their resting flux, plus 2 Na+ per Ca2+
    entering (edNEG extrudes Ca2+ for 2 Na+ within ~13 ms), and the K+ leaving through
    them above rest minus the K+ the stimulus carries from the ECS into the soma. Their
    difference is the injected charge, which ionmc's leaks then carry back (mostly as
    Cl- entry, as in edNEG). The loads are given in `quanta` events per edNEG spike at
    `quanta` x its rate: one spike's net charge at once would throw V by ~170 mV
    (e x 4e7 / 37 pF), which no edNEG state does; K_o integrates over seconds, so the
    quantisation does not matter to it."""
    s = summary
    dur = s["stim_end_s"] - s["stim_start_s"]
    base = {k: rest_summary[k + "_ions_whole_run"] / rest_duration * dur
            for k in ("jNa_gNa_sn", "jK_gDR_sn", "jK_gAHP_dn", "jK_gC_dn", "jCa_gCa_dn")}
    extra = {k: s[k + "_ions_in_stim"] - base[k] for k in base}
    na_in = -extra["jNa_gNa_sn"] - 2 * extra["jCa_gCa_dn"]
    k_out = extra["jK_gDR_sn"] + extra["jK_gAHP_dn"] + extra["jK_gC_dn"] - s["K_injected_ions"]
    n = s["n_spikes_in_stim"] * quanta
    return {"rate_Hz": n / dur, "start_s": s["stim_start_s"], "stop_s": s["stim_end_s"],
            "Na_per_spike": na_in / n, "K_per_spike": k_out / n}, extra


def read_summary(name):
    d = pd.read_csv(HERE / name)
    return dict(zip(d["quantity"], d["value"]))


def fmt_table(df):
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.5g}" if isinstance(v, float) else str(v)
                                      for v in r.values) + " |")
    return "\n".join(lines) + "\n"


def main():
    rest_ref = pd.read_csv(HERE / "rest_300s.csv")
    rest_row = rest_ref.iloc[-1]
    out = {}
    tables = []
    rest_runs = {}
    for variant in ("flux", "slope"):
        L, P, dens, flux, gs, cycles, cot = derive(rest_row, variant)
        out[variant] = (L, P, dens)
        raw = scenario_dict(L, P, dens, start="steady_state", duration=1.0, record=1.0)
        df, _ = simulate(validate(raw, f"edneg-{variant}-steady"))
        rest_runs[variant] = ionmc_lumped(df).iloc[0]
        if variant == "flux" and have("kir"):
            raw = scenario_dict(L, P, dens, start="steady_state", duration=1.0, record=1.0,
                                kir=True)
            df, _ = simulate(validate(raw, "edneg-flux-kir-steady"))
            rest_runs["flux+kir"] = ionmc_lumped(df).iloc[0]
    # mapping table (flux variant is the reference mapping; slope for comparison)
    L, P, dens = out["flux"]
    _, P2, _ = out["slope"]
    gs = slope_conductances(rest_row)
    rows = []
    for m, mname in (("n", "neuron"), ("g", "glia")):
        for s in ("Na", "K", "Cl"):
            rows.append({"mechanism": f"{mname} {s} passive", "edNEG": f"g = {gs[m, s]:.5g} mS/cm2",
                         "ionmc (flux match)": f"P = {P[m, s]:.5g} cm/s",
                         "ionmc (slope match)": f"P = {P2[m, s]:.5g} cm/s"})
        rows.append({"mechanism": f"{mname} Na/K pump",
                     "edNEG": f"{cycles[m] / (2 * A_M_UM2):.5g} cycles/s/um2 at rest",
                     "ionmc (flux match)": f"{dens['pump', m]:.5g} /um2 x "
                                           f"{dens['pump_turnover', m]:.4g} /s",
                     "ionmc (slope match)": "same"})
    for k in ("KCC2", "NKCC1"):
        rows.append({"mechanism": f"neuron {k}", "edNEG": f"{cot[k] / (2 * A_M_UM2):.5g} "
                     "net turnovers/s/um2 (+ = ionmc forward)",
                     "ionmc (flux match)": f"{dens[k]:.5g} /um2", "ionmc (slope match)": "same"})
    mt = pd.DataFrame(rows)
    mt.to_csv(HERE / "mapping_table.csv", index=False)
    # rest table: edNEG initial, edNEG at 300 s, ionmc fixed points (flux, slope)
    ref0 = lumped(rest_ref.iloc[0])
    keys = [k for k in L if not k.startswith("V_")]
    rt = pd.DataFrame({"quantity": keys,
                       "edNEG t=0": [ref0[k] for k in keys],
                       "edNEG t=300 s": [L[k] for k in keys],
                       "ionmc flux-match": [rest_runs["flux"][k] for k in keys],
                       "ionmc slope-match": [rest_runs["slope"][k] for k in keys]})
    if "flux+kir" in rest_runs:
        rt["ionmc flux-match + Kir"] = [rest_runs["flux+kir"][k] for k in keys]
    rt["diff flux"] = rt["ionmc flux-match"] - rt["edNEG t=300 s"]
    rt["diff slope"] = rt["ionmc slope-match"] - rt["edNEG t=300 s"]
    if "flux+kir" in rest_runs:
        rt["diff flux + Kir"] = rt["ionmc flux-match + Kir"] - rt["edNEG t=300 s"]
    rt.to_csv(HERE / "rest_table.csv", index=False)
    (HERE / "rest_table.md").write_text(
        "Resting state, one layer (mM; V in mV; n neuron, e ECS, g glia). ionmc columns: "
        "the ODE's fixed point (start = steady_state).\n\n" + fmt_table(rt))
    tables.append(rt)

    if have("coupling"):
        two_layer_rest(rest_row)

    # stimulus: edNEG's example (36 pA K+ injection into the soma, 10-20 s)
    stim_ref = pd.read_csv(HERE / "stimulus_36pA.csv")
    summ = read_summary("stimulus_36pA_summary.csv")
    rsum = read_summary("rest_300s_summary.csv")
    spikes, extra = stimulus_loads(summ, rsum, 300.0)
    kko = fit_K_Ko(rest_row)
    runs, budgets = {}, {"edNEG": k_budget_ref(stim_ref)}
    for label, d in (("ionmc", dens),
                     (f"ionmc, neuron pump K_Ko {kko:.3g} mM",
                      derive(rest_row, "flux", {"n": {"K_Ko_mM": kko}})[2])):
        raw = scenario_dict(L, P, d, duration=30.0, record=0.02, spikes=spikes)
        df, _ = simulate(validate(raw, "edneg-stim"))
        runs[label] = ionmc_lumped(df)
        budgets[label] = k_budget_ionmc(df)
        if have("kir"):
            raw = scenario_dict(L, P, d, duration=30.0, record=0.02, spikes=spikes, kir=True)
            df, _ = simulate(validate(raw, "edneg-stim-kir"))
            runs[label + " + glial Kir"] = ionmc_lumped(df)
    # the stimulus as edNEG has it (an injection of K+ from the ECS into the neuron), with
    # the leaks alone and with the Pinsky-Rinzel Na+ and K-DR channels as agents
    inj, ev = injection_spec()
    nspk = {"edNEG (lumped)": summ["n_spikes_in_stim"]}
    raw = scenario_dict(L, P, dens, duration=30.0, record=0.02, extra=[inj], events=ev)
    df, _ = simulate(validate(raw, "edneg-inj"))
    runs["ionmc, injection, leaks only"] = ionmc_lumped(df)
    budgets["ionmc, injection, leaks only"] = k_budget_ionmc(df)
    ch_specs, P_ch, window = with_channels(L, P)
    raw = scenario_dict(L, P_ch, dens, duration=30.0, record=CH_RECORD_S,
                        extra=ch_specs + [inj], events=ev)
    df, _ = simulate(validate(raw, "edneg-inj-channels"))
    lab = "ionmc, injection + Na, K-DR channels"
    nspk[lab] = count_spikes(df.time_s, df["neuron_m.V_mV"])
    runs[lab] = ionmc_lumped(df)
    budgets[lab] = k_budget_ionmc(df)
    ion_ch = runs[lab]
    ion_ch.iloc[::20].to_csv(HERE / "ionmc_stimulus_36pA_channels.csv", index=False,
                             float_format="%.7g")
    ion = runs["ionmc"]
    ion.to_csv(HERE / "ionmc_stimulus_36pA.csv", index=False, float_format="%.7g")
    refl = ref_lumped(stim_ref)
    st = pd.DataFrame({"quantity": ["K_e before (mM)", "K_e peak (mM)", "t of peak (s)",
                                    "K_e at 30 s (mM)", "K_e half-recovery after 20 s (s)",
                                    "Na_n at 20 s (mM)", "V_n mean 12-20 s (mV)",
                                    "V_n median 12-20 s (mV)", "spikes 10-20 s"]})

    def summ_of(d, label=None):
        pre = d[d.t_s < 10].iloc[-1]
        i = d["K_e"].idxmax()
        at20 = d.iloc[(d.t_s - 20).abs().argmin()]
        w = d[(d.t_s > 12) & (d.t_s < 20)]
        after = d[d.t_s >= 20.0]
        half = pre["K_e"] + 0.5 * (after["K_e"].iloc[0] - pre["K_e"])
        t_half = after.t_s[after["K_e"] <= half].iloc[0] - 20.0
        return [pre["K_e"], d["K_e"].max(), d.loc[i, "t_s"], d["K_e"].iloc[-1], t_half,
                at20["Na_n"], w["Vm_n"].mean(), w["Vm_n"].median(),
                float(nspk.get(label, np.nan))]
    st["edNEG (lumped)"] = summ_of(refl, "edNEG (lumped)")
    for label, d in runs.items():
        st[label] = summ_of(d, label)
    (HERE / "stimulus_table.md").write_text(
        "edNEG's example stimulus (36 pA into the soma, 10-20 s) and ionmc's spike-train "
        f"equivalent ({spikes['rate_Hz']:.3g} Hz, {spikes['Na_per_spike']:.4g} Na+ in and "
        f"{spikes['K_per_spike']:.4g} K+ out per event, 100 events per edNEG spike). One layer: ECS K+ is the "
        "volume-weighted mean of edNEG's two ECS compartments. Columns with \"K_Ko\" are a what-if: "
        "the neuronal pump's K_Ko fitted to edNEG's K_o sensitivity at rest.\n\n"
        + fmt_table(st)
        + "\nK+ budget, 10 -> 30 s (ions; pumps: 2 K+ per cycle above the rate at 10 s):\n\n"
        + fmt_table(pd.DataFrame(budgets).reset_index().rename(columns={"index": "K+"})))

    fig, ax = plt.subplots(1, 4, figsize=(20, 5.0))
    ax[0].plot(stim_ref.t_s, stim_ref.cK_se_mM, lw=0.8, color="0.6", label="edNEG ECS soma layer")
    ax[0].plot(stim_ref.t_s, stim_ref.cK_de_mM, lw=0.8, color="0.8",
               label="edNEG ECS dendrite layer")
    ax[0].plot(refl.t_s, refl.K_e, color="k", label="edNEG, ECS mean")
    for (label, d), col in zip(runs.items(), ("C3", "C1", "C2", "C4", "C5", "C0", "C6")):
        how = "" if "injection" in label else " (spike_train)"
        ax[0].plot(d.t_s, d.K_e, color=col, lw=1.6 if "channels" in label else 1.0,
                   label=label + how)
    ax[0].axvspan(10, 20, color="C0", alpha=0.08)
    ax[0].set(xlabel="t (s)", ylabel="K+ ECS (mM)", title="K_o, 36 pA stimulus 10-20 s")
    ax[0].set_ylim(3.2, 6.5)
    ax[0].legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax[1].plot(refl.t_s, refl.Na_n, color="k", label="edNEG neuron Na")
    ax[1].plot(ion.t_s, ion.Na_n, color="C3", label="ionmc neuron Na")
    ax[1].plot(refl.t_s, refl.Na_g, color="k", ls="--", label="edNEG glia Na")
    ax[1].plot(ion.t_s, ion.Na_g, color="C3", ls="--", label="ionmc glia Na")
    ax[1].plot(ion_ch.t_s, ion_ch.Na_n, color="C0", label="ionmc neuron Na, injection + channels")
    ax[1].set(xlabel="t (s)", ylabel="mM", title="intracellular Na+")
    ax[1].legend(fontsize=7)
    w = ion_ch[(ion_ch.t_s >= 9.5) & (ion_ch.t_s <= 13.0)]
    ax[3].plot(w.t_s, w.Vm_n, color="C0", lw=0.7, label="ionmc, injection + Na, K-DR channels")
    wr = stim_ref[(stim_ref.t_s >= 9.5) & (stim_ref.t_s <= 13.0)]
    ax[3].plot(wr.t_s, wr.phi_msn_mV, color="k", lw=0.9,
               label="edNEG soma (20 ms grid: spikes not resolved)")
    for ts in pd.read_csv(HERE / "stimulus_36pA_spikes.csv").spike_time_s:
        if ts <= 13.0:
            ax[3].axvline(ts, color="k", lw=0.5, ls=":")
    ax[3].set(xlabel="t (s)", ylabel="V_n (mV)",
              title="neuron V at the stimulus onset\n(dotted: edNEG's spike times)")
    ax[3].legend(fontsize=7, loc="lower right")
    q = ["Na_n", "K_n", "Cl_n", "Na_e", "K_e", "Cl_e", "Na_g", "K_g", "Cl_g", "Vm_n", "Vm_g"]
    sub = rt.set_index("quantity").loc[q]
    x = np.arange(len(q))
    ax[2].bar(x - 0.2, sub["diff flux"], 0.4, label="flux-matched leaks")
    ax[2].bar(x + 0.2, sub["diff slope"], 0.4, label="slope-matched leaks")
    ax[2].axhline(0, color="k", lw=0.5)
    ax[2].set_xticks(x, q, rotation=60, fontsize=8)
    ax[2].set(ylabel="ionmc - edNEG (mM or mV)", title="resting state, ionmc fixed point")
    worst = float(np.abs(sub["diff flux"]).max())
    ax[2].text(0.02, 0.04, f"flux-matched: all |diff| < {worst:.1g} (by construction)",
               transform=ax[2].transAxes, fontsize=7)
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "comparison.png", dpi=120)
    print((HERE / "rest_table.md").read_text())
    print((HERE / "stimulus_table.md").read_text())
    print(mt.to_string())
    print("extra ions over the stimulus (above rest):", extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
