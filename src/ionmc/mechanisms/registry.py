"""The registry of mechanism types: a scenario's `type` -> the module that declares it,
and the kind numbers (rate laws) of every type, allocated here and nowhere else.

Each type declares the names of its transition kinds (`KINDS`). They are numbered
contiguously in the order of `TYPES`, so a type's kinds are `KIND_BASE[type]` ..
`KIND_BASE[type] + len(KINDS) - 1`; the kernels' dispatch table (engine/dispatch.py) hands
a mechanism its own kind offset k = kind - KIND_BASE[type], never a global number. The
numbers are not stored anywhere (output, caches of results), so appending a type is free.

The transition order of a compiled model is the order of the scenario's [[mechanisms]]
(each type's `build` adds its transitions in a fixed order of its own), not the order here.
"""
from ionmc.mechanisms import activity, buffer, channels, cotransporter, coupling, injection, \
    kir, leak, metabolism, nka, pump, reaction, user_channel, user_transporter

#: every registered type, in the order their kinds are numbered
TYPES = (leak, pump, metabolism, cotransporter, activity, buffer, coupling, kir, channels,
         injection, reaction, nka, user_channel, user_transporter)
REGISTRY = {m.TYPE: m for m in TYPES}

KIND_BASE = {}
_n = 0
for _m in TYPES:
    KIND_BASE[_m.TYPE] = _n
    # each module's own range, which the kernels' dispatch table reads as compile-time
    # constants (engine/dispatch.py)
    _m.KIND0, _m.KIND1 = _n, _n + len(_m.KINDS)
    _n += len(_m.KINDS)
#: number of kinds of all types together
N_KINDS = _n
#: widths of the parameter and index rows: the widest any type lays out
N_PAR = max(getattr(m, "N_PAR", 6) for m in TYPES)
N_II = max(getattr(m, "N_II", 8) for m in TYPES)


def kind(type_name, name):
    """The kind number of `name` (one of the type's KINDS)."""
    return KIND_BASE[type_name] + REGISTRY[type_name].KINDS.index(name)


def kind_range(type_name):
    """(first, past-the-last) kind number of a type."""
    b = KIND_BASE[type_name]
    return b, b + len(REGISTRY[type_name].KINDS)


def type_of_kind(k):
    """The module of the type whose kind number k is."""
    for m in TYPES:
        if m.KIND0 <= k < m.KIND1:
            return m
    raise ValueError(f"no mechanism type has kind {k}")


def kind_name(k):
    """'type.kind' of kind number k."""
    m = type_of_kind(k)
    return f"{m.TYPE}.{m.KINDS[k - m.KIND0]}"


def kind_flags(kinds, attribute):
    """Per transition (by kind number), a type's declaration `attribute` (absent: False):
    LATTICE (its V factor is tabulated by the SSA), FIRST_ORDER (its propensity is a rate
    per ion at the source). True or False for all its kinds, or a tuple of the names of
    the kinds it holds for (a leak's GHK kinds, not its ohmic ones)."""
    import numpy as np

    def flag(k):
        m = type_of_kind(int(k))
        a = getattr(m, attribute, False)
        return m.KINDS[int(k) - m.KIND0] in a if isinstance(a, tuple) else bool(a)
    return np.array([flag(k) for k in kinds], bool)
