"""Cotransporters and exchangers (issue 5): one Haldane-consistent turnover law per
transporter, so its equilibrium is the thermodynamic one whatever its kinetics."""
import math

import numpy as np
import pytest

from ionmc.mechanisms.cotransporter import PRESETS, equilibrium_ratio
from ionmc.model import Model
from ionmc.scenario import load_scenario

from cells import (CHARGES, COTRANSPORTER_CASES, cotransporter_clamped, cotransporter_limit,
                   small_cell)
from conftest import ions, balance, run_df

T = 310.0


def test_closed_form_limits_match_references():
    # docs/physics.md, Cotransporters: -70 mV, 310 K, Na 15/145, Cl 10/110
    assert cotransporter_limit("GAT1", -70.0) == pytest.approx(1.4e4, rel=0.02)
    assert cotransporter_limit("SGLT1", -70.0) == pytest.approx(1.8e4, rel=0.02)
    assert cotransporter_limit("SGLT2", -70.0) == pytest.approx(133, rel=0.01)


@pytest.mark.parametrize("preset", list(COTRANSPORTER_CASES))
def test_cargo_reaches_the_closed_form_limit_and_reverses_past_it(preset):
    target = cotransporter_limit(preset, -70.0)
    c_out = COTRANSPORTER_CASES[preset][1]
    df, ratio, cargo = cotransporter_clamped(preset, duration=200.0, dt=2.0)
    r = ratio.to_numpy()
    assert np.all(np.diff(r) >= -1e-8 * r[-1]) and r[0] == 0.0  # accumulates uphill
    assert r[-1] == pytest.approx(target, rel=1e-3), (r[-1], target)
    assert (df[f"tr.{cargo}.net_efflux"].iloc[-1] < 0)
    # started past the limit, the transporter runs backward: the cargo leaves
    df, ratio, _ = cotransporter_clamped(preset, c_in=2.0 * target * c_out, duration=50.0)
    r = ratio.to_numpy()
    assert np.all(np.diff(r) < 0) and r[-1] > target
    assert df[f"tr.{cargo}.net_efflux"].iloc[-1] > 0
    assert df["tr.backward"].iloc[-1] > df["tr.forward"].iloc[-1]


def test_limit_moves_with_voltage_as_exp_minus_qFV_over_RT():
    r70 = cotransporter_clamped("GAT1", V=-70.0)[1].iloc[-1]
    r80 = cotransporter_clamped("GAT1", V=-80.0)[1].iloc[-1]
    # GAT1 2:1:1 carries one charge in per turnover: x exp(F 10 mV / RT) = 1.45
    assert r80 / r70 == pytest.approx(math.exp(0.010 * 96485.33212 / (8.314462618 * T)),
                                      rel=0.01)
    assert r80 / r70 == pytest.approx(1.45, abs=0.01)
    # SGLT1 (2 Na+) and SGLT2 (1 Na+) carry 2 and 1 charges: x 2.11 and x 1.45
    s70 = cotransporter_clamped("SGLT1", V=-70.0)[1].iloc[-1]
    s80 = cotransporter_clamped("SGLT1", V=-80.0)[1].iloc[-1]
    assert s80 / s70 == pytest.approx((r80 / r70) ** 2, rel=0.01)


# -- conservation and ledger with every mechanism on -------------------------------------
TRANSPORTERS = {  # name -> (preset, density per um^2)
    "gat1": ("GAT1", 2e4), "sglt1": ("SGLT1", 2e3), "sglt2": ("SGLT2", 2e3),
    "nkcc1": ("NKCC1", 2e4), "kcc2": ("KCC2", 2e4), "ncx": ("NCX", 2e3)}


EXTRA_SPECIES = {"Ca": 2, "GABA": 0, "glucose": 0}


INSIDE = {"Ca": 1e-3, "GABA": 0.5, "glucose": 2.0}


OUTSIDE = {"Ca": 1.5, "GABA": 0.01, "glucose": 5.0}


