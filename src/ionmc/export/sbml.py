"""A scenario's ode model as SBML Level 3 Version 2 (`ionmc export SCENARIO --sbml FILE`,
docs/sbml.md), built with python-libsbml, so that an SBML simulator (libroadrunner, COPASI)
integrates the same equations as ionmc's `ode` method:

- species: every state count of the compiled model (ions per compartment, a pump's cycle
  and blocked counts) in molecules (`hasOnlySubstanceUnits`), those of baths and clamped
  species constant (boundary conditions); compartments in um^3, membranes as 2-D
  compartments in um^2 that hold their pumps' states;
- parameters `V_<membrane>` (volts): an assignment rule from the counted charge, the same
  sum as kernels.voltages (the inside's ions and the charge a pump holds on the inside of
  the field, Model.mem_qx), or the clamp;
- one irreversible reaction per transition (forward and backward apart), its kinetic law
  the ode's propensity, which the transition's mechanism type writes
  (`Mechanism.sbml_rate(model, j, name_of)`: leak.py, nka.py); a type without it is
  refused;
- the scenario's events: a compartment's concentration and a membrane's clamp directly, a
  mechanism's parameter through its type (`Mechanism.sbml_event`); events at t = 0 are
  applied to the initial state, as the runner does before the first step.

Not exported: the free-energy and entropy ledger (thermo/), individual agents, water
flow, and whatever a mechanism type or an event cannot express (refused with one line).
"""
import copy
import re

import numpy as np

from ionmc.constants import E_CHARGE
from ionmc.errors import InputError
from ionmc.export import sbml_number
from ionmc.physics import count_of

LEVEL, VERSION = 3, 2
INSTALL_HINT = "SBML export needs python-libsbml: pip install 'ionmc[sbml]'"


def _libsbml():
    try:
        import libsbml
    except ImportError:
        raise InputError(None, None, INSTALL_HINT) from None
    return libsbml


def _sid(text):
    """A valid SBML identifier from a name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(text))
    return s if re.match(r"[A-Za-z_]", s) else "_" + s


class Names:
    """Identifiers of the exported model: `names(i)` is state index i's species id,
    `names.potential(m)` membrane m's potential parameter (`V_<membrane>`)."""

    def __init__(self, model):
        self.used = set()
        self.species = [None] * model.nx
        for ci, c in enumerate(model.comps):
            for si, s in enumerate(model.species):
                self.species[ci * model.ns + si] = self._new(f"{c}_{s}")
        for mech in model.mechs:
            for k, i in enumerate(mech.states):
                self.species[i] = self._new(f"{mech.name}_{mech.state_label(k)}")
            if mech.blocked is not None:
                self.species[mech.blocked] = self._new(f"{mech.name}_blocked")
        for i, n in enumerate(self.species):  # slots no one named
            if n is None:
                self.species[i] = self._new(f"x{i}")
        self.V = [self._new(f"V_{m}") for m in model.mems]
        self.comps = [self._new(c) for c in model.comps]
        self.mems = [self._new(f"{m}_membrane") for m in model.mems]

    def _new(self, name):
        s, k = _sid(name), 2
        while s in self.used:
            s = f"{_sid(name)}_{k}"
            k += 1
        self.used.add(s)
        return s

    def __call__(self, i):
        return self.species[int(i)]

    def potential(self, m):
        return self.V[int(m)]


def _check(libsbml, code, what):
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml: {what}: {libsbml.OperationReturnValue_toString(code)}")


def _math(libsbml, formula, what):
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise RuntimeError(f"libsbml cannot parse the formula of {what}: "
                           f"{libsbml.getLastParseL3Error()}: {formula}")
    return ast


def _unit(model, uid, parts):
    ud = model.createUnitDefinition()
    ud.setId(uid)
    for kind, exponent, scale in parts:
        u = ud.createUnit()
        u.setKind(kind)
        u.setExponent(exponent)
        u.setScale(scale)
        u.setMultiplier(1.0)


