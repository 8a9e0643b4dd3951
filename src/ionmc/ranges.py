"""Physical ranges of numeric scenario keys, declared beside each parameter in its table
(a mechanism type's `PARAMS`, the core tables' schemas in scenario/validate.py): a value
outside its range exits 2 naming the key and the range, before anything runs.

The ranges are wide -- what a cell, an organelle or a test tube could have, with margin --
and exist to catch unit slips (mV given as uV, um3 as nm3) and numbers that would
overflow a rate law, not to second-guess a modeller."""
import math
from typing import NamedTuple, Optional


class Range(NamedTuple):
    """[lo, hi] (or (lo, hi] with `open_lo`); `unset`: a sentinel value that means "not
    given" and is always admitted (e.g. -1 for "derive it")."""
    lo: float
    hi: float
    open_lo: bool = False
    unset: Optional[float] = None

    def admits(self, v):
        if self.unset is not None and v == self.unset:
            return True
        return math.isfinite(v) and (self.lo < v if self.open_lo else self.lo <= v) \
            and v <= self.hi

    def __str__(self):
        s = f"{'(' if self.open_lo else '['}{self.lo:g}, {self.hi:g}]"
        return s + (f" (or {self.unset:g}: not set)" if self.unset is not None else "")


def positive(hi):
    """(0, hi]."""
    return Range(0.0, hi, open_lo=True)


def check(src, key, v, rng):
    """InputError (exit 2) unless the range admits v."""
    from ionmc.errors import InputError

    if rng is not None and not rng.admits(v):
        raise InputError(src, key, f"{v:g} is outside its physical range {rng}")


def entry(spec):
    """(default, description, range or None) of a PARAMS entry, 2- or 3-tuple."""
    return (*spec, None) if len(spec) == 2 else tuple(spec)


#: shared ranges
Q10 = Range(0.5, 10.0)
FRACTION = Range(0.0, 1.0)
K_M_MM = Range(1e-9, 1e4)                # a half-saturation constant (mM): 1 pM .. 10 M
RATE_PER_S = positive(1e9)               # a first-order rate constant (1/s)
POTENTIAL_MV = Range(-300.0, 300.0)      # a membrane potential or its offsets (mV)
DG_ATP_KJ = Range(-80.0, -20.0)          # ATP hydrolysis in a cell: about -45 .. -65


def reference():
    """The physical ranges of every numeric key, as Markdown (docs/ranges.md is this
    text; tests/unit/test_ranges.py keeps it current)."""
    from ionmc.mechanisms.registry import REGISTRY
    import importlib

    v = importlib.import_module("ionmc.scenario.validate")  # the module, not the function

    lines = ["# Physical ranges of scenario keys", "",
             "Every number in a scenario has a range; a value outside it (in the file, a "
             "`--set`, an event or a sweep) exits 2 with one line naming the key and the "
             "range, before anything runs. `(a, b]` excludes a; \"not set\" is the "
             "sentinel a key takes when it is derived from others. Generated from the "
             "parameter tables (`python -c 'import ionmc.ranges as r; "
             "print(r.reference())'`).", ""]

    def table(title, rows):
        lines.extend([f"## {title}", "", "| key | range |", "|---|---|"])
        lines.extend(f"| `{k}` | {r} |" for k, r in rows if r is not None)
        lines.append("")

    for name, schema in (("scenario", v.SCENARIO_KEYS), ("species.NAME", v.SPECIES_KEYS),
                         ("compartments.NAME", v.COMPARTMENT_KEYS),
                         ("membranes.NAME", v.MEMBRANE_KEYS)):
        rows = [(k, e[2] if len(e) > 2 else None) for k, e in schema.items()]
        if name == "compartments.NAME":
            rows += [("concentrations_mM.SPECIES", v.CONC_MM), ("counts.SPECIES", v.COUNT)]
        table(f"[{name}]", rows)
    for t, mod in REGISTRY.items():
        table(f"type = \"{t}\"", [(k, entry(e)[2]) for k, e in mod.PARAMS.items()])
    return "\n".join(lines)
