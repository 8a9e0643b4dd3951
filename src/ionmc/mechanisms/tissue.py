"""A generated tissue: N copies of a resting unit (a neuron in its own extracellular space,
optionally with an astrocyte), the ECS of neighbouring units coupled by diffusion, laid out
as a 1-D chain or a 2-D grid, with the pumps of the unit(s) in one corner blocked by an
event. Built from a compact description, not N copies of TOML written by hand; the result
is a raw scenario dict for `ionmc.scenario.validate` (it lives here, beside design.py,
because the central scenario package names no mechanism type: test_architecture.py):

    from ionmc.scenario import validate
    from ionmc.mechanisms.tissue import tissue_scenario
    sc = validate(tissue_scenario(100, layout="grid", block_units=4), "tissue")

Each unit is resting_neuron.toml's cell (pump_block.toml's without the event): a 1000 um^3
neuron, a 250 um^3 ECS, a 500 um^2 membrane with the K+, Na+ and Cl- leaks and the
per-molecule Na/K-ATPase of that file, so every unit alone sits at its fixed point (Na
15/145, K 140/5 mM, -70 mV). With `astrocyte=True` each unit also holds
astrocyte_buffering.toml's astrocyte (1000 um^3, 2000 um^2, Kir, Na+ and Cl- leaks, pump,
resting at -85 mV) in the same ECS, and neighbouring astrocytes are coupled by gap junctions
(that file's 50 um, 10 um^2, tortuosity 3.2).

Geometry of the ECS coupling (defaults): a unit is a cube holding its compartments, side
s = (sum of the unit's volumes)^(1/3) (10.8 um without an astrocyte); neighbouring ECSs
exchange through the ECS share of the face between them, area = alpha * s^2 with alpha the
unit's ECS volume fraction (0.2), over the distance between centres, length = s; D is the
free-solution value (coupling.py) over tortuosity^2 (1.6, Nicholson & Sykova 1998). For
K+ that is an exchange rate P*A/V_ecs of 9.0 /s between neighbours (Na+ 6.1, Cl- 9.3).

Names: unit i has compartments neuron_i, ecs_i (astro_i), membrane soma_i (astro_mem_i),
mechanisms K_leak_i, Na_leak_i, Cl_leak_i, pump_i (astro_kir_i, astro_Na_leak_i,
astro_Cl_leak_i, astro_pump_i); the coupling between units i < j is ecs_i_j (gap_i_j).
In a grid of `rows` x `cols`, unit i is at (row, col) = divmod(i, cols); neighbours share a
face (4-neighbourhood). The blocked units are the `block_units` nearest unit 0's corner
(by city-block distance, then index): in a chain the first ones.

`excitable=True` gives each neuron a persistent Na+ current, NaP_i (a `channel` with one
non-inactivating gate, m_inf = 1/(1 + exp(-(V + 42)/5)), tau 0.2 ms: Bazhenov et al. 2002,
J Neurosci 22:8691, after Timofeev et al. 2000; ohmic, 10 pS, `nap_density_per_um2`
channels per um^2, default 2: 2 mS/cm^2), with the Na+ leak lowered by NaP's resting
influx so that each unit still rests at its fixed point. That is the regenerative K+ release
of spreading depolarisation (SD): a rise of K_o depolarises the neuron, NaP opens, Na+
enters and K+ leaves, and K_o rises further (Kager, Wadman & Somjen 2000, J Neurophysiol
84:495, whose SD is carried mainly by NaP and NMDA currents). A unit alone runs away once
its K_o passes ~8.9 mM (in slices SD starts as K_o passes 10-12 mM, Somjen 2001, Physiol
Rev 81:1065); the front then travels by K+ diffusion through the ECS at ~3.2 mm/min with
the defaults (measured SD: 2-5 mm/min), leaving the units depolarised at -5 to -20 mV with
K_o 34-45 mM (measured in SD: 30-60 mM, near 0 mV). NaP here does not inactivate, so
the tissue does not recover within a run (real SD recovers in ~1 min); removing the pump's
outward current alone is enough to start it: a pump block triggers it at once.
"""
import math

