"""`ionmc energetics` (issue 4, 'What it must show' 1): the textbook budget of a scenario's
initial state, checked against closed forms written out here and against a simulated run."""
import math

import pytest

from ionmc.thermo.energetics import energetics
from ionmc.scenario import load_scenario

from conftest import make, run_df

R, F, T = 8.314462618, 96485.33212, 310.0


def test_textbook_state_free_energies():
    b = energetics(load_scenario("resting_neuron"))["membranes"]["soma"]
    # the textbook state: Na 15/145, K 140/5 mM, -70 mV, 310 K
    assert b["pump_cycle_dG_kJ_per_mol"] == pytest.approx(41.47, abs=0.05)
    assert b["dG_influx_kJ_per_mol"]["Na"] == pytest.approx(-12.60, abs=0.05)
    assert b["dG_influx_kJ_per_mol"]["K"] == pytest.approx(1.83, abs=0.05)
    # and each from its own closed form: RT ln(ci/co) + zFV; 3 Na out + 2 K in - FV
    V = -0.070
    assert b["dG_influx_kJ_per_mol"]["Na"] == pytest.approx(
        (R * T * math.log(15 / 145) + F * V) / 1e3, abs=1e-3)
    assert b["pump_cycle_dG_kJ_per_mol"] == pytest.approx(
        (3 * R * T * math.log(145 / 15) + 2 * R * T * math.log(140 / 5) - F * V) / 1e3,
        abs=1e-3)
    assert b["nernst_mV"]["K"] == pytest.approx(R * T / F * math.log(5 / 140) * 1e3, abs=0.01)
    assert b["nernst_mV"]["Na"] == pytest.approx(R * T / F * math.log(145 / 15) * 1e3, abs=0.01)


def test_pump_and_oxygen_rates_balance_the_leaks():
    b = energetics(load_scenario("resting_neuron"))["membranes"]["soma"]
    # net Na+ entry from the GHK flux equation written out (P, A from the scenario file)
    P, A = 3.540812018692216e-07 * 1e-2, 500e-12
    u = F * -0.070 / (R * T)
    influx = P * A * u * (145 * math.exp(-u) - 15) / (1 - math.exp(-u)) * 6.02214076e23
    assert b["na_influx_per_s"] == pytest.approx(influx, rel=1e-3)
    assert b["atp_per_s"] == pytest.approx(influx / 3, rel=0.01)
    assert b["o2_molecules_per_s"] == pytest.approx(b["atp_per_s"] / b["atp_per_o2"], rel=1e-12)
    # the scenario is designed as a fixed point: its pumps run at the balancing rate
    assert b["pump_model_cycles_per_s"] == pytest.approx(b["pump_cycles_per_s"], rel=0.01)
    # one net charge out per cycle: what balances the leaks, and what the scenario's own
    # pumps carry (equal within 1% at this designed fixed point: no warning)
    e_pA = 1.602176634e-19 * 1e12
    assert b["balancing_pump_current_pA"] == pytest.approx(b["atp_per_s"] * e_pA)
    assert b["pump_current_pA"] == pytest.approx(b["pump_model_cycles_per_s"] * e_pA)
    assert "warnings" not in b
    # slope resistance of all leaks (the design's 200 MOhm)
    assert b["input_resistance_MOhm"] == pytest.approx(200.0, rel=1e-3)
    # a few mV hyperpolarising (about 4.6 mV with the slope resistance, docs/physics.md)
    assert -6.0 < b["pump_electrogenic_mV"] < -3.0
    assert b["pump_electrogenic_mV"] == pytest.approx(
        -b["pump_current_pA"] * b["input_resistance_MOhm"] * 1e-3, rel=1e-9)
    # the leaks alone would sit at their GHK potential, depolarised from V
    assert b["V_mV"] < b["ghk_mV"] < b["V_mV"] + 10
    # chord equation: V = (sum g E - I_pump) / sum g
    g = b["chord_conductance_nS"]
    # with the current that balances the leaks (the leaks' own current, reversed)
    v = (sum(g[s] * b["nernst_mV"][s] for s in g) - b["balancing_pump_current_pA"]) / \
        sum(g.values())
    assert v == pytest.approx(b["V_mV"], abs=1e-4)  # g_Cl = I/(V - E_Cl), both ~0


def test_pump_currents_at_0_mV_are_two_numbers_and_a_warning():
    # a membrane at 0 mV (what a missing initial_potential_mV gives): no division by V, and
    # the pumps' own current (set for -70 mV) far from what would balance the leaks there
    sc = load_scenario("resting_neuron", ["membranes.soma.initial_potential_mV=0"])
    b = energetics(sc)["membranes"]["soma"]
    assert b["V_mV"] == pytest.approx(0.0, abs=0.01)
    assert "diffusion_share" not in b and "k_battery_share" not in b  # no share of 0 mV
    e_pA = 1.602176634e-19 * 1e12
    assert b["pump_current_pA"] == pytest.approx(b["pump_model_cycles_per_s"] * e_pA)
    assert b["balancing_pump_current_pA"] == pytest.approx(b["pump_cycles_per_s"] * e_pA)
    assert b["pump_current_pA"] > 2 * b["balancing_pump_current_pA"]
    # the electrogenic share is the pumps' own current through the slope resistance
    assert b["pump_electrogenic_mV"] == pytest.approx(
        -b["pump_current_pA"] * b["input_resistance_MOhm"] * 1e-3, rel=1e-9)
    # the pumps' check, and the net membrane current's (V moves: 0 mV is not at rest)
    assert len(b["warnings"]) == 2 and "not a steady state" in b["warnings"][0]
    assert "net membrane current" in b["warnings"][1]


