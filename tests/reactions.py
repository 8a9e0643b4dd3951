"""Pure-chemistry scenarios (reaction type) shared by tests and verification."""
from ionmc.scenario import validate


def chemistry(reactions, counts, volume_um3=0.001, duration=1.0, dt=0.1, method="ssa",
              seed=1, replicates=1, species=None, conc=None):
    """A one-compartment scenario 'cyto' with the given reactions [(name, equation, keys)]."""
    names = set(counts) | set(conc or {}) | set(species or ())
    for _, eq, _ in reactions:
        for tok in eq.replace("<->", " ").replace("->", " ").replace("+", " ").split():
            if tok.isidentifier():  # a malformed equation's other tokens are no species
                names.add(tok)
    raw = {"scenario": {"name": "chem", "duration_s": duration, "record_interval_s": dt,
                        "method": method, "seed": seed, "replicates": replicates},
           "species": {s: {"charge": 0} for s in sorted(names)},
           "compartments": {"cyto": {"volume_um3": volume_um3, "counts": dict(counts),
                                     "concentrations_mM": dict(conc or {})}},
           "mechanisms": [{"type": "reaction", "name": name, "compartment": "cyto",
                           "equation": eq, **keys} for name, eq, keys in reactions]}
    return validate(raw, "test")
