"""A scenario's Na+/K+ pumps swapped for the other pump type at the same resting flux, in
either direction (conftest.with_atpase keeps the density: reduced -> per-molecule only)."""
import copy

from ionmc.scenario import validate

REDUCED, PER_MOLECULE = "nak_pump", "na_k_atpase"


def turnover(kind, cin, cout, V, T):
    """Net cycles per pump per second of `kind` at its default parameters (the per-molecule
    pump: alpha1), concentrations in mM, V in volts."""
    if kind == PER_MOLECULE:
        from ionmc.mechanisms import nka, nka_cycle

        p, err = nka.resolve({})
        p = dict({k: v for k, (v, *_) in nka.PARAMS.items() if v is not None}, **p)
        return nka_cycle.turnover(p, cin["Na"], cin["K"], cout["Na"], cout["K"], V, T)
    from ionmc.mechanisms import pump

    p = {k: v for k, (v, *_) in pump.PARAMS.items() if v is not None}
    return pump.turnover(pump.param_row(p, T), cin["Na"], cin["K"], cout["Na"], cout["K"], V)


def with_pump(sc, kind):
    """The scenario with every pump of the other type replaced by a `kind` pump (default
    parameters) on the same membrane, its density scaled by the ratio of the two pumps'
    turnovers at the membrane's initial potential and initial concentrations, so the
    resting pump flux, and so the resting state, stay the same."""
    other = PER_MOLECULE if kind == REDUCED else REDUCED
    data = copy.deepcopy(sc.data)
    T = data["scenario"]["temperature_K"]
    for m in data["mechanisms"]:
        if m["type"] != other:
            continue
        mem = data["membranes"][m["membrane"]]
        cin = data["compartments"][mem["inside"]]["concentrations_mM"]
        cout = data["compartments"][mem["outside"]]["concentrations_mM"]
        V = mem["initial_potential_mV"] * 1e-3
        scale = turnover(other, cin, cout, V, T) / turnover(kind, cin, cout, V, T)
        keep = {"name": m["name"], "membrane": m["membrane"],
                "density_per_um2": m["density_per_um2"] * scale}
        m.clear()
        m.update(type=kind, **keep)
    return validate(data, f"{sc.source} with {kind}")
