"""ionmc: Monte Carlo simulation of how cells keep their ion gradients.

Public API (the CLI is a thin layer over it):
  load_scenario(name_or_path, overrides=(), duration=None) -> Scenario
  run(scenario, outdir, workers=None, executor=None) -> Path of OUTDIR
  dask_executor(workers=None, scheduler=None)  # context manager: (Executor, label) on Dask
  simulate(scenario, replicate=0) -> (pandas.DataFrame, info)   # one replicate in memory
  open_run(outdir, point=None) -> RunResult   # a finished run: .timeseries, .summary(), .plot()
  analysis                     # ionmc.analysis: statistics of a run (ensemble_stats, noise_sd ...)
"""
__version__ = "0.1.0"

from ionmc.errors import InputError  # noqa: E402
from ionmc.scenario.load import Scenario, load_scenario  # noqa: E402


def run(scenario, outdir, workers=None, progress=True, executor=None, executor_label=None):
    """Run a Scenario (or a path / built-in name) into OUTDIR; returns the Path.

    `executor`: any concurrent.futures.Executor to run the replicates on (default: local
    processes), e.g. from `dask_executor()`."""
    from ionmc.runs.runner import run as _run

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _run(scenario, outdir, workers=workers, progress=progress, executor=executor,
                executor_label=executor_label)


def dask_executor(workers=None, scheduler=None):
    """Context manager yielding (Executor, label) on an embedded Dask LocalCluster with
    `workers` processes, or on the cluster at `scheduler` ("tcp://HOST:PORT")."""
    from ionmc.runs.cluster import dask_executor as _dx

    return _dx(workers=workers, scheduler=scheduler)


def simulate(scenario, replicate=0):
    """One replicate in memory: returns (DataFrame, info)."""
    from ionmc.runs.replicate import simulate as _sim

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _sim(scenario, replicate)


def open_run(outdir, point=None):
    """The finished run in OUTDIR (of a sweep: its `point`) as a RunResult: `.timeseries`
    (the tidy DataFrame), `.manifest`, `.scenario`, `.summary()`, `.plot()`, `.report()`.
    See docs/notebook.md."""
    from ionmc.analysis.result import open_result

    return open_result(outdir, point)


def __getattr__(name):
    # `ionmc.analysis` after a bare `import ionmc`, imported on first use: it brings pandas
    # and pyarrow, which the CLI's start-up should not pay for (PEP 562)
    if name == "analysis":
        import importlib

        return importlib.import_module("ionmc.analysis")
    raise AttributeError(f"module 'ionmc' has no attribute {name!r}")


__all__ = ["InputError", "Scenario", "analysis", "dask_executor", "load_scenario", "open_run",
           "run", "simulate", "__version__"]
