"""Scenario files (TOML): finding them, loading, `--set` overrides, sweeps' points, and
the `Scenario` object; validation is validate.py, writing back toml.py.
"""
import copy
import hashlib
import itertools
import json
import re
import tomllib
from pathlib import Path

from ionmc.errors import InputError
from ionmc.scenario.toml import dumps_toml

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


def builtin_dir():
    """Built-in scenarios: inside the installed package, or the repository's scenarios/."""
    if SCENARIO_DIR.is_dir():
        return SCENARIO_DIR
    return Path(__file__).resolve().parents[3] / "scenarios"


def builtins():
    """{name: (path, description)} of the built-in scenarios."""
    return {name: (info["path"], info["description"])
            for name, info in builtin_summaries().items()}


def builtin_summaries():
    """{name: {"path", "description", "method", "duration_s", "replicates"}} of the
    built-in scenarios, read from their own [scenario] tables (the validator's defaults
    where a file leaves a key out)."""
    from ionmc.scenario.validate import SCENARIO_KEYS

    out = {}
    for p in sorted(builtin_dir().glob("*.toml")):
        try:
            sc = tomllib.loads(p.read_text()).get("scenario", {})
        except tomllib.TOMLDecodeError:
            sc = {"description": "(unreadable)"}
        out[p.stem] = {"path": p, "description": sc.get("description", ""),
                       "method": sc.get("method", SCENARIO_KEYS["method"][0]),
                       "duration_s": sc.get("duration_s"),
                       "replicates": sc.get("replicates", SCENARIO_KEYS["replicates"][0])}
    return out


def _builtin_names():
    """The built-ins' names, without reading their files."""
    return [p.stem for p in sorted(builtin_dir().glob("*.toml"))]


def builtin_path(name):
    """The file of the built-in scenario `name`; InputError (with the nearest names)
    when there is none."""
    p = builtin_dir() / f"{name}.toml"
    if p.is_file():
        return p
    raise InputError(name, None, "no such built-in scenario" + _suggest(name, _builtin_names()))


def _suggest(name, names):
    """"; did you mean ...?" for a near miss (a typo), else the list of all names."""
    from ionmc.scenario.tables import did_you_mean

    near = did_you_mean(name, names, n=3)
    if near:
        return f"{near} (`ionmc list` shows all)"
    return f" (built-ins: {', '.join(names)})"


