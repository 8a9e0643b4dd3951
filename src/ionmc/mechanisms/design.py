"""Designing a resting state (docs/physics.md, "Designing a resting state").

The textbook concentrations are not a steady state by themselves. Given target
concentrations and potential, this derives, instead of tuning: P_K from the input (slope)
resistance, P_Na so that the leaks' net Na+:K+ flux ratio is the pump's 3:2, Cl- at its
equilibrium (so P_Cl carries no net flux), and the pump density from the pump model's own
turnover at that state. The built-in scenarios are written from these numbers.
"""
import math

from ionmc.constants import F, R
from ionmc.thermo.closed_forms import ghk_current, ghk_fluxes


def slope_conductance(P, area_um2, cin, cout, V, T, charges, h=1e-5):
    """Slope conductance (S) of a set of GHK leaks: dI/dV at fixed concentrations."""
    def total(v):
        return sum(ghk_current(P[s], area_um2, charges[s], cin[s], cout[s], v, T) for s in P)
    return (total(V + h) - total(V - h)) / (2 * h)


def pump_turnover(cin, cout, V, T, pump_type="na_k_atpase", pump_params=None):
    """Net cycles per pump molecule per second at (cin, cout, V) of the per-molecule pump
    (`na_k_atpase`, alpha1 unless pump_params give an isoform) or the reduced cycle
    (`nak_pump`), with its default nucleotides unless pump_params say otherwise."""
    from ionmc.mechanisms.registry import REGISTRY

    return REGISTRY[pump_type].default_turnover(cin, cout, V, T, pump_params)


def resting_state(cin, cout, V, T, area_um2, input_resistance_ohm, pcl_over_pk=0.45,
                  pump_params=None, pump_type="na_k_atpase"):
    """Leak permeabilities (cm/s) and pump density (1/um^2) making (cin, cout, V) a fixed
    point. Cl_i is returned at its Nernst equilibrium with Cl_o. The density is that of
    `pump_type` (the per-molecule pump by default) at its own turnover at this state."""
    charges = {"Na": 1, "K": 1, "Cl": -1}
    cin = dict(cin)
    cin["Cl"] = cout["Cl"] * math.exp(F * V / (R * T))  # Cl- at equilibrium
    # net fluxes per unit permeability
    na_out, na_in = ghk_fluxes(1.0, area_um2, 1, cin["Na"], cout["Na"], V, T)
    k_out, k_in = ghk_fluxes(1.0, area_um2, 1, cin["K"], cout["K"], V, T)
    ratio = 1.5 * (k_out - k_in) / (na_in - na_out)  # P_Na/P_K for a 3:2 leak ratio
    unit = {"K": 1.0, "Na": ratio, "Cl": pcl_over_pk}
    g1 = slope_conductance(unit, area_um2, cin, cout, V, T, charges)
    pk = 1.0 / (input_resistance_ohm * g1)
    P = {s: u * pk for s, u in unit.items()}
    na_influx = P["Na"] * (na_in - na_out)  # ions/s
    turn = pump_turnover(cin, cout, V, T, pump_type, pump_params)
    density = na_influx / (3.0 * turn) / area_um2
    return {"P_cm_per_s": P, "Cl_in_mM": cin["Cl"], "pump_density_per_um2": density,
            "pump_turnover_per_s": turn, "na_influx_per_s": na_influx,
            "P_Na_over_P_K": ratio}


def metabolic_pool(pump_atp_per_s, vol_um3, area_um2, pool_mM, T=310.0, pump_share=0.5,
                   o2_supply_mM=0.05, params=None):
    """Parameters of a metabolism mechanism that make the pool `pool_mM` (mM: ATP, ADP, Pi,
    O2 and optionally PCr, Cr) a fixed point when the pumps use `pump_atp_per_s`:
    the basal load takes the rest of the cell's ATP (pumps ~50% of a neuron's ATP;
    Howarth et al. 2012), oxphos makes it all, and the O2 permeability brings in the O2
    it burns at the given drop from `o2_supply_mM` to the cell's O2."""
    from ionmc.mechanisms import metabolism
    from ionmc.constants import CM_TO_M, N_A, UM2_TO_M2
    from ionmc.physics import count_of

    p = {k: v for k, (v, *_) in metabolism.PARAMS.items() if v is not None}
    p.update(params or {})
    c = pool_mM
    per_mM = count_of(1.0, vol_um3)
    basal = pump_atp_per_s * (1.0 - pump_share) / pump_share  # ATP/s
    load_sat = c["ATP"] / (p["basal_load_K_ATP_mM"] + c["ATP"])
    p["basal_load_mM_per_s"] = basal / per_mM / load_sat
    total = pump_atp_per_s + basal
    # net oxphos = forward (reverse is ~e^-50 of it at these states)
    sat = (c["O2"] / (p["K_O2_mM"] + c["O2"]) * c["ADP"] / (p["K_ADP_mM"] + c["ADP"])
           * c["Pi"] / (p["K_Pi_mM"] + c["Pi"]))
    p["oxphos_Vmax_mM_per_s"] = total / per_mM / sat
    o2_per_s = total / p["ATP_per_O2"]
    drop = o2_supply_mM - c["O2"]
    p["O2_supply_mM"] = o2_supply_mM
    p["O2_permeability_cm_per_s"] = o2_per_s / (drop * area_um2 * UM2_TO_M2 * N_A) / CM_TO_M
    p["dG_ATP_kJ_per_mol"] = float(metabolism.dG_ATP(p["dG0_ATP_kJ_per_mol"] * 1e3, T,
                                                     c["ATP"], c["ADP"], c["Pi"])) / 1e3
    p["o2_per_s"] = o2_per_s
    p["atp_per_s"] = total
    return p


