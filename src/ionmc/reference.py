"""The scenario reference (docs/scenario-reference.md), generated from the tables the
validator itself reads: the core tables' schemas (scenario/validate.py) and each mechanism
type's `PARAMS` (default, meaning, physical range). So the page cannot drift from the code
unnoticed: tests/unit/test_docs.py compares the committed page with `page()`.

Regenerate with `python -m ionmc.reference` (writes docs/scenario-reference.md).

The core schemas carry defaults and ranges but no prose; their meanings are kept here,
in `CORE`, and a test fails when a schema key has none."""
import importlib
import sys
from pathlib import Path

from ionmc import ranges

#: meaning of every key of the core tables (the schemas in scenario/validate.py hold the
#: defaults and ranges); "required" keys have no default
CORE = {
    "scenario": {
        "name": "the scenario's name (shown by `ionmc list`, in reports and manifests)",
        "description": "one line, shown by `ionmc list`",
        "temperature_K": "temperature; rates are given at 310 K (37 C) and scale with each "
                         "mechanism's `q10`, thermodynamics uses this value",
        "duration_s": "simulated time (s); `--duration` shortens it, dropping later events "
                      "with a warning",
        "record_interval_s": "time between recorded rows (s)",
        "method": "`ssa` (exact), `tau-leap` (adaptive leaps) or `ode` (mean field); see "
                  "the guide's \"Which method when\"",
        "replicates": "independent trajectories, each seeded by its own child of "
                      "`SeedSequence(seed)`",
        "seed": "root seed: same seed and method, same numbers whatever the number of workers",
        "start": "`given` (start from the file's state) or `steady_state` (first relax the "
                 "ODE to its fixed point)",
        "random_streams": "`shared`, or `per_transition`: one Poisson stream per transition, "
                          "for paired runs (`ssa`, `tau-leap`)",
        "water_split": "with water flow under `ode`: false integrates the volumes with the "
                       "ions (exact to the tolerance; a Python right-hand side), true splits "
                       "water steps from the compiled ion solver (for models with many "
                       "mechanisms; `ssa` and `tau-leap` always split)",
    },
    "species.NAME": {
        "charge": "integer charge z (Na+ 1, Cl- -1, Ca2+ 2; 0 for cargo and metabolites)",
        "permeant": "false for species no membrane mechanism may move (impermeant anions, "
                    "buffer sites)",
    },
    "compartments.NAME": {
        "volume_um3": "volume (um^3); fixed unless a membrane passes water",
        "concentrations_mM": "initial concentrations, species -> mM",
        "counts": "initial amounts as molecule counts, species -> count (a species takes "
                  "counts or mM, not both)",
        "balance_charge_with": "species whose amount is solved so that the membrane starts at "
                               "`initial_potential_mV` (electroneutral for a compartment that "
                               "is no membrane's inside)",
        "bath": "true: every concentration clamped (an infinite reservoir)",
        "clamped_species": "species whose concentration this compartment holds fixed (a "
                           "perfused cell)",
    },
    "membranes.NAME": {
        "inside": "the compartment inside (V is inside minus outside)",
        "outside": "the compartment outside, or \"ground\": the membrane is then the inside's "
                   "capacitance to ground (no mechanisms), which gives an extracellular "
                   "space a potential of its own",
        "area_um2": "membrane area (um^2)",
        "capacitance_uF_per_cm2": "specific capacitance (uF/cm^2); C = c_m x area",
        "initial_potential_mV": "potential at t = 0 (mV), met by solving the inside's "
                                "`balance_charge_with` species; left out, 0 mV with a "
                                "warning",
        "clamp_mV": "voltage clamp (mV); unset: V follows the counted charge",
        "water_permeability_um_per_s": "osmotic water permeability P_f (um/s); > 0 lets water "
                                       "follow osmotic differences (volumes move)",
        "water_flux_um3_per_s": "or a water law of your own: an expression for the flow "
                                "into the inside (um^3/s; V, T, concentrations by name, "
                                "`water_parameters`), instead of P_f",
        "water_parameters": "named constants the water law reads (units in their names)",
    },
}
#: extra rows for table-valued keys whose entries have their own range
_EXTRA = {"compartments.NAME": (("concentrations_mM.SPECIES", "CONC_MM"),
                                ("counts.SPECIES", "COUNT"))}