def resolve_path(name_or_path):
    """A scenario file's path: a file, else a built-in's name. A directory is said to be one
    only after the built-ins (an OUTDIR named like its scenario must not hide it)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    names = _builtin_names()
    if str(name_or_path) in names:
        return builtin_path(str(name_or_path))
    if p.is_dir():
        raise InputError(name_or_path, None, "is a directory, not a scenario file (give a "
                         ".toml file or a built-in name: `ionmc list`)")
    if p.suffix == ".toml" or p.parent != Path("."):
        raise InputError(name_or_path, None, "no such file")
    raise InputError(name_or_path, None,
                     "no such file or built-in scenario" + _suggest(name_or_path, names))


#: a bare word that `--set` takes as a string: one identifier-like token
_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


def parse_set(item, source="--set"):
    """'dotted.key=value' -> (key, value); the value is a TOML literal, never code."""
    if "=" not in item:
        raise InputError(source, item, "expected KEY=VALUE")
    key, _, text = item.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise InputError(source, item, "empty key")
    t = text.strip()
    if "\n" in t or "\r" in t:
        raise InputError(source, key, "a value is one line")
    try:
        doc = tomllib.loads(f"v = {t}")
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(t):  # a bare word is a string: --set scenario.method=ode
            return key, t
        raise InputError(source, key, f"value {t!r} is not a TOML literal "
                         "(quote strings: key='\"text\"')") from None
    value = doc["v"]
    # nothing may follow the value (TOML would drop a trailing comment silently)
    ends = {str: ('"', "'"), list: ("]",), dict: ("}",)}.get(type(value))
    if (ends and not t.endswith(ends)) or (not ends and ("#" in t or " " in t)):
        raise InputError(source, key, f"text after the value in {t!r}")
    return key, value


def _set_dotted(raw, key, value, source):
    from ionmc.scenario.validate import TOP_KEYS

    parts = key.split(".")
    node = raw
    if parts[0] == "mechanisms" and len(parts) >= 3:
        for m in raw.get("mechanisms", []):
            if isinstance(m, dict) and m.get("name") == parts[1]:
                node = m
                break
        else:
            raise InputError(source, key, f"no mechanism named {parts[1]!r}")
        parts = parts[2:]
    for i, p in enumerate(parts[:-1]):
        if p not in node:
            if i == 0 and p not in TOP_KEYS:
                from ionmc.scenario.tables import did_you_mean

                raise InputError(source, key, f"unknown table {p!r}" + did_you_mean(p, TOP_KEYS))
            # a table the file leaves out: validation then names what it lacks, in the file
            node[p] = {}
        node = node[p]
        if not isinstance(node, dict):
            raise InputError(source, key, f"{p!r} is not a table")
    node[parts[-1]] = value


class Scenario:
    """A validated scenario: `data` is the resolved dict (defaults filled, overrides
    applied), `source` where it came from, `warnings` what was dropped on the way."""

    def __init__(self, data, source, warnings=(), dropped_events=()):
        self.data = data
        self.source = str(source)
        self.warnings = list(warnings)
        self.dropped_events = list(dropped_events)

    @property
    def name(self):
        return self.data["scenario"]["name"]

    def __getitem__(self, k):
        return self.data[k]

    def __repr__(self):
        """One line a notebook can read: name, method, duration, what it holds."""
        d = self.data
        sc = d["scenario"]
        comps = ", ".join(f"{c} {v['volume_um3']:g} µm³" + (" bath" if v.get("bath") else "")
                          for c, v in d["compartments"].items())
        kinds = {}
        for m in d["mechanisms"]:
            kinds[m["type"]] = kinds.get(m["type"], 0) + 1
        mechs = ", ".join(t + (f" ×{n}" if n > 1 else "") for t, n in kinds.items())
        n_ev = len(d.get("events", []))
        return (f"<Scenario {self.name!r}: {sc['method']}, {sc['duration_s']:g} s, "
                f"{sc['replicates']} replicate(s); compartments: {comps}; "
                f"{len(d.get('membranes', {}))} membrane(s); mechanisms: {mechs or 'none'}"
                + (f"; {n_ev} event(s)" if n_ev else "")
                + (f"; sweep of {len(self.points())} points" if self.sweep else "")
                + f"; from {self.source}>")

    def mechanism(self, name):
        for m in self.data["mechanisms"]:
            if m["name"] == name:
                return m
        raise KeyError(name)

    def to_toml(self):
        return dumps_toml(self.data)

    def hash(self):
        """Hash of the resolved scenario, replicates excluded (so a run can be extended)."""
        d = copy.deepcopy(self.data)
        d["scenario"].pop("replicates", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def sweep(self):
        """{"mode", "keys": {dotted key: [values]}} or None."""
        return self.data.get("sweep")

    def points(self):
        """The sweep's points, as lists of (dotted key, value): the product of the keys'
        values, or (mode "zip") their values taken together. One empty point without a
        sweep."""
        sw = self.sweep
        if not sw:
            return [[]]
        keys = list(sw["keys"])
        vals = [sw["keys"][k] for k in keys]
        combos = zip(*vals) if sw["mode"] == "zip" else itertools.product(*vals)
        return [list(zip(keys, c)) for c in combos]

    def at_point(self, point):
        """The scenario of one sweep point (no sweep left in it)."""
        raw = copy.deepcopy(self.data)
        raw.pop("sweep", None)
        for k, v in point:
            _set_dotted(raw, k, v, self.source)
        from ionmc.scenario.validate import validate

        return validate(raw, self.source)

    def with_overrides(self, overrides, duration=None, label="override"):
        """A new validated scenario with (key, value) overrides applied; an error names
        `label` (the command line's "--set")."""
        raw = copy.deepcopy(self.data)
        if raw.get("sweep"):  # back to its TOML form: [sweep] mode = ..., key = [...]
            raw["sweep"] = {"mode": raw["sweep"]["mode"], **raw["sweep"]["keys"]}
        for k, v in overrides:
            _set_dotted(raw, k, v, label)
        from ionmc.scenario.validate import validate

        return validate(raw, self.source, duration=duration)


def _blame(exc, origins, path):
    """An InputError about a key an override set, re-addressed to the override (`--set
    KEY=VALUE`, `--seed`, ...) instead of the scenario file, which did not say it."""
    key = exc.key or ""
    for k, origin in reversed(origins):  # the last override of a key is the one in force
        if key == k or key.startswith(k + "."):
            where = f"{key}: " if key != k else ""  # a key inside a table it set
            new = InputError(origin, None,
                             f"{where}{exc.message} (scenario {Path(path).name})")
            new.key = key
            return new
    return exc


def _membrane_defaults(raw):
    """Warnings for membranes whose initial potential is left to the default (0 mV):
    stated, not silent (docs/decisions.md, "A membrane's initial potential")."""
    out = []
    mems = raw.get("membranes") if isinstance(raw, dict) else None
    for name, m in (mems.items() if isinstance(mems, dict) else ()):
        if isinstance(m, dict) and "initial_potential_mV" not in m and "clamp_mV" not in m:
            out.append(f"membranes.{name}.initial_potential_mV not given: the membrane "
                       "starts at 0 mV (set it, e.g. -70.0, for a resting cell)")
    return out


def unset_but_moved(sc):
    """Warnings for a species a compartment does not give (so 0 mM, legitimate: a Cl-free
    or Ca-free solution) that a mechanism moves into or out of it across a membrane (or
    a coupling): stated, not silent. Asked of the compiled model's stoichiometry
    (Model.stoich_full), whatever the mechanism's type; a transition that changes the
    species in one compartment alone (chemistry) moves nothing across."""
    from ionmc.model.compiled import Model

    d = sc.data
    try:
        model = Model(sc)
    except Exception:  # noqa: BLE001 (its own errors come when the scenario runs)
        return []
    out = []
    by_index = model.stoich_full.tocsc()  # the transitions that move each state index

    def movers(i):
        return set(by_index.indices[by_index.indptr[i]:by_index.indptr[i + 1]].tolist())

    for ci, c in enumerate(model.comps):
        spec = d["compartments"][c]
        given = set(spec["concentrations_mM"]) | set(spec.get("counts", {}))
        given.add(spec["balance_charge_with"])
        for si, s in enumerate(model.species):
            i = ci * model.ns + si
            if s in given or model.pool_mask[i] or model.x0[i] != 0:
                continue
            others = [k * model.ns + si for k in range(model.nc) if k != ci]
            rows = sorted(movers(i) & set().union(*(movers(k) for k in others)))
            for mech in dict.fromkeys(model.mechs[model.tr_mech[j]] for j in rows):
                mem = mech.spec.get("membrane")
                where = f"across {mem}" if mem else "into or out of it"
                out.append(f"compartments.{c}: no {s} given (0 mM), yet {mech.name} "
                           f"moves {s} {where}")
    return out


def load_scenario(name_or_path, overrides=(), duration=None, label="override"):
    """Load, override (`overrides`: iterable of 'key=value' strings, (key, value) or
    (key, value, origin) where origin names the option that set it, e.g. "--seed") and
    validate a scenario file or built-in name. Raises InputError on bad input; an error
    about a key an override set names the override ("override KEY=VALUE"; `label` is
    what an override is called there: the command line passes "--set"), not the file."""
    path = resolve_path(name_or_path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"cannot read: {exc}") from None
    if not text.strip():
        raise InputError(path, None, "empty file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML: {exc}") from None
    origins = []
    for item in overrides:
        if isinstance(item, str):
            (k, v), origin = parse_set(item, label), f"{label} {item.strip()}"
        else:
            k, v, origin = item if len(item) == 3 else (*item, f"{label} {item[0]}")
        _set_dotted(raw, k, v, label)
        origins.append((k, origin))
    from ionmc.scenario.validate import validate

    try:
        sc = validate(raw, path, duration=duration)
    except InputError as exc:
        raise _blame(exc, origins, path) from None
    sc.warnings[:0] = _membrane_defaults(raw) + unset_but_moved(sc)
    return sc
