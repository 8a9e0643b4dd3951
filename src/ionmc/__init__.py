"""ionmc: Monte Carlo simulation of how cells keep their ion gradients.

Public API (the CLI is a thin layer over it):
  load_scenario(name_or_path, overrides=(), duration=None) -> Scenario
  run(scenario, outdir, workers=None) -> Path of OUTDIR
  simulate(scenario, replicate=0) -> (pandas.DataFrame, info)   # one replicate in memory
"""
__version__ = "0.1.0"

from .errors import InputError  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402


def run(scenario, outdir, workers=None, progress=True):
    """Run a Scenario (or a path / built-in name) into OUTDIR; returns the Path."""
    from .runner import run as _run

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _run(scenario, outdir, workers=workers, progress=progress)


def simulate(scenario, replicate=0):
    """One replicate in memory: returns (DataFrame, info)."""
    from .replicate import simulate as _sim

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _sim(scenario, replicate)


__all__ = ["InputError", "Scenario", "load_scenario", "run", "simulate", "__version__"]
