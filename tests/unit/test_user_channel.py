"""Channels written in the scenario (mechanisms/user_channel.py): the built-in gate families
re-expressed agree with the built-ins under every method, a concentration-gated channel
reads its concentration, and a bad expression or rate stops with one line."""
import math

import numpy as np
import pytest

import ionmc
from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.scenario import load_scenario

from builder import Builder
from cells import as_user_channels, hh_clamp
from conftest import make, run_df


@pytest.mark.parametrize("name", ["squid_axon", "action_potential"])
def test_builtin_families_as_expressions_agree_under_ode(name):
    """hh_na, hh_k (squid_axon) and pr_na, pr_kdr (action_potential) as expressions: the
    concentrations within 1e-10 relative, the channels' state counts (written rounded) to
    the count; V, a small difference of large counts, within 1e-4 mV (the solver's rtol
    1e-9 of the squid segment's ~1e10 ions is ~10 ions, 2.5e-6 mV)."""
    sc = load_scenario(name, [("scenario.method", "ode")])
    a, b = run_df(sc), run_df(as_user_channels(sc))
    conc = [c for c in a if c.endswith(".mM")]
    assert len(conc) >= 6 and all(c in b for c in conc)
    for c in conc:
        x, y = a[c].to_numpy(), b[c].to_numpy()
        assert np.all(np.abs(x - y) <= 1e-10 * np.abs(x)), c
    states = [c for c in a if c.endswith(".count") and c.split(".")[0] in ("NaV", "KDR", "KV")]
    assert len(states) >= 8 and all(c in b for c in states)
    assert np.abs(a[states].to_numpy(float) - b[states].to_numpy(float)).max() <= 1.0
    V = [c for c in a if c.endswith(".V_mV")]
    assert np.abs(a[V].to_numpy() - b[V].to_numpy()).max() < 1e-4
    assert a[V[0]].max() > 0.0  # it fired


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_builtin_families_as_expressions_agree_stochastically(method):
    """hh_clamp (both HH families, 100 um^2) stepped from -65 to -20 mV at 1 ms: the mean
    open counts of 40 replicates each way agree within 4 SE at every record."""
    n = 40
    sc = hh_clamp(method=method, V=-65.0, dur=0.006, dt=0.0005, seed=11,
                  events=[(0.001, {"membranes.m.clamp_mV": -20.0})]).build()
    us = as_user_channels(sc)
    cols = ["na.m3h1.count", "k.n4.count"]
    a = np.array([run_df(sc, r)[cols].to_numpy(float) for r in range(n)])
    b = np.array([run_df(us, n + r)[cols].to_numpy(float) for r in range(n)])
    se = np.hypot(a.std(0, ddof=1), b.std(0, ddof=1)) / math.sqrt(n)
    d = np.abs(a.mean(0) - b.mean(0))
    moving = se > 0
    assert np.all(d[moving] < 4 * se[moving]), (d, se)
    assert np.all(d[~moving] == 0)
    assert a[:, :, 0].max(axis=1).mean() > 5 and a[:, -1, 1].mean() > 20  # the step opened them


def _ca_cell(alpha="k_per_ms_mM * Ca_i", method="ode", ca=0.002, **extra):
    """A cell with Ca_i clamped at `ca` mM and 1e6 K+ channels gated by it (q^2)."""
    return (Builder("kca", 2.0, 0.5, method, 1)
            .species(K=1, Ca=2).impermeant(X=-1)
            .compartment("cell", 100.0, K=140.0, Ca=ca, clamped=["Ca"])
            .compartment("bath", 1000.0, K=5.0, Ca=2.0, bath=True)
            .membrane("m", "cell", "bath", 100.0, clamp=-60.0)
            .mechanism("channel", "kca", membrane="m", species="K", density_per_um2=1e4,
                       single_channel_permeability_um3_per_s=0.0,
                       parameters={"k_per_ms_mM": 500.0},
                       gates={"q": {"power": 2, "alpha": alpha, "beta": "0.5 + 0 * V"}},
                       **extra))


