"""Shared helpers. Statistical tests fix their seeds and state tolerances in standard errors."""
import numpy as np
import pytest

import ionmc
from ionmc.thermo.ledger import STIM_COLUMN, WATER_COLUMN, WORK_COLUMNS
from ionmc.scenario import load_scenario

from builder import Builder


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


def small_cell(method="ssa", duration=0.4, seed=4, dt=0.01, clamped=None, bath=True,
               clamp=None, leaks=(("K", 5e-6), ("Na", 1e-6), ("Cl", 2e-6))):
    """A 0.01 um^3 cell behind a 0.05 um^2 membrane in a 10 um^3 outside (a bath unless
    bath=False) with leaks: the ledger tests' small system (a Builder: add to it)."""
    return (Builder("small_cell", duration, dt, method, seed)
            .species(Na=1, K=1, Cl=-1).impermeant(X=-1)
            .compartment("cell", 0.01, Na=15.0, K=140.0, Cl=9.0, clamped=clamped)
            .compartment("bath", 10.0, Na=145.0, K=5.0, Cl=120.0, bath=bath)
            .membrane("pm", "cell", "bath", 0.05, V0=-70.0, clamp=clamp)
            .leaks(*leaks))


def pump_cell(method="ssa", nai=15.0, ki=140.0, nao=145.0, ko=5.0, V_mV=-70.0, dg=-57.0,
              density=1000.0, duration=2.0, dt=0.1, seed=1):
    """Pumps alone on a 1 um^2 voltage-clamped membrane, Na+ and K+ fixed on both sides
    (clamped inside, a bath outside): the pump tests' system (a Builder: add to it)."""
    return (Builder("pump_clamp", duration, dt, method, seed)
            .species(Na=1, K=1).impermeant(X=-1)
            .compartment("cell", 1.0, Na=nai, K=ki, clamped=["Na", "K"])
            .compartment("bath", 100.0, Na=nao, K=ko, bath=True)
            .membrane("pm", "cell", "bath", 1.0, clamp=V_mV)
            .pump(density_per_um2=density, dG_ATP_kJ_per_mol=dg))


def water_cell(method="ode", duration=1.0, dt=0.1, seed=1, replicates=1, vol=0.05,
               vol_out=10.0, area=0.25, y=0.0, bath=True, pf=100.0,
               leaks=(("K", 5e-6), ("Na", 1e-6), ("Cl", 2e-6)), cl=9.0, block_at=None,
               clamped=None):
    """A cell with leaks behind a water-permeable membrane (V/A = 0.2 um), in a bath or a
    finite outside; Y: a neutral impermeant osmolyte outside. Pumpless, or with
    pump_block's pumps blocked at `block_at` s (a Builder)."""
    b = (Builder("water_cell", duration, dt, method, seed, replicates=replicates)
         .species(Na=1, K=1, Cl=-1).impermeant(X=-1, Y=0)
         .compartment("cell", vol, clamped=clamped, Na=15.0, K=140.0, Cl=cl)
         .compartment("out", vol_out, bath=bath, Na=145.0, K=5.0, Cl=120.0, Y=y)
         .membrane("pm", "cell", "out", area, V0=-70.0, water_permeability_um_per_s=pf)
         .leaks(*leaks))
    if block_at is not None:
        b.pump(density_per_um2=140237.92977811332, dG_ATP_kJ_per_mol=-57.0) \
            .event(block_at, **{"mechanisms.pump.block_fraction": 1.0})
    return b


def ledger_residual(df):
    """balance (water included), with the run's own residual matched to 1e-12 of |G - G0|
    rather than of the largest term."""
    assert "thermo.water_work_J" in df
    resid, scale = balance(df)
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    assert np.allclose(resid, df["thermo.balance_residual_J"], rtol=0,
                       atol=1e-12 * np.abs(G).max())
    return resid, scale


T_HH = 279.45  # Hodgkin & Huxley's 6.3 C


def hh_clamp(method="ssa", V=-40.0, dur=12.0, dt=0.03, dna=10.0, dk=10.0, p=0.0, seed=1,
             vol=200.0, events=(), agents=None, dwell=None):
    """Na+ and K+ channels of HH 1952 at 6.3 C (densities dna, dk per um^2, single-channel
    permeability p um^3/s) on 100 um^2 clamped at V mV, a bath outside (a Builder);
    `agents`, `dwell`: both populations' agents mode and dwell-time recording."""
    b = (Builder("clamp", dur, dt, method, seed, temperature_K=T_HH)
         .species(Na=1, K=1).impermeant(X=-1)
         .compartment("cell", vol, Na=50.0, K=400.0)
         .compartment("bath", 1000.0, Na=440.0, K=20.0, bath=True)
         .membrane("m", "cell", "bath", 100.0, clamp=V)
         .mechanism("hh_channel", "na", membrane="m", gates="hh_na", density_per_um2=dna,
                    single_channel_permeability_um3_per_s=p)
         .mechanism("hh_channel", "k", membrane="m", gates="hh_k", density_per_um2=dk,
                    single_channel_permeability_um3_per_s=p)
         .events(*events))
    for name in ("na", "k"):
        if agents is not None:
            b.configure(name, agents=agents)
        if dwell is not None:
            b.configure(name, record_dwell_times=dwell)
    return b


def state_columns(sc, name):
    """The count columns of mechanism `name`'s states, in state order."""
    from ionmc.model import Model

    mech = next(m for m in Model(sc).mechs if m.name == name)
    return [f"{name}.{mech.state_label(k)}.count" for k in range(len(mech.states))]


def default_sigint():
    """`preexec_fn` for a child that a test interrupts with SIGINT: a shell that starts a
    job in the background (CI harnesses, `cmd &`) ignores SIGINT for it, Python then never
    installs its KeyboardInterrupt handler, and the "interrupted" run would finish."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
