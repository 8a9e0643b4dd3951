"""The conduction choice leaks and voltage-gated channels share: GHK (a permeability) or
ohmic (a conductance, g (V - E)); physics.ohmic_factor is the ohmic rate law."""

CONDUCTIONS = ("ghk", "ohmic")


def resolve(t, keys, noun):
    """Check t's `conduction` and set the other conduction's key (keys: {conduction: key})
    to 0, refusing a nonzero one. Returns (table, error or None)."""
    c = t.get("conduction", "ghk")
    if c not in keys:
        return t, ("conduction", f"unknown conduction {c!r} (known: {', '.join(keys)})")
    for other, key in keys.items():
        if other != c:
            if t.get(key, 0.0) != 0.0:
                return t, (key, f"is for conduction = '{other}' (this {noun}'s is '{c}')")
            t[key] = 0.0
    return t, None