from ionmc.constants import F, R

# resting_neuron.toml / pump_block.toml: a fixed point at Na 15/145, K 140/5 mM, -70 mV
NEURON_VOLUME_UM3 = 1000.0
ECS_VOLUME_UM3 = 250.0
NEURON_MM = {"Na": 15.0, "K": 140.0, "Cl": 8.733067503619136}
ECS_MM = {"Na": 145.0, "K": 5.0, "Cl": 120.0}
SOMA_AREA_UM2 = 500.0
NEURON_V0_MV = -70.0
NEURON_LEAKS = {"K": 6.547104040756225e-06, "Na": 3.540812018692216e-07,
                "Cl": 2.9461968183403014e-06}
NEURON_PUMP_DENSITY = 8005.249190424477
# astrocyte_buffering.toml's astrocyte: a fixed point at Na 15, K 130 mM, -85 mV
ASTRO_VOLUME_UM3 = 1000.0
ASTRO_MM = {"Na": 15.0, "K": 130.0, "Cl": 4.980885775380113}
ASTRO_AREA_UM2 = 2000.0
ASTRO_V0_MV = -85.0
ASTRO_KIR = {"conductance_mS_per_cm2": 1.696, "K_o_ref_mM": 5.0,
             "E_K_ref_mV": -87.03592137333666}
ASTRO_LEAKS = {"Na": 1.1039613829664808e-07, "Cl": 8.372229715201506e-07}
ASTRO_PUMP_DENSITY = 4309.938921330324
DG_ATP_KJ_PER_MOL = -57.0
LAYOUTS = ("chain", "grid")
# the excitable variant's persistent Na+ channel (module docstring)
NAP_GATE = {"power": 1, "inf": "1 / (1 + exp(-(V + 42) / 5))", "tau": "0.2"}
NAP_CONDUCTANCE_PS = 10.0
TEMPERATURE_K = 310.0


def nap_open_fraction(v_mV):
    """NaP's m_inf at v_mV (NAP_GATE's expression)."""
    return 1.0 / (1.0 + math.exp(-(v_mV + 42.0) / 5.0))


def compensated_na_leak(nap_density_per_um2):
    """The neuron's Na+ leak permeability (cm/s) less NaP's resting Na+ influx, so that a
    unit with NaP rests at the fixed point of one without: the leak's GHK net flux per unit
    permeability (leak.py) against NaP's ohmic current N m_inf gamma (V - E_Na) at -70 mV
    and the resting concentrations (Hodgkin & Katz 1949; Hodgkin & Huxley 1952)."""
    rt_f = R * TEMPERATURE_K / F
    v = NEURON_V0_MV * 1e-3
    u = v / rt_f
    c_in, c_out = NEURON_MM["Na"], ECS_MM["Na"]  # mM = mol/m^3
    area_m2 = SOMA_AREA_UM2 * 1e-12
    # net efflux (mol/s) per m/s of permeability: c_i u/(1 - e^-u) - c_o u/(e^u - 1)
    per_p = area_m2 * (c_in * u / -math.expm1(-u) - c_out * u / math.expm1(u))
    e_na = rt_f * math.log(c_out / c_in)
    # the population is a whole number of channels (channels.n_channels rounds it)
    n_open = round(nap_density_per_um2 * SOMA_AREA_UM2) * nap_open_fraction(NEURON_V0_MV)
    nap_efflux = n_open * NAP_CONDUCTANCE_PS * 1e-12 * (v - e_na) / F  # mol/s, < 0
    p_m_per_s = NEURON_LEAKS["Na"] * 1e-2 - nap_efflux / per_p
    if p_m_per_s <= 0.0:
        raise ValueError(f"{nap_density_per_um2:g} NaP channels per um^2 carry more Na+ at "
                         "rest than the whole Na+ leak")
    return p_m_per_s * 1e2