def to_sbml(scenario):
    """The SBML document (a string) of a loaded Scenario's ode model; InputError (one line)
    for what does not translate."""
    libsbml = _libsbml()
    from ionmc.engine import volume
    from ionmc.model import Model
    from ionmc.runs.replicate import initial_state
    from ionmc.scenario.load import Scenario

    src = scenario.source
    data = copy.deepcopy(scenario.data)  # events below move the copy's specs along
    model = Model(Scenario(data, src))
    for mech in model.mechs:
        if getattr(mech, "sbml_rate", None) is None:
            raise InputError(src, None, f"mechanism {mech.name!r} (type {mech.type}) has no "
                             "SBML translation")
        if mech.agent_slots is not None:
            raise InputError(src, None, f"mechanism {mech.name!r}: individual agents have "
                             "no SBML translation (the export is of the ode model)")
    if volume.Water(model).on:
        raise InputError(src, None, "water flow (moving volumes) has no SBML translation")
    x0 = np.asarray(initial_state(model, integer=False), float).copy()
    duration = data["scenario"]["duration_s"]
    events = sorted((e for e in data["events"] if e["at_s"] <= duration),
                    key=lambda e: e["at_s"])
    rng = np.random.default_rng(0)  # continuous events draw nothing
    for e in events:  # the runner applies t = 0 events before the first step
        if e["at_s"] == 0:
            for k, v in e["set"].items():
                model.apply_set(k, v, x0, rng, continuous=True)
    names = Names(model)

    doc = libsbml.SBMLDocument(LEVEL, VERSION)
    m = doc.createModel()
    m.setId(_sid(data["scenario"]["name"]))
    m.setName(f"ionmc scenario {data['scenario']['name']} (ode model)")
    _unit(m, "um3", [(libsbml.UNIT_KIND_METRE, 3, -6)])
    _unit(m, "um2", [(libsbml.UNIT_KIND_METRE, 2, -6)])
    _unit(m, "per_second", [(libsbml.UNIT_KIND_SECOND, -1, 0)])
    m.setTimeUnits("second")
    m.setSubstanceUnits("item")
    m.setExtentUnits("item")
    m.setVolumeUnits("um3")
    m.setAreaUnits("um2")

    for ci, c in enumerate(model.comps):
        comp = m.createCompartment()
        comp.setId(names.comps[ci])
        comp.setName(c)
        comp.setSpatialDimensions(3)
        comp.setSize(float(model.vol[ci]))
        comp.setUnits("um3")
        comp.setConstant(True)
    for mi, mem in enumerate(model.mems):
        comp = m.createCompartment()
        comp.setId(names.mems[mi])
        comp.setName(f"membrane {mem}")
        comp.setSpatialDimensions(2)
        comp.setSize(float(model.mem_area[mi]))
        comp.setUnits("um2")
        comp.setConstant(True)

    # which compartment holds each state index: ions their own, agent states their
    # mechanism's membrane
    where = [names.comps[i // model.ns] for i in range(model.nion)] + \
        [names.comps[0]] * (model.nx - model.nion)
    for mech in model.mechs:
        mem = mech.spec.get("membrane")
        if mem in model.mems:
            for i in list(mech.states) + ([mech.blocked] if mech.blocked is not None else []):
                where[i] = names.mems[model.mems.index(mem)]
    targets = set()
    for e in events:
        for k in e["set"]:
            p = k.split(".")
            if p[0] == "compartments":
                targets.add(model.idx(p[1], p[3]))
    for i in range(model.nx):
        sp = m.createSpecies()
        sp.setId(names(i))
        sp.setCompartment(where[i])
        sp.setInitialAmount(float(x0[i]))
        sp.setHasOnlySubstanceUnits(True)
        sp.setSubstanceUnits("item")
        clamped = bool(model.clamped[i])
        sp.setBoundaryCondition(clamped)
        sp.setConstant(clamped and i not in targets)

    clamp_events = {k.split(".")[1] for e in events for k in e["set"]
                    if k.startswith("membranes.")}
    for mi, mem in enumerate(model.mems):
        p = m.createParameter()
        p.setId(names.potential(mi))
        p.setName(f"potential of membrane {mem} (inside - outside)")
        p.setUnits("volt")
        if model.mem_clamped[mi]:
            p.setValue(float(model.mem_vclamp[mi]))
            p.setConstant(mem not in clamp_events)
            continue
        p.setConstant(False)
        row = model.mem_qx.getrow(mi)
        terms = [_term(w, names(i)) for i, w in zip(row.indices.tolist(), row.data.tolist())]
        rule = m.createAssignmentRule()
        rule.setVariable(names.potential(mi))
        charge = " ".join(terms).lstrip("+ ") or "0"
        formula = f"{sbml_number(E_CHARGE / model.mem_C[mi])} * ({charge})"
        _check(libsbml, rule.setMath(_math(libsbml, formula, f"V_{mem}")), f"V_{mem}")

    from ionmc.mechanisms.registry import kind_name

    for j in range(model.nt):
        mech = model.mechs[model.tr_mech[j]]
        r = m.createReaction()
        r.setId(f"R{j}_{_sid(mech.name)}")
        r.setName(f"{mech.name}: {kind_name(int(model.tr_kind[j]))}")
        r.setReversible(False)
        st = model.stoich_full.getrow(j)
        for i, v in zip(st.indices.tolist(), st.data.tolist()):
            ref = r.createReactant() if v < 0 else r.createProduct()
            ref.setSpecies(names(i))
            ref.setStoichiometry(float(abs(v)))
            ref.setConstant(True)
        formula = mech.sbml_rate(model, j, names)
        read = {names(i) for i in range(model.nx)
                if re.search(rf"\b{re.escape(names(i))}\b", formula)}
        for sid in sorted(read - {names(i) for i in np.nonzero(st)[0]}):
            mod = r.createModifier()
            mod.setSpecies(sid)
        kl = r.createKineticLaw()
        _check(libsbml, kl.setMath(_math(libsbml, formula, r.getId())), r.getId())

    # the events at one time as one SBML event (ionmc applies them together, in order):
    # SBML evaluates every assignment before making any, so a count set twice is refused
    at = {}
    for e in events:
        if e["at_s"] > 0:
            at.setdefault(e["at_s"], []).extend(e["set"].items())
    for n, (t, sets) in enumerate(at.items()):
        assignments = []
        for key, value in sets:
            assignments += _event_assignments(model, names, key, value, t, src)
        twice = {v for v, _ in assignments if [w for w, _ in assignments].count(v) > 1}
        if twice:
            raise InputError(src, None, f"events at {t:g} s set {sorted(twice)[0]} twice: "
                             "no SBML translation (SBML applies them at once)")
        ev = m.createEvent()
        ev.setId(f"event{n}")
        ev.setName(f"at {t:g} s: " + ", ".join(f"{k} = {v}" for k, v in sets))
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(False)
        trig.setPersistent(True)
        _check(libsbml, trig.setMath(_math(libsbml, f"time >= {sbml_number(t)}", ev.getId())),
               ev.getId())
        for var, formula in assignments:
            ea = ev.createEventAssignment()
            ea.setVariable(var)
            _check(libsbml, ea.setMath(_math(libsbml, formula, f"{ev.getId()} {var}")),
                   ev.getId())

    doc.checkInternalConsistency()
    errors = [doc.getError(k) for k in range(doc.getNumErrors())
              if doc.getError(k).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        raise RuntimeError(f"libsbml: {errors[0].getMessage().strip()}")
    return libsbml.writeSBMLToString(doc)


def _term(w, sid):
    """`+ sid`, `- sid` or `+ w * sid` of a weighted sum."""
    if w == 1.0:
        return f"+ {sid}"
    if w == -1.0:
        return f"- {sid}"
    return f"{'-' if w < 0 else '+'} {sbml_number(abs(w))} * {sid}"


def _event_assignments(model, names, key, value, t, src):
    """[(variable, infix formula)] of one event's assignment `key = value`, or InputError."""
    parts = key.split(".")
    where = f"event at {t:g} s sets {key}"
    if parts[0] == "compartments":  # compartments.C.concentrations_mM.S
        c, s = parts[1], parts[3]
        n = count_of(float(value), model.vol[model.comps.index(c)])
        return [(names(model.idx(c, s)), sbml_number(n))]
    if parts[0] == "membranes":  # a clamp_mV: moves a clamped membrane's potential only
        mi = model.mems.index(parts[1])
        return [(names.potential(mi), sbml_number(float(value) * 1e-3))] \
            if model.mem_clamped[mi] else []
    mech = next(mm for mm in model.mechs if mm.name == parts[1])
    translate = getattr(mech, "sbml_event", None)
    if translate is None:
        raise InputError(src, None, f"{where}: mechanism {mech.name!r} (type {mech.type}) "
                         "has no SBML translation of its events")
    try:
        return translate(model, parts[2], value, names)
    except NotImplementedError as exc:
        raise InputError(src, None, f"{where}: no SBML translation ({exc})") from None


def export(scenario, path):
    """Write the scenario's SBML to `path`; returns (species, reactions, events) counts."""
    text = to_sbml(scenario)
    libsbml = _libsbml()
    doc = libsbml.readSBMLFromString(text)
    m = doc.getModel()
    with open(path, "w") as f:
        f.write(text)
    return m.getNumSpecies(), m.getNumReactions(), m.getNumEvents()