@pytest.mark.parametrize("ca", [0.0005, 0.002, 0.01])
def test_a_calcium_gated_channel_opens_with_its_concentration(ca):
    """Under ode the open count settles at N q_inf^2 (to the output's rounding of counts),
    q_inf = alpha/(alpha + beta) with alpha = 500 Ca_i /ms (mM), beta 0.5 /ms."""
    df = run_df(_ca_cell(ca=ca).build())
    ca = df["cell.Ca.mM"].iloc[-1]  # what the whole ions give (30 of them at 0.5 uM)
    q = 500.0 * ca / (500.0 * ca + 0.5)
    assert abs(df["kca.q2.count"].iloc[-1] - 1e6 * q * q) <= 0.5 + 1e-9 * 1e6


def test_a_gate_reads_its_concentration_in_the_dependency_graph():
    """With Ca_i free and a Ca2+ leak moving it, every gating transition is a dependent of
    the leak's transitions in the exact methods' graph (built before the rate rows are)."""
    b = _ca_cell(method="ssa")
    b._d["compartments"]["cell"].pop("clamped_species")
    b.mechanism("leak", "ca_leak", membrane="m", species="Ca", permeability_cm_per_s=1e-7)
    model = Model(b.build())
    mech = next(m for m in model.mechs if m.name == "kca")
    leak = next(m for m in model.mechs if m.name == "ca_leak")
    gating = sorted(mech.gating)
    assert gating
    for j in leak.transitions:
        deps = set(model.dep_idx[model.dep_ptr[j]:model.dep_ptr[j + 1]])
        assert set(gating) <= deps, (j, gating, deps)


def test_a_gate_reads_a_compartment_its_membrane_does_not_face():
    """`Ca_store` reads the Ca2+ of compartment `store` by name: a channel on the cell's
    membrane gated by it opens as `Ca_i` would at that concentration, and a leak moving the
    store's Ca2+ (on another membrane) refreshes its gating rates in the exact methods'
    graph."""
    b = _ca_cell(alpha="k_per_ms_mM * Ca_store")
    b.compartment("store", 1.0, K=140.0, Ca=0.002, clamped=["Ca"])
    b.membrane("sm", "store", "bath", 1.0, clamp=0.0)
    b._d["compartments"]["cell"]["concentrations_mM"]["Ca"] = 1e-5
    df = run_df(b.build())
    ca = df["store.Ca.mM"].iloc[-1]
    q = 500.0 * ca / (500.0 * ca + 0.5)
    assert abs(df["kca.q2.count"].iloc[-1] - 1e6 * q * q) <= 0.5 + 1e-9 * 1e6
    b._d["compartments"]["store"].pop("clamped_species")
    b.mechanism("leak", "ca_leak", membrane="sm", species="Ca", permeability_cm_per_s=1e-7)
    b._d["scenario"]["method"] = "ssa"
    model = Model(b.build())
    mech = next(m for m in model.mechs if m.name == "kca")
    for j in next(m for m in model.mechs if m.name == "ca_leak").transitions:
        assert set(mech.gating) <= set(model.dep_idx[model.dep_ptr[j]:model.dep_ptr[j + 1]])
    # an unknown compartment is an unknown name, with the names it could have meant
    b.configure("kca", gates={"q": {"power": 2, "alpha": "k_per_ms_mM * Ca_stor",
                                    "beta": "0.5 + 0 * V"}})
    with pytest.raises(InputError, match="unknown name 'Ca_stor'.*did you mean 'Ca_store'"):
        b.build()


def _kv(clamp_mV, duration, dt, events=()):
    """1e6 K+ channels of one inf/tau gate (n_inf of V, tau 2 ms) on a clamped cell."""
    return (Builder("kv", duration, dt, "ode", 1)
            .species(K=1).impermeant(X=-1)
            .compartment("cell", 100.0, K=140.0)
            .compartment("bath", 1000.0, K=5.0, bath=True)
            .membrane("m", "cell", "bath", 100.0, clamp=clamp_mV)
            .mechanism("channel", "kv", membrane="m", species="K", density_per_um2=1e4,
                       single_channel_permeability_um3_per_s=0.0,
                       gates={"n": {"power": 1, "inf": "1 / (1 + exp(-(V + 40) / 5))",
                                    "tau": "2.0"}})
            .events(*events).build())