def grid_shape(units, rows=None):
    """(rows, cols) of a grid of `units`: the given number of rows (it must divide
    `units`), else the most nearly square factorisation."""
    if rows is None:
        rows = max(r for r in range(1, math.isqrt(units) + 1) if units % r == 0)
    if rows < 1 or units % rows:
        raise ValueError(f"{rows} rows do not divide {units} units")
    return rows, units // rows


def neighbours(units, layout="chain", rows=None):
    """The pairs (i, j), i < j, of units that share a face."""
    if layout == "chain":
        return [(i, i + 1) for i in range(units - 1)]
    if layout != "grid":
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    r, c = grid_shape(units, rows)
    pairs = []
    for i in range(units):
        row, col = divmod(i, c)
        if col + 1 < c:
            pairs.append((i, i + 1))
        if row + 1 < r:
            pairs.append((i, i + c))
    return pairs


def corner_units(units, k, layout="chain", rows=None):
    """The `k` units nearest unit 0 (city-block distance, then index)."""
    if layout == "chain":
        return list(range(min(k, units)))
    _, c = grid_shape(units, rows)
    order = sorted(range(units), key=lambda i: (sum(divmod(i, c)), i))
    return sorted(order[:k])


def tissue_scenario(units, layout="chain", rows=None, block_units=1, block_at_s=10.0,
                    block_fraction=1.0, astrocyte=False, duration_s=60.0,
                    record_interval_s=0.1, method="ode", seed=1, replicates=1,
                    ecs_length_um=None, ecs_area_um2=None, tortuosity=1.6,
                    gap_length_um=50.0, gap_area_um2=10.0, gap_tortuosity=3.2,
                    excitable=False, nap_density_per_um2=2.0, name=None):
    """The raw scenario dict (as TOML would give it) of a tissue of `units` units: pass it
    to `ionmc.scenario.validate`. See the module's docstring for what a unit is, the
    names and the geometry; `ecs_length_um`/`ecs_area_um2` override the ECS coupling's
    slab (None: from the unit's cube). `block_units` = 0 gives no event. `excitable`: each
    neuron with a persistent Na+ current (module docstring: spreading depolarisation)."""
    if units < 1:
        raise ValueError("a tissue has at least one unit")
    pairs = neighbours(units, layout, rows)
    vol = NEURON_VOLUME_UM3 + ECS_VOLUME_UM3 + (ASTRO_VOLUME_UM3 if astrocyte else 0.0)
    side = vol ** (1.0 / 3.0)
    length = side if ecs_length_um is None else ecs_length_um
    area = ECS_VOLUME_UM3 / vol * side * side if ecs_area_um2 is None else ecs_area_um2
    shape = (f"{units}-unit chain" if layout == "chain"
             else "{} x {} grid".format(*grid_shape(units, rows)))
    d = {
        "scenario": {
            "name": name or f"tissue_{layout}_{units}",
            "description": f"a {shape} of resting neurons"
                           + (" with astrocytes" if astrocyte else "")
                           + (" and a persistent Na+ current (excitable)" if excitable
                              else "")
                           + f" in ECS coupled by diffusion; pumps of {block_units} corner "
                             f"unit(s) blocked at {block_at_s:g} s",
            "temperature_K": TEMPERATURE_K, "duration_s": float(duration_s),
            "record_interval_s": float(record_interval_s), "method": method,
            "replicates": replicates, "seed": seed,
        },
        "species": {"Na": {"charge": 1}, "K": {"charge": 1}, "Cl": {"charge": -1},
                    "X": {"charge": -1, "permeant": False}},
        "compartments": {}, "membranes": {}, "mechanisms": [], "events": [],
    }
    comps, mems, mechs = d["compartments"], d["membranes"], d["mechanisms"]
    leaks = dict(NEURON_LEAKS)
    if excitable:
        leaks["Na"] = compensated_na_leak(nap_density_per_um2)
    for i in range(units):
        comps[f"neuron_{i}"] = {"volume_um3": NEURON_VOLUME_UM3,
                                "concentrations_mM": dict(NEURON_MM),
                                "balance_charge_with": "X"}
        comps[f"ecs_{i}"] = {"volume_um3": ECS_VOLUME_UM3, "concentrations_mM": dict(ECS_MM),
                             "balance_charge_with": "X"}
        mems[f"soma_{i}"] = {"inside": f"neuron_{i}", "outside": f"ecs_{i}",
                             "area_um2": SOMA_AREA_UM2, "capacitance_uF_per_cm2": 1.0,
                             "initial_potential_mV": NEURON_V0_MV}
        for s, p in leaks.items():
            mechs.append({"type": "leak", "name": f"{s}_leak_{i}", "membrane": f"soma_{i}",
                          "species": s, "permeability_cm_per_s": p})
        if excitable:
            mechs.append({"type": "channel", "name": f"NaP_{i}", "membrane": f"soma_{i}",
                          "species": "Na", "density_per_um2": float(nap_density_per_um2),
                          "conduction": "ohmic",
                          "single_channel_conductance_pS": NAP_CONDUCTANCE_PS,
                          "gates": {"m": dict(NAP_GATE)}})
        mechs.append({"type": "na_k_atpase", "name": f"pump_{i}", "membrane": f"soma_{i}",
                      "density_per_um2": NEURON_PUMP_DENSITY,
                      "dG_ATP_kJ_per_mol": DG_ATP_KJ_PER_MOL, "fxyd_phosphorylated": 0.0,
                      "block_fraction": 0.0})
        if astrocyte:
            comps[f"astro_{i}"] = {"volume_um3": ASTRO_VOLUME_UM3,
                                   "concentrations_mM": dict(ASTRO_MM),
                                   "balance_charge_with": "X"}
            mems[f"astro_mem_{i}"] = {"inside": f"astro_{i}", "outside": f"ecs_{i}",
                                      "area_um2": ASTRO_AREA_UM2,
                                      "capacitance_uF_per_cm2": 1.0,
                                      "initial_potential_mV": ASTRO_V0_MV}
            mechs.append({"type": "kir", "name": f"astro_kir_{i}",
                          "membrane": f"astro_mem_{i}", **ASTRO_KIR})
            for s, p in ASTRO_LEAKS.items():
                mechs.append({"type": "leak", "name": f"astro_{s}_leak_{i}",
                              "membrane": f"astro_mem_{i}", "species": s,
                              "permeability_cm_per_s": p})
            mechs.append({"type": "na_k_atpase", "name": f"astro_pump_{i}",
                          "membrane": f"astro_mem_{i}", "density_per_um2": ASTRO_PUMP_DENSITY,
                          "dG_ATP_kJ_per_mol": DG_ATP_KJ_PER_MOL})
    for i, j in pairs:
        mechs.append({"type": "coupling", "name": f"ecs_{i}_{j}",
                      "compartments": [f"ecs_{i}", f"ecs_{j}"], "species": ["Na", "K", "Cl"],
                      "length_um": length, "area_um2": area, "tortuosity": tortuosity})
    if astrocyte:
        for i, j in pairs:
            mechs.append({"type": "coupling", "name": f"gap_{i}_{j}",
                          "compartments": [f"astro_{i}", f"astro_{j}"],
                          "species": ["Na", "K", "Cl"], "length_um": gap_length_um,
                          "area_um2": gap_area_um2, "tortuosity": gap_tortuosity})
    blocked = corner_units(units, block_units, layout, rows)
    if blocked:
        d["events"].append({"at_s": float(block_at_s),
                            "set": {f"mechanisms.pump_{i}.block_fraction": block_fraction
                                    for i in blocked}})
    return d
