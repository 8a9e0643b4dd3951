"""A scenario builder for tests: the scenario dict (species, compartments, membranes,
mechanisms, events) built by method calls instead of TOML templates copied between tests,
and validated exactly like a user's file (`ionmc.scenario.validate`).

    sc = (Builder("ussing", duration=2.0, dt=0.5, method="ssa", seed=5)
          .species(Na=1).impermeant(X=-1)
          .compartment("cell", 1.0, Na=15.0, clamped=["Na"])
          .compartment("bath", 100.0, Na=145.0, bath=True)
          .membrane("pm", "cell", "bath", 1.0, clamp=-70.0)
          .leak("Na", 1e-6)
          .build())

Every method returns the builder, so calls chain; `copy()` forks a variant. Order is kept
as given (species, compartments and mechanisms are laid out in that order in the model, so
the same calls give the same trajectories as the TOML they replace). `build()` validates
(`InputError` on bad input, naming `source`); `raw()` is the dict before validation, for
tests that break it on purpose; `write(path)` puts it in a TOML file for the CLI and for
tests of `load_scenario`.
"""
import copy
import json

from ionmc.scenario import validate
from ionmc.scenario.toml import _toml_value, dumps_toml


class Builder:
    def __init__(self, name, duration, dt, method="ssa", seed=1, **scenario):
        self._d = {
            "scenario": {"name": name, "duration_s": duration, "record_interval_s": dt,
                         "method": method, "seed": seed, **scenario},
            "species": {}, "compartments": {}, "membranes": {}, "mechanisms": [],
            "events": [],
        }
        self._membrane = None  # the last membrane added: the default for mechanisms

    # -- the scenario's tables ----------------------------------------------------------
    def scenario(self, **keys):
        """[scenario] keys (temperature_K, replicates, random_streams, start ...)."""
        self._d["scenario"].update(keys)
        return self

    def species(self, **charges):
        """Permeant species by charge: species(Na=1, K=1, Cl=-1)."""
        for s, z in charges.items():
            self._d["species"][s] = {"charge": z}
        return self

    def impermeant(self, **charges):
        """Impermeant species by charge: impermeant(X=-1)."""
        for s, z in charges.items():
            self._d["species"][s] = {"charge": z, "permeant": False}
        return self

    def compartment(self, name, volume_um3, balance="X", bath=None, clamped=None, **mM):
        """A compartment of `volume_um3` with concentrations (mM) as keywords; its charge
        balanced with `balance` (None: not balanced); a bath, clamped species."""
        c = {"volume_um3": volume_um3, "concentrations_mM": dict(mM)}
        if balance is not None:
            c["balance_charge_with"] = balance
        if bath is not None:
            c["bath"] = bath
        if clamped is not None:
            c["clamped_species"] = list(clamped)
        self._d["compartments"][name] = c
        return self

    def concentrations(self, compartment, **mM):
        """Add or change concentrations (mM) of a compartment already given."""
        self._d["compartments"][compartment]["concentrations_mM"].update(mM)
        return self

    def membrane(self, name, inside, outside, area_um2, V0=None, clamp=None, **keys):
        """A membrane between `inside` and `outside`: initial potential V0 (mV), or a
        voltage clamp (mV); other keys (water_permeability_um_per_s, ...) as given."""
        m = {"inside": inside, "outside": outside, "area_um2": area_um2}
        if V0 is not None:
            m["initial_potential_mV"] = V0
        if clamp is not None:
            m["clamp_mV"] = clamp
        m.update(keys)
        self._d["membranes"][name] = m
        self._membrane = name
        return self

    # -- mechanisms ---------------------------------------------------------------------
    def mechanism(self, type, name, **spec):
        """Any [[mechanisms]] table, keys as in TOML."""
        self._d["mechanisms"].append({"type": type, "name": name, **spec})
        return self

    def leak(self, species, P, membrane=None, name=None):
        """A GHK leak of `species` (permeability P in cm/s), named '{species}_leak'."""
        return self.mechanism("leak", name or f"{species}_leak",
                              membrane=membrane or self._membrane, species=species,
                              permeability_cm_per_s=P)

    def leaks(self, *pairs, membrane=None):
        """One leak per (species, permeability)."""
        for s, p in pairs:
            self.leak(s, p, membrane=membrane)
        return self

    def pump(self, name="pump", membrane=None, **spec):
        """A Na+/K+ pump (nak_pump); density_per_um2 and the rest as keywords."""
        return self.mechanism("nak_pump", name, membrane=membrane or self._membrane, **spec)

    def atpase(self, name="pump", membrane=None, **spec):
        """The per-molecule Na+/K+-ATPase (na_k_atpase); density_per_um2 and the rest as
        keywords."""
        return self.mechanism("na_k_atpase", name, membrane=membrane or self._membrane, **spec)

    def configure(self, mechanism, **spec):
        """Add or change keys of a mechanism already given, by name."""
        m = next(m for m in self._d["mechanisms"] if m["name"] == mechanism)
        m.update(spec)
        return self

    def drop(self, mechanism, *keys):
        """Remove keys of a mechanism (to give them again, or to leave them out)."""
        m = next(m for m in self._d["mechanisms"] if m["name"] == mechanism)
        for k in keys:
            m.pop(k, None)
        return self

    def remove(self, mechanism):
        self._d["mechanisms"] = [m for m in self._d["mechanisms"] if m["name"] != mechanism]
        return self

    # -- events, sweeps -----------------------------------------------------------------
    def event(self, at_s, **sets):
        """An event: event(0.2, **{"mechanisms.pump.block_fraction": 1.0})."""
        self._d["events"].append({"at_s": at_s, "set": dict(sets)})
        return self

    def events(self, *pairs):
        """Events as (time, {dotted key: value}) pairs."""
        for t, s in pairs:
            self.event(t, **s)
        return self

    def sweep(self, mode=None, **keys):
        sw = {} if mode is None else {"mode": mode}
        sw.update(keys)
        self._d["sweep"] = sw
        return self

    # -- out ----------------------------------------------------------------------------
    def copy(self):
        return copy.deepcopy(self)

    def raw(self):
        """The scenario dict as TOML would give it (a copy: change it freely)."""
        return copy.deepcopy(self._d)

    def build(self, source="builder"):
        """The validated scenario (ionmc.scenario.validate)."""
        return validate(self.raw(), source)

    def toml(self):
        d = self.raw()
        sweep = d.pop("sweep", None)
        text = dumps_toml(d)
        if sweep:
            text += "\n[sweep]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n"
                                              for k, v in sweep.items())
        return text

    def write(self, path):
        """Write the scenario as a TOML file; returns the path."""
        path.write_text(self.toml())
        return path