def test_inf_tau_form_is_alpha_beta():
    """inf/tau mean alpha = inf/tau, beta = (1 - inf)/tau: the open count settles at
    N n_inf and, after a step of the clamp from -90 to -30 mV, relaxes with tau = 2 ms."""
    n_inf = 1 / (1 + math.exp(-10 / 5))
    df = run_df(_kv(-30.0, 2.0, 0.5))
    assert abs(df["kv.n1.count"].iloc[-1] - 1e6 * n_inf) <= 0.5 + 1e-9 * 1e6
    df = run_df(_kv(-90.0, 0.01, 0.0005, [(0.001, {"membranes.m.clamp_mV": -30.0})]))
    t = df["time_s"].to_numpy()
    n0 = 1e6 / (1 + math.exp(50 / 5))
    want = 1e6 * n_inf + (n0 - 1e6 * n_inf) * np.exp(-(t - 0.001) / 0.002)
    after = t > 0.001
    assert np.abs(df["kv.n1.count"].to_numpy()[after] - want[after]).max() <= 1.0


def test_a_gate_starts_at_its_initial_fraction_and_relaxes_from_it():
    """`initial = 0.3` on a q^2 gate places the 1e6 channels binomially (q0 0.49, q1 0.42,
    q2 0.09 of them) at t = 0, whatever the steady state; under ode the open count then
    relaxes to N q_inf^2 as without it. Outside 0..1 it is one line naming the key."""
    b = _ca_cell(ca=0.002)
    b.configure("kca", gates={"q": {"power": 2, "alpha": "k_per_ms_mM * Ca_i",
                                    "beta": "0.5 + 0 * V", "initial": 0.3}})
    df = run_df(b.build())
    first = df.iloc[0]
    for state, frac in (("q0", 0.49), ("q1", 0.42), ("q2", 0.09)):
        assert abs(first[f"kca.{state}.count"] - 1e6 * frac) <= 0.5, state
    ca = df["cell.Ca.mM"].iloc[-1]
    q = 500.0 * ca / (500.0 * ca + 0.5)
    assert abs(df["kca.q2.count"].iloc[-1] - 1e6 * q * q) <= 0.5 + 1e-9 * 1e6
    for bad in (1.5, -0.1, "0.3", True):
        b.configure("kca", gates={"q": {"power": 2, "alpha": "k_per_ms_mM * Ca_i",
                                        "beta": "0.5 + 0 * V", "initial": bad}})
        with pytest.raises(InputError, match=r"mechanisms\.kca\.gates\.q\.initial: must be a "
                                             r"number from 0 to 1") as e:
            b.build()
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("alpha, says", [
    ("Ca_x * 2", "unknown name 'Ca_x'"),
    ("__import__('os')", "__import__"),
    ("V.__class__", "attribute"),
    ("(lambda: 1)()", "lambda"),
    ("exp(V", "syntax"),
])
def test_a_bad_expression_is_one_line_naming_the_key(alpha, says):
    with pytest.raises(InputError) as e:
        _ca_cell(alpha=alpha).build()
    msg = str(e.value)
    assert "\n" not in msg and "mechanisms.kca.gates.q.alpha" in msg, msg
    assert says in msg, msg


def test_a_negative_or_undefined_rate_is_refused_before_the_run():
    with pytest.raises(InputError, match=r"gates\.q\.alpha: gives -\S+ at V = -150 mV"):
        Model(_ca_cell(alpha="0.01 * (V + 100)").build())
    with pytest.raises(InputError, match="k/exprel"):
        Model(_ca_cell(alpha="0.1 * (V + 40) / (1 - exp(-(V + 40) / 10))").build())