def kir_cell_state(cin, cout, V, T, area_um2, kir_spec, pcl_cm_per_s, pump_params=None,
                   pump_type="na_k_atpase"):
    """Na+ leak permeability (cm/s) and pump density (1/um^2) that make (cin, cout, V) a
    fixed point of a cell whose K+ moves through Kir channels (kir.py; an astrocyte):
    the Kir's net K+ efflux at rest is the pump's 2 K+ per cycle, the Na+ leak's influx its
    3 Na+; Cl- sits at its equilibrium (returned), so its leak carries no net flux."""
    from ionmc.mechanisms import kir
    from ionmc.thermo.closed_forms import nernst
    from ionmc.constants import E_CHARGE, K_B

    cin = dict(cin)
    cin["Cl"] = cout["Cl"] * math.exp(F * V / (R * T))
    e_k = nernst(1, cin["K"], cout["K"], T)
    f = kir.factor(cout["K"], V, e_k, kir_spec)
    area_m2 = area_um2 * 1e-12
    if kir_spec.get("conductance_mS_per_cm2", -1.0) >= 0:
        g = kir_spec["conductance_mS_per_cm2"] * 10.0 * area_m2  # S
        k_efflux = g * f * (V - e_k) / E_CHARGE
    else:
        out, inn = ghk_fluxes(kir_spec["permeability_cm_per_s"], area_um2, 1, cin["K"],
                              cout["K"], V, T)
        k_efflux = f * (out - inn)
    cycles = k_efflux / 2.0
    na_out, na_in = ghk_fluxes(1.0, area_um2, 1, cin["Na"], cout["Na"], V, T)
    p_na = 3.0 * cycles / (na_in - na_out)
    turn = pump_turnover(cin, cout, V, T, pump_type, pump_params)
    return {"P_Na_cm_per_s": p_na, "Cl_in_mM": cin["Cl"], "E_K_mV": e_k * 1e3,
            "kir_factor": f, "k_efflux_per_s": k_efflux, "pump_cycles_per_s": cycles,
            "pump_turnover_per_s": turn, "pump_density_per_um2": cycles / turn / area_um2,
            "P_Cl_cm_per_s": pcl_cm_per_s, "kT": K_B * T}


#: the two Na+/K+ pump types: per-molecule (the built-ins') and the reduced cycle
PUMP_TYPES = ("na_k_atpase", "nak_pump")


def swap_pumps(data, kind):
    """A copy of scenario dict `data` (raw TOML or validated) with every pump of the other
    type replaced by a `kind` pump with its default parameters on the same membrane, its
    density scaled by the two pumps' turnover ratio at the membrane's initial potential
    and concentrations, so that the resting pump flux, and so the resting state, stay.
    For comparisons between the two pump models (tests, benchmarks against kernels
    written for the reduced cycle)."""
    import copy

    other = next(t for t in PUMP_TYPES if t != kind)
    data = copy.deepcopy(data)
    T = data["scenario"].get("temperature_K", 310.0)
    for m in data["mechanisms"]:
        if m["type"] != other:
            continue
        mem = data["membranes"][m["membrane"]]
        cin = data["compartments"][mem["inside"]]["concentrations_mM"]
        cout = data["compartments"][mem["outside"]]["concentrations_mM"]
        V = mem.get("initial_potential_mV", 0.0) * 1e-3
        scale = pump_turnover(cin, cout, V, T, other) / pump_turnover(cin, cout, V, T, kind)
        keep = {"name": m["name"], "membrane": m["membrane"],
                "density_per_um2": m["density_per_um2"] * scale}
        m.clear()
        m.update(type=kind, **keep)
    return data
