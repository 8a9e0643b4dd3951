"""A scenario's Na+/K+ pumps swapped for the other pump type at the same resting flux (or at
a given density), in either direction (design.swap_pumps)."""
import copy

from ionmc.mechanisms.design import swap_pumps
from ionmc.scenario import validate

REDUCED, PER_MOLECULE = "nak_pump", "na_k_atpase"


def with_pump(sc, kind, density=None):
    """The scenario with every pump of the other type replaced by a `kind` pump (default
    parameters) on the same membrane, at the density that carries the same resting flux, or
    at `density` (per um^2) when given; pumps already of type `kind` take `density` too."""
    data = swap_pumps(sc.data, kind)
    if density is not None:
        for m in data["mechanisms"]:
            if m["type"] == kind:
                m["density_per_um2"] = density
    return validate(data, f"{sc.source} with {kind}")


def reduced(sc, **keys):
    """The scenario with the reduced pump in place of its per-molecule ones (`with_pump`),
    `keys` set on each (e.g. `elementary=1.0`, the elementary test pump): for tests of the
    reduced cycle on the built-ins' cells."""
    data = copy.deepcopy(with_pump(sc, REDUCED).data)
    for m in data["mechanisms"]:
        if m["type"] == REDUCED:
            m.update(keys)
    return validate(data, f"{sc.source} with {REDUCED}")
