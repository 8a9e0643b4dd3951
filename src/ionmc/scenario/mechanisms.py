"""Validation of the [[mechanisms]] tables and of events that change their parameters.

Everything about one type is asked of its module (mechanisms/registry.py): its schema
(`PARAMS`, `PARAM_TYPES`), presets (`resolve`), which parameters an event may not change
(`FIXED`), and its own checks (`check(t, ctx)`, one signature for every type). What holds
for every type is checked here: names, the membrane and species a table names, and
agent populations (`agents`, mechanisms/agents.py).
"""
import re

from ionmc import ranges
from ionmc.errors import InputError
from ionmc.mechanisms import agents
from ionmc.mechanisms.base import GROUND, ScenarioContext, inside_map
from ionmc.mechanisms.registry import REGISTRY
from ionmc.scenario.tables import NUM, check_type, did_you_mean, fill_table

#: names of mechanisms (as of species, compartments and membranes): identifier-like
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: parameters no event may change, whatever the type
ALWAYS_FIXED = ("type", "name", "membrane", "species", *agents.PARAMS)


def _filled(src, i, spec, names, mems, species):
    """One table with its type's defaults filled in and its names checked."""
    if not isinstance(spec, dict):
        raise InputError(src, f"mechanisms[{i}]", "must be a table")
    name = spec.get("name", f"mechanisms[{i}]")
    pre = f"mechanisms.{name}"
    if "name" not in spec:
        raise InputError(src, f"mechanisms[{i}].name", "missing (required)")
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(src, f"mechanisms[{i}].name", f"name {name!r} must be "
                         "identifier-like: a letter or '_', then letters, digits or '_'")
    if name in names:
        raise InputError(src, pre, "duplicate mechanism name")
    names.add(name)
    typ = spec.get("type")
    if typ is None:
        raise InputError(src, f"{pre}.type", "missing (required; known types: "
                         f"{', '.join(REGISTRY)})")
    if typ not in REGISTRY:
        raise InputError(src, f"{pre}.type",
                         f"unknown mechanism type {typ!r}" + did_you_mean(typ, REGISTRY)
                         + f" (known: {', '.join(REGISTRY)})")
    mod = REGISTRY[typ]
    if hasattr(mod, "resolve"):  # presets fill what the table does not give
        spec, err = mod.resolve(spec)
        if err:
            raise InputError(src, f"{pre}.{err[0]}", err[1])
    types = getattr(mod, "PARAM_TYPES", {})
    schema = {"type": (None, str), "name": (None, str)}
    for k, entry in mod.PARAMS.items():
        d, _, rng = ranges.entry(entry)
        schema[k] = (d, types.get(k, str if k in ("membrane", "species") else NUM), rng)
    t = fill_table(src, pre, spec, schema)
    if "membrane" in t and t["membrane"] not in mems:
        raise InputError(src, f"{pre}.membrane", f"unknown membrane {t['membrane']!r}")
    if "membrane" in t and mems[t["membrane"]]["outside"] == GROUND:
        raise InputError(src, f"{pre}.membrane", f"{t['membrane']!r} is a capacitance to "
                         f"{GROUND!r}: it carries no mechanisms")
    if isinstance(t.get("species"), str) and t["species"] not in species:
        raise InputError(src, f"{pre}.species", f"unknown species {t['species']!r}")
    return t


def _pools(mechs, mems):
    """compartment -> name of the first metabolic pool inside it."""
    pools = {}
    for t in mechs:
        if REGISTRY[t["type"]].MECHANISM.IS_POOL:
            pools.setdefault(mems[t["membrane"]]["inside"], t["name"])
    return pools


def check_mechanism(src, pre, t, ctx):
    """Raise an InputError for the first problem of a filled table (keys under `pre`)."""
    for key, msg in REGISTRY[t["type"]].check(t, ctx):
        where = key[1:] if key.startswith("/") else (f"{pre}.{key}" if key else pre)
        raise InputError(src, where, msg)
    if "agents" in t:
        agents.check(src, pre, t, ctx.membranes[t["membrane"]], ctx.scenario,
                     getattr(REGISTRY[t["type"]], "AGENTS_FROM_LOG", False))


def validate_mechanisms(src, raw_m, sc, species, comps, mems):
    """The [[mechanisms]] tables, filled in and checked, in their order."""
    if not isinstance(raw_m, list):
        raise InputError(src, "mechanisms", "must be an array of tables ([[mechanisms]])")
    names = set()
    mechs = [_filled(src, i, spec, names, mems, species) for i, spec in enumerate(raw_m)]
    ctx = ScenarioContext(sc, species, comps, mems, mechs, _pools(mechs, mems),
                          inside_map(mems))
    for t in mechs:
        check_mechanism(src, f"mechanisms.{t['name']}", t, ctx)
    return mechs


def check_event_parameter(src, key, name, param, value, data):
    """An event's `mechanisms.NAME.PARAM = value`: a number for a parameter that may change
    during a run, with which the mechanism still passes its checks."""
    m = next((m for m in data["mechanisms"] if m["name"] == name), None)
    if m is None:
        raise InputError(src, key, f"unknown mechanism {name!r}")
    if param in ALWAYS_FIXED or param in getattr(REGISTRY[m["type"]], "FIXED", ()):
        raise InputError(src, key, f"{param!r} cannot change during a run")
    if param not in m:
        raise InputError(src, key, f"mechanism {name!r} has no parameter {param!r}")
    check_type(src, key, value, NUM)
    ranges.check(src, key, value, ranges.entry(REGISTRY[m["type"]].PARAMS[param])[2])
    trial = dict(m, **{param: float(value)})
    mechs = [trial if x is m else x for x in data["mechanisms"]]
    ctx = ScenarioContext(data["scenario"], data["species"], data["compartments"],
                          data["membranes"], mechs, _pools(mechs, data["membranes"]),
                          inside_map(data["membranes"]))
    # its checks name the parameter after the prefix: the event's key without it
    check_mechanism(src, key[:-len(param) - 1], trial, ctx)
