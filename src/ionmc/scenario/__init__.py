"""Scenarios: TOML files loaded, overridden (`--set`, sweeps, events) and validated."""
from ionmc.scenario.load import Scenario, builtin_dir, builtins, load_scenario, parse_set, \
    resolve_path
from ionmc.scenario.toml import dumps_toml
from ionmc.scenario.validate import METHODS, validate

__all__ = ["METHODS", "Scenario", "builtin_dir", "builtins", "dumps_toml", "load_scenario",
           "parse_set", "resolve_path", "validate"]
