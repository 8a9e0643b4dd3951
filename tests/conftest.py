"""Shared helpers. Statistical tests fix their seeds and state tolerances in standard errors."""
import numpy as np
import pytest

import ionmc
from ionmc.thermo.ledger import EXTRA_WORK_COLUMNS, WATER_COLUMN, WORK_COLUMNS
from ionmc.scenario import load_scenario


def scenario(name, *overrides, **sets):
    """A built-in (or file) scenario with overrides given as (key, value) or key=value."""
    items = list(overrides) + [(k.replace("__", "."), v) for k, v in sets.items()]
    return load_scenario(name, items)


def _shrunk(base, factor):
    """(key, value) overrides multiplying every volume and area of `base` by `factor`."""
    items = []
    for c, spec in base.data["compartments"].items():
        items.append((f"compartments.{c}.volume_um3", spec["volume_um3"] * factor))
    for m, spec in base.data["membranes"].items():
        items.append((f"membranes.{m}.area_um2", spec["area_um2"] * factor))
    return items


def shrink(name, factor, *overrides):
    """The scenario with every volume and area multiplied by `factor` (same volume-to-area
    ratio, same concentrations and potentials): how tests keep SSA under ~1e8 events."""
    base = load_scenario(name)
    return load_scenario(name, _shrunk(base, factor) + list(overrides))


def make(name, factor=1.0, method=None, duration=None, dt=None, events=None, sets=(),
         replicates=None, seed=None):
    """A built-in scenario shrunk by `factor`, with method/duration/record interval/events
    replaced and extra (key, value) overrides, validated like a user's file."""
    from ionmc.scenario import validate

    base = load_scenario(name)
    items = _shrunk(base, factor) if factor != 1.0 else []
    for key, val in (("method", method), ("duration_s", duration), ("record_interval_s", dt),
                     ("replicates", replicates), ("seed", seed)):
        if val is not None:
            items.append((f"scenario.{key}", val))
    sc = base.with_overrides(items + list(sets)) if events is None else None
    if events is not None:
        import copy

        data = copy.deepcopy(base.data)
        data["events"] = []
        sc0 = validate(data, base.source).with_overrides(items + list(sets))
        data = copy.deepcopy(sc0.data)
        data["events"] = [{"at_s": float(t), "set": dict(s)} for t, s in events]
        sc = validate(data, base.source)
    return sc


def ode_run(tmp_path_factory, name, duration, dt=1.0):
    """OUTDIR of a one-replicate ode run of built-in `name` (for module-scoped fixtures of
    tests that read a finished run: reports, the notebook API)."""
    out = tmp_path_factory.mktemp(name) / "run"
    ionmc.run(make(name, method="ode", duration=duration, dt=dt), out, workers=1,
              progress=False)
    return out


def run_df(sc, replicate=0):
    return ionmc.simulate(sc, replicate)[0]


@pytest.fixture
def tmp_out(tmp_path):
    return tmp_path / "out"


def se_of_mean(x):
    x = np.asarray(x, float)
    return x.std(ddof=1) / np.sqrt(len(x))


def balance(df, T=310.0):
    """The ledger's balance recomputed from its columns (docs/physics.md):
    G(t) - G(0) - (W_ATP + W_clamp + W_bath + W_event [+ W_water] [+ W_stim] - T S_prod),
    checked against the run's own thermo.balance_residual_J. Returns (residual, largest of
    |G|, |W|, |T S|). W_water and W_stim enter when the run has them (volume.py,
    injection.py)."""
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    W = df[[c for c in WORK_COLUMNS + (WATER_COLUMN,) + EXTRA_WORK_COLUMNS if c in df]].sum(axis=1)
    TS = T * df["thermo.entropy_production_J_per_K"]
    resid = G - (W - TS)
    scale = max(np.abs(G).max(), np.abs(W).max(), np.abs(TS).max())
    assert np.allclose(resid, df["thermo.balance_residual_J"], rtol=0, atol=1e-12 * scale)
    return resid, scale


def ledger_residual(df):
    """balance (water included), with the run's own residual matched to 1e-12 of |G - G0|
    rather than of the largest term."""
    assert "thermo.water_work_J" in df
    resid, scale = balance(df)
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    assert np.allclose(resid, df["thermo.balance_residual_J"], rtol=0,
                       atol=1e-12 * np.abs(G).max())
    return resid, scale


def default_sigint():
    """`preexec_fn` for a child that a test interrupts with SIGINT: a shell that starts a
    job in the background (CI harnesses, `cmd &`) ignores SIGINT for it, Python then never
    installs its KeyboardInterrupt handler, and the "interrupted" run would finish."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ions(df, compartments, species):
    """Every ion of a species in a run: free in the compartments, and held by pumps (the
    per-molecule pump's `{pump}.{species}.bound` columns)."""
    total = sum(df[f"{c}.{species}.count"] for c in compartments)
    for col in df.columns:
        if col.endswith(f".{species}.bound"):
            total = total + df[col]
    return total
