"""Activity as a spike train (issue 5 'Activity'; issue 4 'energy_budget'): Poisson spike
counts on the rate schedule events define, exact bookkeeping and ledger with spikes, the pump
following Na_i during and after a train, and a whole neuron's O2 use."""
import pytest

from ionmc.thermo.energetics import energetics

from conftest import make, run_df


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_spikes_conserve_and_the_ledger_closes(method):
    # leaks and spikes (pumps blocked) on a shrunken neuron: counts exact, every species'
    # change is minus the sum of the mechanisms' net effluxes, and the ledger balances to
    # rounding under ssa (spikes book the free energy they release as entropy produced)
    sc = make("firing_neuron", 1e-3, method=method, duration=0.3, dt=0.01, seed=2,
              sets=[("mechanisms.firing.start_s", 0.0), ("mechanisms.firing.stop_s", -1.0),
                    ("mechanisms.firing.rate_Hz", 100.0),
                    ("mechanisms.pump.block_fraction", 1.0),
                    ("mechanisms.pump_a3.block_fraction", 1.0)])
    df = run_df(sc)
    assert df["firing.spikes"].iloc[-1] > 10
    for s in ("Na", "K"):
        tot = df[f"neuron.{s}.count"] + df[f"ecs.{s}.count"]
        assert (tot == tot.iloc[0]).all()
        eff = sum(df[c] for c in df.columns if c.endswith(f".{s}.net_efflux"))
        assert (df[f"neuron.{s}.count"] - df[f"neuron.{s}.count"].iloc[0] == -eff).all()
    G = df["thermo.free_energy_J"] - df["thermo.free_energy_J"].iloc[0]
    TS = 310.0 * df["thermo.entropy_production_J_per_K"]
    assert df["firing.entropy_production_J_per_K"].iloc[-1] > 0
    scale = max(G.abs().max(), TS.abs().max())
    # exact under ssa (rounding); tau-leap within its discretisation (docs/physics.md: ~1%)
    tol = 1e-9 if method == "ssa" else 1e-2
    assert df["thermo.balance_residual_J"].abs().max() <= tol * scale


def test_energy_budget_burns_hundreds_of_millions_of_o2_per_second():
    sc = make("energy_budget", method="ode", duration=30.0, dt=0.5)
    b = energetics(sc)["membranes"]["soma"]
    df = run_df(sc)
    t = df["time_s"].to_numpy()
    o2 = df["neuron.o2_consumed"].to_numpy()
    rate = (o2[-1] - o2[t >= 10][0]) / (t[-1] - 10.0)
    assert 1e8 <= rate <= 2e9
    # the budget's rate (leaks + mean spike load, pumps and basal load, 5 ATP per O2)
    assert rate == pytest.approx(b["o2_molecules_per_s"], rel=0.05)