def test_cli_bad_expression_exits_2_with_one_line(tmp_path, capsys):
    from ionmc.cli import main
    from ionmc.scenario.toml import dumps_toml

    path = tmp_path / "bad.toml"
    data = _ca_cell().raw()
    data["mechanisms"][0]["gates"]["q"]["alpha"] = "__import__('os').system('true')"
    path.write_text(dumps_toml(data))
    assert main(["run", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mechanisms.kca.gates.q.alpha" in err[0], err
    assert not (tmp_path / "out").exists()


def test_the_guides_worked_example_fires_the_squid_spike():
    """docs/writing-mechanisms.md's tables in place of squid_axon's hh_channel ones: the
    same spike under ode (V within 1e-4 mV at every record)."""
    import copy
    import re
    import tomllib
    from pathlib import Path

    from ionmc.scenario import validate

    page = (Path(__file__).resolve().parents[2] / "docs" / "writing-mechanisms.md").read_text()
    section = page[page.index("## A worked example"):]
    block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    mine = tomllib.loads(block)["mechanisms"]
    sc = load_scenario("squid_axon", [("scenario.method", "ode")])
    data = copy.deepcopy(sc.data)
    data["mechanisms"] = mine + [m for m in data["mechanisms"] if m["type"] != "hh_channel"]
    a, b = run_df(sc), run_df(validate(data, "writing-mechanisms.md"))
    assert a["axolemma.V_mV"].max() > 30.0
    assert np.abs(a["axolemma.V_mV"] - b["axolemma.V_mV"]).max() < 1e-4


def _factor_cell(factor, method="ssa", duration=0.05, dt=0.01, seed=3, clamp_ca_o=False):
    """A small cell with Ca2+ channels (one gate, open at rest) whose conduction is times
    `factor` (an expression; "" none) and a K+ leak; the small outside's Ca2+ clamped or
    not (its ~60 ions: one ion more or less is 2% of its concentration)."""
    return (Builder("factor", duration, dt, method, seed)
            .species(K=1, Ca=2).impermeant(X=-1)
            .compartment("ecs", 0.05, K=5.0, Ca=2.0, clamped=["Ca"] if clamp_ca_o else None)
            .compartment("cell", 0.2, K=140.0, Ca=0.01)
            .membrane("m", "cell", "ecs", 2.0, V0=-60.0)
            .leak("K", 1e-7, membrane="m")
            .mechanism("channel", "cav", membrane="m", species="Ca", density_per_um2=5.0,
                       conduction="ohmic", single_channel_conductance_pS=2.0,
                       factor=factor,
                       gates={"d": {"power": 1, "alpha": "2 + 0 * V", "beta": "1"}}))


def test_a_factor_multiplies_conduction_only():
    """The kernels' propensities with factor "0.25": a quarter of the conduction pair's,
    the gating steps' unchanged."""
    from ionmc.engine.checks import _propensities

    plain, scaled = (Model(_factor_cell(f).build()) for f in ("", "0.25"))
    a0, a1 = (_propensities(m, m.x0)[0] for m in (plain, scaled))
    mech = next(m for m in scaled.mechs if m.name == "cav")
    cond = [j for j in mech.transitions if j not in mech.gating]
    gating = sorted(mech.gating)
    assert len(cond) == 2 and a0[cond].min() > 0
    assert np.allclose(a1[cond], 0.25 * a0[cond], rtol=1e-15, atol=0)
    assert np.array_equal(a1[gating], a0[gating])


@pytest.mark.parametrize("factor, clamp", [("1 / (1 + Ca_i / 0.002)", False),
                                           ("1 / (1 + Ca_o / 0.5)", False),
                                           ("1 / (1 + Ca_o / 0.5)", True),
                                           ("", True)])
def test_a_factor_of_the_conducted_ion_keeps_the_ledger_exact(factor, clamp):
    """A Ca2+-dependent factor on a Ca2+ channel (what L-type channels' instantaneous Ca2+
    inactivation reads): the inward step reads it at the state before the outward step it
    reverses (a clamped count does not move), so each pair keeps its exact ratio and the
    ssa ledger closes to rounding. Ohmic conduction into a clamped compartment counts the
    destination as it is (it gains no ion), with or without a factor."""
    from conftest import balance

    df = run_df(_factor_cell(factor, duration=0.02, dt=0.002, clamp_ca_o=clamp).build())
    assert df["cav.Ca.net_efflux"].abs().iloc[-1] > 1000
    resid, scale = balance(df)
    assert np.abs(resid).max() <= 1e-9 * scale, (np.abs(resid).max(), scale)


@pytest.mark.parametrize("factor, says", [("Ca_z", "unknown name 'Ca_z'"),
                                           ("__import__('os')", "__import__")])
def test_a_bad_factor_is_one_line_naming_the_key(factor, says):
    with pytest.raises(InputError) as e:
        _factor_cell(factor).build()
    msg = str(e.value)
    assert "\n" not in msg and "mechanisms.cav.factor" in msg and says in msg, msg
