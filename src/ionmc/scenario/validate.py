"""Validation of a scenario: every problem becomes one `InputError` naming the file, the
dotted key and what is wrong; nothing is simulated or written before a scenario has passed.
Each table in turn ([scenario], [species], [compartments], [membranes], [[mechanisms]] --
scenario/mechanisms.py --, [[events]], [sweep]), later ones checked against earlier ones.
"""
import copy
import math

from ionmc.errors import InputError
from ionmc.mechanisms.base import GROUND, enclosing
from ionmc.ranges import POTENTIAL_MV, Range, check as check_range, positive as pos
from ionmc.scenario.load import Scenario, _set_dotted
from ionmc.scenario.mechanisms import NAME, check_event_parameter, validate_mechanisms
from ionmc.scenario.tables import NUM, check_type, did_you_mean, fill_table

METHODS = ("ssa", "tau-leap", "ode")
STARTS = ("given", "steady_state")
STREAMS = ("shared", "per_transition")

# key -> (default, type check, description). None default = required.
# key -> (default, type[, physical range: ionmc.ranges]). None default = required.
SCENARIO_KEYS = {
    "name": ("unnamed", str),
    "description": ("", str),
    "temperature_K": (310.0, NUM, Range(260.0, 330.0)),  # cold-blooded .. fever, with margin
    "duration_s": (None, NUM, pos(1e7)),
    "record_interval_s": (None, NUM, Range(1e-9, 1e7)),
    "method": ("tau-leap", str),
    "replicates": (1, int, Range(1, 10_000_000)),
    "seed": (1, int, Range(0, 2**63 - 1)),
    "start": ("given", str),
    "random_streams": ("shared", str),
    # ode with water flow: volumes as ODE variables (False) or split steps (volume.py)
    "water_split": (False, bool),
}
SPECIES_KEYS = {"charge": (None, int, Range(-10, 10)), "permeant": (True, bool)}
#: a concentration (mM; 10 M is beyond any solution) and a count of molecules
CONC_MM = Range(0.0, 1e4)
COUNT = Range(0, 10**15)
#: a sphere's area per volume^(2/3), (36 pi)^(1/3); a membrane may be folded up to
#: MAX_FOLDING times that
SPHERE_AREA = (36.0 * math.pi) ** (1.0 / 3.0)
MAX_FOLDING = 1000.0
#: record rows per replicate beyond which a run is refused (duration / record interval)
MAX_ROWS = 10**8
COMPARTMENT_KEYS = {
    "volume_um3": (None, NUM, Range(1e-9, 1e12)),  # a vesicle's 1e-5 .. a tissue block
    "concentrations_mM": ({}, dict),
    # initial amounts as molecule counts (small systems, pure chemistry), instead of mM
    "counts": ({}, dict),
    "balance_charge_with": ("", str),
    "bath": (False, bool),
    "clamped_species": ([], list),
}
MEMBRANE_KEYS = {
    "inside": (None, str),
    "outside": (None, str),
    "area_um2": (None, NUM, pos(1e10)),
    "capacitance_uF_per_cm2": (1.0, NUM, Range(0.1, 10.0)),  # biological: 0.5 .. 2
    "initial_potential_mV": (0.0, NUM, POTENTIAL_MV),
    "clamp_mV": (None, NUM, POTENTIAL_MV),
    # osmotic water permeability P_f; 0 = no water flow (volume.py)
    "water_permeability_um_per_s": (0.0, NUM, Range(0.0, 1e4)),
    # or a water law written as an expression (um^3/s into the inside; volume.py)
    "water_flux_um3_per_s": ("", str),
    "water_parameters": ({}, dict),
}
TOP_KEYS = ("scenario", "species", "compartments", "membranes", "mechanisms", "events",
            "sweep")