#: what a default of None (no value) means where it is not "required"
_UNSET = {
    ("membranes.NAME", "clamp_mV"): "unset",
    ("leak", "permeability_cm_per_s"): "one of the two",
    ("leak", "conductance_mS_per_cm2"): "one of the two",
    ("hh_channel", "species"): "the family's ion",
    ("hh_channel", "single_channel_permeability_um3_per_s"): "one of the two",
    ("hh_channel", "single_channel_conductance_pS"): "one of the two",
    ("channel", "single_channel_permeability_um3_per_s"): "one of the two",
    ("channel", "single_channel_conductance_pS"): "one of the two",
}
#: each mechanism type: (one line on what it is, its docs page relative to docs/); a test
#: fails when a registered type has no entry
TYPES = {
    "leak": ("Ion channels always open: GHK fluxes (or ohmic ones) of one species across a "
             "membrane.", "mechanisms/leaks.md"),
    "nak_pump": ("The Na+/K+-ATPase as the reduced 4-state Post-Albers cycle (Smith & "
                 "Crampin 2004, constants of Terkildsen et al. 2007), pumps counted per "
                 "state.", "mechanisms/pumps.md"),
    "metabolism": ("A metabolic pool (ATP, ADP, Pi, O2, optionally PCr and Cr) in the "
                   "compartment inside the membrane, made by oxidative phosphorylation.",
                   "mechanisms/metabolism.md"),
    "cotransporter": ("A cotransporter or exchanger (GAT1, SGLT1/2, NKCC1, KCC2, NCX, PMCA "
                      "or your own stoichiometry): one saturating turnover law in detailed "
                      "balance.", "mechanisms/cotransporters.md"),
    "spike_train": ("The ionic load of action potentials at Poisson times: Na+ in and K+ out "
                    "per spike, not the waveform.", "mechanisms/activity.md"),
    "buffer": ("Reversible binding of an ion to buffer sites in one compartment "
               "(Ca + B <-> CaB).", "mechanisms/calcium.md"),
    "coupling": ("Electrodiffusion between two compartments with no membrane between them: "
                 "extracellular shells, gap junctions.", "mechanisms/couplings.md"),
    "kir": ("Inward-rectifier K+ channels (astrocytes' Kir4.1), the rectification of Halnes "
            "et al. 2013.", "mechanisms/channels.md"),
    "hh_channel": ("Voltage-gated channels counted per gating state: Hodgkin-Huxley gating "
                   "as a Markov scheme.", "mechanisms/channels.md"),
    "injection": ("Current clamp: one species moved at a set current into a compartment, "
                  "from another compartment or an electrode.", "mechanisms/activity.md"),
    "reaction": ("Mass-action chemistry among the species of one compartment.",
                 "reactions.md"),
    "channel": ("A channel whose gates the scenario writes: alpha/beta (or inf/tau) as "
                "expressions of V, concentrations and its own parameters, counted per "
                "gating state like hh_channel.", "writing-mechanisms.md"),
    "transporter": ("A transporter whose forward turnover rate the scenario writes as an "
                    "expression; the reverse follows from detailed balance, so it joins the "
                    "ledger.", "writing-mechanisms.md"),
    "na_k_atpase": ("The per-molecule Na+/K+-ATPase: a 13-state elementary Post-Albers "
                    "cycle fitted to measurements; the fitted constants and the data they "
                    "meet are in validation.md.", "mechanisms/pumps.md"),
}

_HEAD = """\
# Scenario reference

Every key a scenario file may hold, with its default, meaning and physical range. This
page is generated from the parameter tables the validator reads (`python -m
ionmc.reference`), and a test fails when it is out of date. A key without a default is
required. Units are in the key names (`_mM`, `_um3`, `_per_s`, ...). A number outside its
range (in the file, a `--set`, an event or a sweep) exits with status 2 and one line naming
the key and the range; `(a, b]` excludes a, and "not set" is the sentinel of a key derived
from others. How the tables fit together: [the user guide](guide.md#a-scenario-file).
"""