def with_transporters(sc, cell, ecs, membrane, gat_na=2):
    """Scenario `sc` with Ca, GABA and glucose and the six preset transporters added (GAT1
    with `gat_na` Na+ per turnover)."""
    import copy

    from ionmc.scenario import validate

    data = copy.deepcopy(sc.data)
    for s, z in EXTRA_SPECIES.items():
        data["species"][s] = {"charge": z, "permeant": True}
    data["compartments"][cell]["concentrations_mM"].update(INSIDE)
    data["compartments"][ecs]["concentrations_mM"].update(OUTSIDE)
    for name, (preset, dens) in TRANSPORTERS.items():
        m = {"type": "cotransporter", "name": name, "preset": preset, "membrane": membrane,
             "density_per_um2": dens}
        if preset == "GAT1":
            m["stoichiometry"] = {"Na": gat_na}
        data["mechanisms"].append(m)
    return validate(data, "with_transporters")


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_exact_conservation_with_every_mechanism(method):
    from conftest import make

    # the anoxia cell (leaks, pump, metabolic pool) shrunk 1e4 x (1e2 x for tau-leap, so
    # that it leaps), plus six transporters
    factor = 1e-4 if method == "ssa" else 1e-2
    base = make("anoxia", factor, method=method, duration=0.3, dt=0.005, seed=5, events=[])
    sc = with_transporters(base, "neuron", "ecs", "soma", gat_na=3)
    df = run_df(sc)
    model = Model(sc)
    st = {name: model.mechs[[m.name for m in model.mechs].index(name)].spec["stoichiometry"]
          for name in TRANSPORTERS}
    assert st["gat1"] == {"Na": 3, "Cl": 1, "GABA": 1}
    for s in ("Na", "K", "Cl", "X", "Ca", "GABA", "glucose"):
        total = ions(df, ("neuron", "ecs"), s)
        assert (total == total.iloc[0]).all(), f"{s} not conserved"
        assert (df[f"neuron.{s}.count"] >= 0).all() and (df[f"ecs.{s}.count"] >= 0).all()
        # what every mechanism moved out, and what the pumps took in (they hold some)
        eff = sum(df[col] for col in df.columns if col.endswith(f".{s}.net_efflux"))
        if f"pump.{s}.bound" in df:
            eff = eff + df[f"pump.{s}.bound"] - df[f"pump.{s}.bound"].iloc[0]
        d_cell = df[f"neuron.{s}.count"] - df[f"neuron.{s}.count"].iloc[0]
        assert (d_cell == -eff).all(), s
    for name, table in st.items():
        net = df[f"{name}.forward"] - df[f"{name}.backward"]
        assert df[f"{name}.forward"].iloc[-1] + df[f"{name}.backward"].iloc[-1] > 50, name
        for s, n in table.items():
            assert (df[f"{name}.{s}.net_efflux"] == -n * net).all(), (name, s)
        q = sum(n * model.charge[model.species.index(s)] for s, n in table.items())
        assert np.isfinite(df[f"{name}.current_pA"].iloc[1:]).all()
        assert f"{name}.entropy_production_J_per_K" in df
        if q == 0:  # electroneutral (NKCC1, KCC2) carry no current
            assert (df[f"{name}.current_pA"].iloc[1:] == 0).all()


LEDGER_CASES = {
    # a closed system (no bath), free potential: G_ion + capacitor energy only
    "closed": (dict(bath=False), ()),
    # a bath outside and Na clamped inside at a free potential (bath term at moving V)
    "bath+clamped species": (dict(clamped=["Na"]), ()),
    # voltage clamp with a step, Na and Cl clamped inside (the equilibrium test's setting)
    "clamp": (dict(clamped=["Na", "Cl"], clamp=-60.0),
              [(0.15, {"membranes.pm.clamp_mV": -90.0})]),
}