SWEEP_MODES = ("product", "zip")
#: keys whose type is a number: a TOML integer is accepted where a float is expected
def validate(raw, src, duration=None):
    """Check a raw scenario dict; return a Scenario with defaults filled in. Each table in
    turn (later tables are checked against the earlier ones); nothing is half-checked."""
    warnings, dropped = [], []
    if not isinstance(raw, dict) or not raw:
        raise InputError(src, None, "empty scenario")
    for k in raw:
        if k not in TOP_KEYS:
            raise InputError(src, k, "unknown key" + did_you_mean(k, TOP_KEYS)
                             + f" (known: {', '.join(TOP_KEYS)})")
    for k in ("scenario", "species", "compartments"):  # membranes: none in pure chemistry
        if k not in raw:
            raise InputError(src, k, "missing table")
    data = {}
    sc, file_duration = _scenario_table(src, raw, duration, warnings)
    data["scenario"] = sc
    species = data["species"] = _species(src, raw)
    comps = data["compartments"] = _compartments(src, raw, species)
    mems = data["membranes"] = _membranes(src, raw, comps, species)
    data["mechanisms"] = validate_mechanisms(src, raw.get("mechanisms", []), sc, species,
                                             comps, mems)
    data["events"] = _events(src, raw, data, file_duration, warnings, dropped)
    if "sweep" in raw:
        data["sweep"] = _check_sweep(src, raw["sweep"], data)
    return Scenario(data, src, warnings, dropped)


def _scenario_table(src, raw, duration, warnings):
    """[scenario], with a --duration applied: (table, the file's own duration_s)."""
    sc = fill_table(src, "scenario", raw["scenario"], SCENARIO_KEYS)  # ranges checked there
    if sc["method"] not in METHODS:
        raise InputError(src, "scenario.method",
                         f"unknown method {sc['method']!r} (known: {', '.join(METHODS)})")
    if sc["start"] not in STARTS:
        raise InputError(src, "scenario.start",
                         f"unknown start {sc['start']!r} (known: {', '.join(STARTS)})")
    if sc["random_streams"] not in STREAMS:
        raise InputError(src, "scenario.random_streams", f"unknown value "
                         f"{sc['random_streams']!r} (known: {', '.join(STREAMS)})")
    if sc["random_streams"] == "per_transition" and sc["method"] == "ode":
        raise InputError(src, "scenario.random_streams", "'per_transition' streams are "
                         "for the stochastic methods ('ssa', 'tau-leap'), not 'ode'")
    file_duration = sc["duration_s"]
    if duration is not None:
        check_range("--duration", None, duration, SCENARIO_KEYS["duration_s"][2])
        sc["duration_s"] = float(duration)
    if duration is not None and sc["record_interval_s"] > sc["duration_s"]:
        warnings.append(f"record_interval_s {sc['record_interval_s']:g} s shortened to the "
                        f"--duration {sc['duration_s']:g} s")
        sc["record_interval_s"] = sc["duration_s"]
    if sc["record_interval_s"] > sc["duration_s"]:
        raise InputError(src, "scenario.record_interval_s",
                         f"{sc['record_interval_s']:g} s is longer than the run "
                         f"({sc['duration_s']:g} s)")
    if sc["duration_s"] / sc["record_interval_s"] > MAX_ROWS:
        raise InputError(src, "scenario.record_interval_s",
                         f"{sc['record_interval_s']:g} s over {sc['duration_s']:g} s is "
                         f"more than {MAX_ROWS:.0e} rows per replicate")
    return sc, file_duration


def _species(src, raw):
    if not isinstance(raw["species"], dict) or not raw["species"]:
        raise InputError(src, "species", "must be a non-empty table")
    species = {}
    for s, spec in raw["species"].items():
        if not isinstance(spec, dict):
            raise InputError(src, f"species.{s}", "must be a table like { charge = 1 }")
        if "charge" not in spec:
            raise InputError(src, f"species.{s}.charge", "missing: every species needs a charge")
        check_name(src, f"species.{s}", s)
        species[s] = fill_table(src, f"species.{s}", spec, SPECIES_KEYS)
    return species