_EVENTS = """\
## [[events]]

| key | default | meaning | range |
|---|---|---|---|
| `at_s` | required | time of the change (s); not past the file's `duration_s` | [0, duration_s] |
| `set` | required | table of dotted keys to new values: `mechanisms.NAME.PARAM`, \
`compartments.NAME.concentrations_mM.SPECIES` (a bath or clamped species), \
`membranes.NAME.clamp_mV` | the key's own |

The row recorded at an event's time shows the state just before the event. Parameters
that fix a mechanism's structure (its type, name, membrane, species, agents, presets and
stoichiometry tables) cannot be changed by events.

## [sweep]

| key | default | meaning |
|---|---|---|
| `mode` | `"product"` | `product`: every combination of the lists; `zip`: the lists side by side |
| any dotted key | – | a list of values for that key (anything `--set` can address) |
"""


def _default(where, key, d):
    if d is None:
        return _UNSET.get((where, key), "required")
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, str):
        return f'`"{d}"`'
    if isinstance(d, (dict, list)):
        return "`{}`" if isinstance(d, dict) else "`[]`"
    return f"{d:g}"


def _cell(s):
    """Markdown-table-safe text: '|' would end the cell."""
    return str(s).replace("|", "\\|")


def _table(lines, title, rows, intro=None):
    lines += [f"## {title}", ""]
    if intro:
        lines += [intro, ""]
    lines += ["| key | default | meaning | range |", "|---|---|---|---|"]
    lines += [f"| `{k}` | {_cell(d)} | {_cell(m)} | {'' if r is None else r} |"
              for k, d, m, r in rows]
    lines.append("")


def page():
    """The scenario reference as Markdown."""
    from ionmc.mechanisms.registry import REGISTRY

    v = importlib.import_module("ionmc.scenario.validate")  # the module, not the function
    lines = [_HEAD]
    for where, schema in (("scenario", v.SCENARIO_KEYS), ("species.NAME", v.SPECIES_KEYS),
                          ("compartments.NAME", v.COMPARTMENT_KEYS),
                          ("membranes.NAME", v.MEMBRANE_KEYS)):
        rows = [(k, _default(where, k, e[0]), CORE[where].get(k, ""),
                 e[2] if len(e) > 2 else None) for k, e in schema.items()]
        for k, attr in _EXTRA.get(where, ()):
            rows.append((k, "–", "per-species entry of the table above", getattr(v, attr)))
        _table(lines, f"[{where}]", rows)
    lines += ["## [[mechanisms]]", "",
              "Every mechanism table has `type` (one of the types below) and `name` "
              "(identifier-like, unique; events and `--set` address it as "
              "`mechanisms.NAME.PARAM`). Mechanisms are listed in the order their kinds "
              "are numbered.", ""]
    for t, mod in REGISTRY.items():
        rows = []
        for k, e in mod.PARAMS.items():
            d, meaning, rng = ranges.entry(e)
            rows.append((k, _default(t, k, d), meaning, rng))
        what, where = TYPES.get(t, ("", ""))
        intro = what + (f" See [{where}]({where})." if where else "")
        lines_t = []
        _table(lines_t, f"type = \"{t}\"", rows, intro)
        lines += ["#" + lines_t[0]] + lines_t[1:]
    lines.append(_EVENTS)
    return "\n".join(lines).rstrip("\n") + "\n"


def write(path=None):
    """Write the page (default: docs/scenario-reference.md of this checkout)."""
    path = Path(path) if path else Path(__file__).resolve().parents[2] / "docs" / \
        "scenario-reference.md"
    path.write_text(page())
    return path


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("-"):  # -h, --help: not a file name
        print("usage: python -m ionmc.reference [PATH]  (default: docs/scenario-reference.md)")
        sys.exit(0 if sys.argv[1] in ("-h", "--help") else 2)
    print(write(sys.argv[1] if len(sys.argv) > 1 else None))
