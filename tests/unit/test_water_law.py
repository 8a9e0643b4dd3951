"""A membrane's water law written as an expression (`water_flux_um3_per_s`), and water flow
into a nested compartment (engine/volume.py)."""
import numpy as np
import pytest

from ionmc.engine.volume import V_W
from ionmc.errors import InputError

from cells import sr_cell, water_cell
from conftest import ledger_residual, run_df

# water_cell's membrane: pf 100 um/s on 0.25 um^2; its species Na, K, Cl, X, Y
KW = 100.0 * 0.25 * V_W  # um^3/s per mM
VANT_HOFF = ("k * ((Na_i + K_i + Cl_i + X_i + Y_i) - (Na_o + K_o + Cl_o + X_o + Y_o))")


def law_cell(law=VANT_HOFF, par=None, **kw):
    b = water_cell(pf=0.0, bath=False, vol_out=0.2, **kw)
    m = b._d["membranes"]["pm"]
    m["water_flux_um3_per_s"] = law
    m["water_parameters"] = {"k": KW} if par is None else par
    return b


@pytest.mark.parametrize("split", [False, True])
def test_van_t_hoff_written_as_a_law_gives_the_built_in_flow(split):
    # the same flux by either key; the water steps' lengths come from differences of the
    # flux (volume.Water.rates), which differ in their last digits, so the two
    # runs differ by the splitting's error over a rounding-sized change of step: measured
    # 7e-9 of the volume
    built_in = run_df(water_cell(bath=False, vol_out=0.2).scenario(water_split=split).build())
    written = run_df(law_cell().scenario(water_split=split).build())
    for c in ("cell.volume_um3", "out.volume_um3"):
        np.testing.assert_allclose(written[c], built_in[c], rtol=1e-7, atol=0)
    w = built_in["thermo.water_work_J"]  # a difference of G: to its own scale
    np.testing.assert_allclose(written["thermo.water_work_J"], w, rtol=0,
                               atol=1e-6 * w.abs().max())
    assert written["cell.volume_um3"].iloc[-1] > 1.01 * written["cell.volume_um3"].iloc[0]


def test_a_law_that_moves_water_uphill_closes_the_ledger_under_ssa():
    # a law counting only the ions (X and Y do not count, as edNEGmodel's psi): the cell
    # swells against the difference of all osmolytes; the balance closes whatever the law,
    # and the flow's dissipation, measured against all osmolytes, goes negative
    law = "k * ((Na_i + K_i + Cl_i) - (Na_o + K_o + Cl_o) + 200)"
    df = run_df(law_cell(law, method="ssa", duration=0.3, dt=0.03, y=200.0).build())
    resid, scale = ledger_residual(df)
    assert np.abs(resid).max() <= 1e-9 * scale
    assert df["thermo.water_work_J"].iloc[-1] > 1e-3 * scale  # water pushed up: G rises
    assert df["thermo.water_entropy_production_J_per_K"].iloc[-1] < 0
    tot = df["cell.volume_um3"] + df["out.volume_um3"]
    assert np.abs(tot - tot.iloc[0]).max() <= 1e-13 * tot.iloc[0]


@pytest.mark.parametrize("keys, key, match", [
    ({"water_flux_um3_per_s": "k * (Na_i - Q_o)", "water_parameters": {"k": 1.0}},
     "water_flux_um3_per_s", "Q_o"),
    ({"water_flux_um3_per_s": "__import__('os')"}, "water_flux_um3_per_s", "unknown function '__import__'"),
    ({"water_flux_um3_per_s": "k * Na_i", "water_parameters": {"k": 1.0},
      "water_permeability_um_per_s": 1.0}, "water_flux_um3_per_s", "not both"),
    ({"water_parameters": {"k": 1.0}}, "water_parameters", "without a"),
    ({"water_flux_um3_per_s": "Na_i", "water_parameters": {"Na_i": 1.0}},
     "water_parameters.Na_i", "identifier-like"),
])
def test_a_bad_water_law_is_one_line_naming_its_key(keys, key, match):
    b = water_cell(pf=0.0)
    b._d["membranes"]["pm"].update(keys)
    with pytest.raises(InputError, match=match) as e:
        b.build()
    assert f"membranes.pm.{key}" in str(e.value) and "\n" not in str(e.value)


def test_no_water_law_on_a_capacitance_to_ground():
    from cells import two_layers

    b = two_layers()
    ground = next(m for m, s in b._d["membranes"].items() if s["outside"] == "ground")
    b._d["membranes"][ground]["water_flux_um3_per_s"] = "1.0"
    with pytest.raises(InputError, match="takes no water_flux_um3_per_s"):
        b.build()


@pytest.mark.parametrize("method, split", [("ssa", False), ("ode", False), ("ode", True)])
def test_water_flows_into_a_nested_compartment(method, split):
    # an SR with more solute than the cytosol swells from it; total water is conserved and
    # under ssa the ledger closes across both membranes
    b = sr_cell(method=method, duration=0.02, dt=0.002).scenario(water_split=split)
    b._d["membranes"]["srm"]["water_permeability_um_per_s"] = 50.0
    b._d["compartments"]["sr"]["concentrations_mM"]["K"] = 170.0
    df = run_df(b.build())
    sr, cyto = df["sr.volume_um3"].to_numpy(), df["cyto.volume_um3"].to_numpy()
    assert sr[-1] > 1.001 * sr[0]
    tot = sr + cyto + df["ecs.volume_um3"].to_numpy()
    assert np.abs(tot - tot[0]).max() <= 1e-13 * tot[0]
    assert df["ecs.volume_um3"].iloc[-1] == df["ecs.volume_um3"].iloc[0]  # no flow there
    if method == "ssa":
        resid, scale = ledger_residual(df)
        assert np.abs(resid).max() <= 1e-9 * scale


def test_a_law_that_ignores_the_volumes_still_takes_short_steps():
    # a constant secretion: no relaxation time to take the step from; the steps are held
    # to a 1e-3 change of the volume, so the ions (split) see what the unsplit ode's see:
    # measured 0.010 mV (0.21 mV at a 2% change a step, 0.40 with one step for the run)
    a = run_df(law_cell("0.002", par={}).scenario(water_split=False).build())
    b = run_df(law_cell("0.002", par={}).scenario(water_split=True).build())
    assert b["cell.volume_um3"].iloc[-1] == pytest.approx(0.052, rel=1e-12)
    assert np.abs(a["pm.V_mV"] - b["pm.V_mV"]).max() < 0.02


@pytest.mark.parametrize("split", [False, True])
def test_a_water_law_that_is_not_finite_stops_the_run_naming_it(split):
    from ionmc.engine.checks import SimulationError

    sc = law_cell("sqrt(Y_i - 1)", par={}).scenario(water_split=split).build()
    with pytest.raises(SimulationError, match="membranes.pm.water_flux_um3_per_s gives nan"):
        run_df(sc)