def _compartments(src, raw, species):
    if not isinstance(raw["compartments"], dict) or not raw["compartments"]:
        raise InputError(src, "compartments", "must be a non-empty table")
    comps = {}
    for c, spec in raw["compartments"].items():
        pre = f"compartments.{c}"
        check_name(src, pre, c)
        if c == GROUND:
            raise InputError(src, pre, f"{GROUND!r} is the potential reference (a membrane's "
                             "outside to give a compartment a capacitance to ground): name "
                             "the compartment otherwise")
        t = fill_table(src, pre, spec, COMPARTMENT_KEYS)
        conc = {}
        for s, v in t["concentrations_mM"].items():
            key = f"{pre}.concentrations_mM.{s}"
            if s not in species:
                raise InputError(src, key, f"unknown species {s!r}")
            check_type(src, key, v, NUM)
            check_range(src, key, v, CONC_MM)
            conc[s] = float(v)
        t["concentrations_mM"] = conc
        for s, v in t["counts"].items():
            key = f"{pre}.counts.{s}"
            if s not in species:
                raise InputError(src, key, f"unknown species {s!r}")
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InputError(src, key, f"must be a non-negative integer count (got {v!r})")
            check_range(src, key, v, COUNT)
            if s in conc:
                raise InputError(src, key, f"{s!r} is also given in concentrations_mM: give "
                                 "one or the other")
        if not t["counts"]:  # kept out of the resolved scenario (and its hash) when unused
            del t["counts"]
        b = t["balance_charge_with"]
        if b and b not in species:
            raise InputError(src, f"{pre}.balance_charge_with", f"unknown species {b!r}")
        if b and species[b]["charge"] == 0:
            raise InputError(src, f"{pre}.balance_charge_with", f"{b!r} has no charge")
        for s in t["clamped_species"]:
            if s not in species:
                raise InputError(src, f"{pre}.clamped_species", f"unknown species {s!r}")
        comps[c] = t
    return comps


def _membranes(src, raw, comps, species):
    raw_m = raw.get("membranes", {})
    if not isinstance(raw_m, dict):
        raise InputError(src, "membranes", "must be a table of membranes")
    mems = {}
    inside_of = {}
    for m, spec in raw_m.items():
        pre = f"membranes.{m}"
        check_name(src, pre, m)
        t = fill_table(src, pre, spec, MEMBRANE_KEYS)
        for side in ("inside", "outside"):
            if t[side] not in comps and not (side == "outside" and t[side] == GROUND):
                raise InputError(src, f"{pre}.{side}", f"unknown compartment {t[side]!r}"
                                 + (f" (or {GROUND!r}: the potential reference)"
                                    if side == "outside" else ""))
        if t["outside"] == GROUND:
            # a capacitance to ground: nothing crosses it
            for k in ("water_permeability_um_per_s", "water_flux_um3_per_s", "clamp_mV"):
                if t[k] not in (0, 0.0, None, ""):
                    raise InputError(src, f"{pre}.{k}", f"a membrane to {GROUND!r} (a "
                                     "capacitance to ground) takes no " + k)
        if t["inside"] == t["outside"]:
            raise InputError(src, pre, f"inside and outside are the same compartment "
                             f"({t['inside']!r})")
        # folded membranes (microvilli, T-tubules) reach tens of times a sphere's area for
        # the volume they enclose; beyond 1000 times it is a unit slip (and ions would
        # cross in microseconds)
        v_in = comps[t["inside"]]["volume_um3"]
        most = MAX_FOLDING * SPHERE_AREA * v_in ** (2.0 / 3.0)
        if t["area_um2"] > most and not comps[t["inside"]]["bath"]:
            raise InputError(src, f"{pre}.area_um2", f"{t['area_um2']:g} um2 is more than "
                             f"{MAX_FOLDING:g} times a sphere's area for the {v_in:g} um3 "
                             f"inside ({most:.3g} um2)")
        _water_law(src, pre, t, species, comps)
        if moves_water(t):
            for side in ("inside", "outside"):
                c = comps[t[side]]
                if c["clamped_species"] and not c["bath"]:
                    # a clamped concentration in a compartment whose volume moves would
                    # need its count to follow the volume: not modelled
                    raise InputError(src, f"{pre}.{water_key(t)}",
                                     f"compartment {t[side]!r} clamps species "
                                     f"{', '.join(c['clamped_species'])}: water flow needs "
                                     "its counts free (or a bath)")
        if t["inside"] in inside_of:
            raise InputError(src, f"{pre}.inside", f"{t['inside']!r} is already inside "
                             f"membrane {inside_of[t['inside']]!r}")
        inside_of[t["inside"]] = m
        mems[m] = t
    # nested compartments (an SR inside the cytosol): the chain of enclosing membranes
    # must end in a compartment inside none (the ground, at 0 V)
    for m, t in mems.items():
        chain = enclosing(mems, t["inside"], inside_of)
        if mems[chain[-1]]["outside"] in inside_of:
            raise InputError(src, f"membranes.{m}.outside", "membranes "
                             + " -> ".join(repr(k) for k in chain + [chain[0]])
                             + " enclose one another in a ring: one compartment must be "
                             "inside no membrane")
    for c, spec in comps.items():
        chain = enclosing(mems, c, inside_of)
        if spec["clamped_species"] and not spec["bath"] and chain \
                and mems[chain[0]]["outside"] == GROUND:
            # its ions would be booked at the potential of a membrane no mechanism sits on
            # (thermo/ledger.py books a reservoir at its transition's own membrane)
            raise InputError(src, f"compartments.{c}.clamped_species",
                             f"{c!r} has a capacitance to ground ({chain[0]!r}): it can "
                             "clamp no species (make it a bath, or leave its "
                             "concentrations free)")
        if len(chain) < 2:
            continue
        # a bath or clamped species brings its ions at its compartment's potential, the
        # sum of several membranes' V there: the ledger books a reservoir at one membrane's
        # midpoint potential only (thermo/ledger.py)
        if spec["bath"] or spec["clamped_species"]:
            raise InputError(src, f"compartments.{c}." + ("bath" if spec["bath"] else
                                                           "clamped_species"),
                             f"{c!r} is nested (inside {' inside '.join(map(repr, chain))}): "
                             "a nested compartment can be neither a bath nor clamp species")
    return mems


