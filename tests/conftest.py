"""Shared helpers. Statistical tests fix their seeds and state tolerances in standard errors."""
import numpy as np
import pytest

import ionmc
from ionmc.thermo.ledger import STIM_COLUMN, WATER_COLUMN, WORK_COLUMNS
from ionmc.scenario import load_scenario


def scenario(name, *overrides, **sets):
    """A built-in (or file) scenario with overrides given as (key, value) or key=value."""
    items = list(overrides) + [(k.replace("__", "."), v) for k, v in sets.items()]
    return load_scenario(name, items)


def shrink(name, factor, *overrides):
    """The scenario with every volume and area multiplied by `factor` (same volume-to-area
    ratio, same concentrations and potentials): how tests keep SSA under ~1e8 events."""
    base = load_scenario(name)
    items = []
    for c, spec in base.data["compartments"].items():
        items.append((f"compartments.{c}.volume_um3", spec["volume_um3"] * factor))
    for m, spec in base.data["membranes"].items():
        items.append((f"membranes.{m}.area_um2", spec["area_um2"] * factor))
    return load_scenario(name, items + list(overrides))


def make(name, factor=1.0, method=None, duration=None, dt=None, events=None, sets=(),
         replicates=None, seed=None):
    """A built-in scenario shrunk by `factor`, with method/duration/record interval/events
    replaced and extra (key, value) overrides, validated like a user's file."""
    from ionmc.scenario import validate

    base = load_scenario(name)
    items = []
    if factor != 1.0:
        for c, spec in base.data["compartments"].items():
            items.append((f"compartments.{c}.volume_um3", spec["volume_um3"] * factor))
        for m, spec in base.data["membranes"].items():
            items.append((f"membranes.{m}.area_um2", spec["area_um2"] * factor))
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


def run_df(sc, replicate=0):
    return ionmc.simulate(sc, replicate)[0]


@pytest.fixture
def tmp_out(tmp_path):
    return tmp_path / "out"


def se_of_mean(x):
    x = np.asarray(x, float)
    return x.std(ddof=1) / np.sqrt(len(x))


def balance(df, T=310.0):
    """The ledger's balance recomputed from its columns (DESIGN.md section 3):
    G(t) - G(0) - (W_ATP + W_clamp + W_bath + W_event [+ W_water] [+ W_stim] - T S_prod),
    checked against the run's own thermo.balance_residual_J. Returns (residual, largest of
    |G|, |W|, |T S|). W_water and W_stim enter when the run has them (volume.py,
    injection.py)."""
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    W = df[[c for c in WORK_COLUMNS + (WATER_COLUMN, STIM_COLUMN) if c in df]].sum(axis=1)
    TS = T * df["thermo.entropy_production_J_per_K"]
    resid = G - (W - TS)
    scale = max(np.abs(G).max(), np.abs(W).max(), np.abs(TS).max())
    assert np.allclose(resid, df["thermo.balance_residual_J"], rtol=0, atol=1e-12 * scale)
    return resid, scale


SMALL_CELL = """
[scenario]
name = "small_cell"
duration_s = {duration}
record_interval_s = 0.01
method = "{method}"
seed = {seed}
[species]
Na = {{ charge = 1 }}
K = {{ charge = 1 }}
Cl = {{ charge = -1 }}
X = {{ charge = -1, permeant = false }}
[compartments.cell]
volume_um3 = 0.01
concentrations_mM = {{ Na = 15.0, K = 140.0, Cl = 9.0 }}
balance_charge_with = "X"
{clamped}
[compartments.bath]
volume_um3 = 10.0
concentrations_mM = {{ Na = 145.0, K = 5.0, Cl = 120.0 }}
balance_charge_with = "X"
bath = {bath}
[membranes.pm]
inside = "cell"
outside = "bath"
area_um2 = 0.05
initial_potential_mV = -70.0
{clamp}
{leaks}
{events}
"""
LEAK = """[[mechanisms]]
type = "leak"
name = "{s}_leak"
membrane = "{m}"
species = "{s}"
permeability_cm_per_s = {p}
"""


def leak_mechanisms(P, membrane="pm"):
    """[[mechanisms]] TOML of one leak per (species, permeability in cm/s)."""
    return "".join(LEAK.format(s=sp, p=p, m=membrane) for sp, p in P)


def small_cell(method="ssa", duration=0.4, seed=4, clamped="", bath="true", clamp="",
               leaks=(("K", 5e-6), ("Na", 1e-6), ("Cl", 2e-6)), events=""):
    """TOML of a 0.01 um^3 cell behind a 0.05 um^2 membrane in a 10 um^3 outside (a bath
    unless bath = "false") with leaks: the ledger tests' small system."""
    return SMALL_CELL.format(method=method, duration=duration, seed=seed, clamped=clamped,
                             bath=bath, clamp=clamp, events=events,
                             leaks=leak_mechanisms(leaks))


PUMP_CELL = """
[scenario]
name = "pump_clamp"
duration_s = {duration}
record_interval_s = {dt}
method = "{method}"
seed = {seed}
[species]
Na = {{ charge = 1 }}
K = {{ charge = 1 }}
X = {{ charge = -1, permeant = false }}
[compartments.cell]
volume_um3 = 1.0
concentrations_mM = {{ Na = {nai}, K = {ki} }}
clamped_species = ["Na", "K"]
balance_charge_with = "X"
[compartments.bath]
volume_um3 = 100.0
concentrations_mM = {{ Na = {nao}, K = {ko} }}
balance_charge_with = "X"
bath = true
[membranes.pm]
inside = "cell"
outside = "bath"
area_um2 = 1.0
clamp_mV = {V_mV}
[[mechanisms]]
type = "nak_pump"
name = "pump"
membrane = "pm"
density_per_um2 = {density}
dG_ATP_kJ_per_mol = {dg}
{events}
"""


def pump_cell(method="ssa", nai=15.0, ki=140.0, nao=145.0, ko=5.0, V_mV=-70.0, dg=-57.0,
              density=1000.0, duration=2.0, dt=0.1, seed=1, events=""):
    """TOML of pumps alone on a 1 um^2 voltage-clamped membrane, Na+ and K+ fixed on both
    sides (clamped inside, a bath outside): the pump tests' system."""
    return PUMP_CELL.format(method=method, nai=nai, ki=ki, nao=nao, ko=ko, V_mV=V_mV, dg=dg,
                            density=density, duration=duration, dt=dt, seed=seed,
                            events=events)


def default_sigint():
    """`preexec_fn` for a child that a test interrupts with SIGINT: a shell that starts a
    job in the background (CI harnesses, `cmd &`) ignores SIGINT for it, Python then never
    installs its KeyboardInterrupt handler, and the "interrupted" run would finish."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