def test_a_membrane_without_pumps_carries_no_pump_current():
    b = energetics(load_scenario("donnan"))["membranes"]["pm"]
    assert b["pump_current_pA"] == 0.0 and b["pump_electrogenic_mV"] == 0.0
    assert b["balancing_pump_current_pA"] > 100
    assert "no pump on this membrane" in b["warnings"][0]


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
def test_simulated_atp_use_matches_the_budget(method):
    # a simulated resting_neuron spends ATP at the rate its own energetics predicts
    sc = make("resting_neuron", method=method, duration=20.0, dt=1.0)
    b = energetics(sc)["membranes"]["soma"]
    df = run_df(sc)
    cycles = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    rate = (cycles[-1] - cycles[0]) / (df["time_s"].iloc[-1] - df["time_s"].iloc[0])
    assert rate == pytest.approx(b["atp_per_s"], rel=0.02)


@pytest.mark.parametrize("method", ["ode", "tau-leap"])
def test_simulated_o2_use_matches_the_budget_with_a_pool(method):
    # the anoxia cell before its O2 cut: O2 reduced by oxphos at the budget's rate
    sc = make("anoxia", method=method, duration=25.0, dt=1.0, events=[])
    b = energetics(sc)["membranes"]["soma"]
    assert b["pump_dG_ATP_kJ_per_mol"] == pytest.approx(b["pool_dG_ATP_kJ_per_mol"])
    comp = sc.data["membranes"]["soma"]["inside"]
    df = run_df(sc)
    o2 = df[f"{comp}.o2_consumed"].to_numpy()
    t = df["time_s"].to_numpy()
    rate = (o2[-1] - o2[5]) / (t[-1] - t[5])
    assert rate == pytest.approx(b["o2_molecules_per_s"], rel=0.02)


def test_budget_counts_the_cotransporters_na():
    # gaba_uptake at t = 0: GAT1 brings 2 Na+ per turnover; the budget's transporter Na+
    # equals twice the net turnover rate of a simulated (ode) start
    sc = make("gaba_uptake", method="ode", duration=0.01, dt=0.002)
    b = energetics(sc)["membranes"]["pm"]
    df = run_df(sc)
    net = (df["GAT1.forward"] - df["GAT1.backward"]).to_numpy()
    assert b["transporter_na_per_s"] == pytest.approx(2 * net[1] / 0.002, rel=0.01)
    assert b["pump_cycles_per_s"] == pytest.approx(
        (b["na_influx_per_s"] + b["transporter_na_per_s"]) / 3.0, rel=1e-12)


def test_net_membrane_current_flags_a_state_that_is_not_steady():
    """K_o raised to 10 mM: the pump's own check passes (its current barely moves), but
    the leaks' net current is far from the pump's: the net membrane current over every
    mechanism says V will move, and how fast (dV/dt = -I_net / C)."""
    from ionmc.thermo.energetics import table

    b = energetics(load_scenario("resting_neuron"))["membranes"]["soma"]
    assert set(b["current_by_mechanism_pA"]) == {"K_leak", "Na_leak", "Cl_leak", "pump"}
    # zero but for the pump states' integer placement (1e-4 of the pump's current)
    assert abs(b["net_current_pA"]) < 1e-3 * b["pump_current_pA"] and not b.get("warnings")
    r = energetics(load_scenario("resting_neuron",
                                 ["compartments.ecs.concentrations_mM.K=10.0"]))
    b = r["membranes"]["soma"]
    per = b["current_by_mechanism_pA"]
    # V + dV/2, and the pump states' integer placement (4e6 pumps in 13 states): 1.4e-4
    assert per["pump"] == pytest.approx(b["pump_current_pA"], rel=1e-3)
    assert b["net_current_pA"] == pytest.approx(sum(per.values()), rel=1e-12)
    assert b["net_current_pA"] == pytest.approx(b["leak_current_pA"] + b["pump_current_pA"],
                                                rel=1e-3)
    assert b["net_current_pA"] == pytest.approx(-42.2, abs=0.1)
    C = 500e-12 * 1e-2  # 500 um2 at 1 uF/cm2
    assert b["dV_dt_mV_per_s"] == pytest.approx(-b["net_current_pA"] * 1e-12 / C * 1e3,
                                                rel=1e-6)
    (w,) = [w for w in b["warnings"] if "net membrane current" in w]
    assert "not a steady state" in w and "Na_leak" in w and "mV/s" in w
    assert "net membrane current" in table(r)


def test_table_shows_values_below_its_precision_as_zero():
    """Cl at its equilibrium: dG -5e-07 kJ/mol beside Na's -12.6 is shown as 0.00 in the
    table (the JSON keeps the number)."""
    from ionmc.thermo.energetics import table

    r = energetics(load_scenario("resting_neuron",
                                 ["compartments.ecs.concentrations_mM.K=10.0"]))
    assert 0 < abs(r["membranes"]["soma"]["dG_influx_kJ_per_mol"]["Cl"]) < 1e-5
    line = [x for x in table(r).splitlines() if "dG of one ion entering, Cl" in x][0]
    assert line.split()[-2] == "0.00", line
    assert "e-0" not in table(r).split("membrane current (outward +), Cl_leak")[1].split("\n")[0]