def moves_water(mspec):
    """Whether a membrane passes water: a permeability (van 't Hoff) or a written law."""
    return mspec["water_permeability_um_per_s"] > 0 or bool(mspec["water_flux_um3_per_s"])


def water_key(mspec):
    """The key that turns a membrane's water flow on (for messages)."""
    return ("water_flux_um3_per_s" if mspec["water_flux_um3_per_s"]
            else "water_permeability_um_per_s")


def _water_law(src, pre, t, species, comps):
    """A membrane's written water law: one of the two forms, its parameters and its
    expression (the names a membrane's laws read: expressions/membrane.py)."""
    from ionmc.expressions import ExpressionError, parse
    from ionmc.expressions.membrane import check_parameters, names

    law, par = t["water_flux_um3_per_s"], t["water_parameters"]
    if not law:
        if par:
            raise InputError(src, f"{pre}.water_parameters", "parameters without a "
                             "water_flux_um3_per_s law to read them")
        return
    if t["water_permeability_um_per_s"] > 0:
        raise InputError(src, f"{pre}.water_flux_um3_per_s", "a membrane's water flow is "
                         "either a permeability (water_permeability_um_per_s) or a written "
                         "law, not both")
    known = names(par, species, comps)
    for key, msg in check_parameters(par, known):
        raise InputError(src, f"{pre}.water_{key}", msg)
    try:
        parse(law, known, f"{pre}.water_flux_um3_per_s")
    except ExpressionError as err:
        raise InputError(src, f"{pre}.water_flux_um3_per_s", err.message) from None


