"""Scenarios: TOML files loaded, overridden (`--set`, sweeps, events) and validated."""
from ionmc.scenario.load import METHODS, Scenario, builtin_dir, builtins, dumps_toml, \
    load_scenario, parse_set, resolve_path, validate

__all__ = ["METHODS", "Scenario", "builtin_dir", "builtins", "dumps_toml", "load_scenario",
           "parse_set", "resolve_path", "validate"]