@pytest.mark.parametrize("case", list(LEDGER_CASES))
def test_ledger_closes_to_rounding_under_ssa_with_transporters(case):
    kw, events = LEDGER_CASES[case]
    base = small_cell(duration=0.3, seed=7, leaks=(("K", 5e-6), ("Na", 1e-6)), **kw)
    sc = with_transporters(base.events(*events).build(), "cell", "bath", "pm")
    df = run_df(sc)
    resid, scale = balance(df)
    assert scale > 0
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)
    S = df["thermo.entropy_production_J_per_K"].iloc[-1]
    per = sum(df[f"{n}.entropy_production_J_per_K"].iloc[-1] for n in TRANSPORTERS)
    assert abs(per) > 1e-3 * abs(S)  # the transporters' share is really exercised
    for name in TRANSPORTERS:
        assert df[f"{name}.forward"].iloc[-1] + df[f"{name}.backward"].iloc[-1] > 20, name


def test_builtins_reach_their_stated_limits_under_ode():
    from conftest import make

    def closed(df, cell, st):
        last = df.iloc[-1]
        c_in = {s: last[f"{cell}.{s}.mM"] for s in st}
        c_out = {"Na": 145.0, "Cl": 120.0}
        V = last[[c for c in df.columns if c.endswith(".V_mV")][0 if cell != "s3" else 1]]
        return equilibrium_ratio(st, next(s for s in st if CHARGES[s] == 0), c_in, c_out,
                                 CHARGES, V * 1e-3, T)

    df = run_df(make("gaba_uptake", method="ode", duration=30000.0, dt=1000.0))
    ratio = df["cell.GABA.mM"].iloc[-1] / df["ecs.GABA.mM"].iloc[-1]
    assert ratio == pytest.approx(closed(df, "cell", PRESETS["GAT1"]["stoichiometry"]),
                                  rel=0.01)
    assert ratio == pytest.approx(1.765e4, rel=0.01)  # the header's number
    df = run_df(make("kidney_sglt", method="ode", duration=3000.0, dt=100.0))
    assert df["s1.glucose.mM"].iloc[-1] / 0.1 == pytest.approx(133, rel=0.01)
    assert 100 < df["s3.glucose.mM"].iloc[-1] < 0.5 * 1.76e3  # far below SGLT1's ceiling


@pytest.mark.parametrize("key,value,msg", [
    ("mechanisms.SGLT1.preset", "SGLT9", "unknown preset"),
    ("mechanisms.SGLT1.stoichiometry", {"Na": 2, "sucrose": 1}, "unknown species"),
    ("mechanisms.SGLT1.stoichiometry", {"Na": 1.5}, "not a nonzero integer"),
    ("mechanisms.SGLT1.K_m_mM", {"Na": -1.0}, "positive"),
    ("mechanisms.SGLT1.K_m_out_mM", {"K": 1.0}, "not in the stoichiometry"),
    ("mechanisms.SGLT1.voltage_split", 1.5, "physical range \\[0, 1\\]"),
    ("mechanisms.SGLT1.density_per_um2", -1.0, "physical range"),
])
def test_bad_transporter_input_is_one_clear_line(key, value, msg):
    from ionmc.errors import InputError

    with pytest.raises(InputError, match=msg):
        load_scenario("kidney_sglt", [(key, value)])


def test_stoichiometry_override_merges_over_the_preset_and_cannot_change_in_a_run():
    from ionmc.errors import InputError

    sc = load_scenario("gaba_uptake", [("mechanisms.GAT1.stoichiometry", {"Na": 3})])
    assert sc.mechanism("GAT1")["stoichiometry"] == {"Na": 3, "Cl": 1, "GABA": 1}
    # the resolved scenario reads back to itself
    from ionmc.scenario import validate
    import tomllib

    again = validate(tomllib.loads(sc.to_toml()), "again")
    assert again.data["mechanisms"] == sc.data["mechanisms"]
    with pytest.raises(InputError, match="cannot change"):
        load_scenario("gaba_uptake", [("events", [{"at_s": 1.0, "set": {
            "mechanisms.GAT1.stoichiometry": 3}}])])