def check_name(src, key, name):
    """Names of species, compartments, membranes and mechanisms: identifier-like (they
    become column names, dotted keys and paths)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(src, key, f"name {name!r} must be identifier-like: a letter or '_', "
                         "then letters, digits or '_'")


def _events(src, raw, data, file_duration, warnings, dropped):
    """[[events]], sorted by time; those past a --duration are dropped with a warning."""
    sc = data["scenario"]
    events = []
    raw_e = raw.get("events", [])
    if not isinstance(raw_e, list):
        raise InputError(src, "events", "must be an array of tables ([[events]])")
    for i, ev in enumerate(raw_e):
        pre = f"events[{i}]"
        t = fill_table(src, pre, ev, {"at_s": (None, NUM), "set": (None, dict)})
        if t["at_s"] < 0:
            raise InputError(src, f"{pre}.at_s", "must not be negative")
        if t["at_s"] > file_duration:
            raise InputError(src, f"{pre}.at_s", f"{t['at_s']:g} s is past the scenario's "
                             f"duration_s ({file_duration:g} s)")
        if not t["set"]:
            raise InputError(src, f"{pre}.set", "is empty")
        for k, v in t["set"].items():
            _check_event_target(src, f"{pre}.set.{k}", k, v, data)
        if t["at_s"] > sc["duration_s"]:
            msg = (f"event at {t['at_s']:g} s dropped: after --duration "
                   f"{sc['duration_s']:g} s")
            warnings.append(msg)
            dropped.append(t)
            continue
        events.append(t)
    events.sort(key=lambda e: e["at_s"])
    return events


def _check_sweep(src, raw, data):
    """[sweep]: dotted keys (any --set target) -> lists of values; `mode` product or zip.
    Every point is validated here, so a bad value fails before anything runs."""
    if not isinstance(raw, dict):
        raise InputError(src, "sweep", "must be a table of dotted keys -> lists of values")
    mode = raw.get("mode", "product")
    if mode not in SWEEP_MODES:
        raise InputError(src, "sweep.mode", f"unknown mode {mode!r} (known: "
                         f"{', '.join(SWEEP_MODES)})")
    keys = {k: v for k, v in raw.items() if k != "mode"}
    if not keys:
        raise InputError(src, "sweep", "names no key to sweep")
    for k, v in keys.items():
        if not isinstance(v, list) or not v:
            raise InputError(src, f"sweep.{k}", "must be a non-empty list of values")
    if mode == "zip" and len({len(v) for v in keys.values()}) > 1:
        raise InputError(src, "sweep", "mode 'zip' needs lists of the same length")
    sw = {"mode": mode, "keys": keys}
    base = copy.deepcopy(data)
    for point in Scenario({**base, "sweep": sw}, src).points():
        raw_p = copy.deepcopy(base)
        for k, v in point:
            _set_dotted(raw_p, k, v, src)
        try:
            validate(raw_p, src)
        except InputError as exc:
            where = f"{exc.key}: " if exc.key else ""
            raise InputError(src, "sweep", f"at {dict(point)}: {where}{exc.message}") from None
    return sw


def _check_event_target(src, key, target, value, data):
    """Events may change mechanism parameters, clamped concentrations and clamp potentials."""
    parts = target.split(".")
    if parts[0] == "mechanisms" and len(parts) == 3:
        check_event_parameter(src, key, parts[1], parts[2], value, data)
        return
    if parts[0] == "compartments" and len(parts) == 4 and parts[2] == "concentrations_mM":
        c = data["compartments"].get(parts[1])
        if c is None:
            raise InputError(src, key, f"unknown compartment {parts[1]!r}")
        if parts[3] not in data["species"]:
            raise InputError(src, key, f"unknown species {parts[3]!r}")
        if not (c["bath"] or parts[3] in c["clamped_species"]):
            raise InputError(src, key, "only a bath's or a clamped species' concentration "
                             "can be set by an event")
        check_type(src, key, value, NUM)
        check_range(src, key, value, CONC_MM)
        return
    if parts[0] == "membranes" and len(parts) == 3 and parts[2] == "clamp_mV":
        m = data["membranes"].get(parts[1])
        if m is None:
            raise InputError(src, key, f"unknown membrane {parts[1]!r}")
        if m["clamp_mV"] is None:
            raise InputError(src, key, "the membrane is not voltage-clamped (set clamp_mV)")
        check_type(src, key, value, NUM)
        check_range(src, key, value, POTENTIAL_MV)
        return
    raise InputError(src, key, "unknown event target (use mechanisms.NAME.PARAM, "
                     "compartments.NAME.concentrations_mM.SPECIES or membranes.NAME.clamp_mV)")
