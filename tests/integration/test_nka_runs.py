"""The per-molecule Na+/K+-ATPase (mechanisms/nka.py) held against the measurements it was
fitted to, each measured here from simulated runs of a clamped cell (concentrations and V
held, ode: the mean-field limit, so each number is exact to the solver's tolerance), not
read from its constants; and its ledger, exact under ssa in a spine."""
import numpy as np
import pytest

import ionmc
from builder import Builder
from conftest import balance, ions

DENSITY = 1000.0  # pumps on the 1 um^2 clamped membrane


def clamped(nai, V_mV=0.0, nao=145.0, ko=5.4, ki=140.0, **pump):
    """Net cycles per pump per second of a clamped cell, from the pump's own firing
    counts between 0.1 and 0.2 s (the pumps start in the cycle's steady state)."""
    sc = (Builder("clamped_pump", duration=0.2, dt=0.1, method="ode")
          .species(Na=1, K=1).impermeant(X=-1)
          .compartment("cell", 1.0, Na=nai, K=ki, clamped=["Na", "K"])
          .compartment("bath", 100.0, Na=nao, K=ko, bath=True)
          .membrane("pm", "cell", "bath", 1.0, clamp=V_mV)
          .atpase(density_per_um2=DENSITY, **pump).build())
    df = ionmc.simulate(sc, 0)[0]
    net = (df["pump.forward"] - df["pump.backward"]).to_numpy()
    return (net[-1] - net[-2]) / 0.1 / DENSITY


def half_point(xs, js, half):
    """Where js (increasing in xs) crosses `half`, interpolated in log x."""
    i = int(np.searchsorted(js, half))
    lx = np.log(xs)
    return float(np.exp(lx[i - 1] + (half - js[i - 1]) / (js[i] - js[i - 1]) * (lx[i] - lx[i - 1])))


def na_curve(isoform="a1", **kw):
    jmax = clamped(1000.0, isoform=isoform, **kw)  # saturating Na_i
    xs = np.array([4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 17.0, 20.0, 25.0, 30.0, 40.0, 50.0, 70.0])
    js = np.array([clamped(x, isoform=isoform, **kw) for x in xs])
    return jmax, half_point(xs, js, jmax / 2)


def test_turnover_na_affinity_and_hill_slope_as_measured():
    jmax, k05 = na_curve()
    assert 50.0 <= jmax <= 150.0, jmax  # maximal turnover at 37 C
    assert 10.0 <= k05 <= 15.0, k05  # alpha1's apparent K0.5 for Na_i
    # Hill slope at K0.5: d ln[J/(Jmax - J)] / d ln Na_i, by a central difference
    h = 0.05
    lo, hi = clamped(k05 * (1 - h)), clamped(k05 * (1 + h))
    slope = (np.log(hi / (jmax - hi)) - np.log(lo / (jmax - lo))) / np.log((1 + h) / (1 - h))
    assert 1.5 <= slope <= 2.5, slope
    # local sensitivity at rest: d ln J / d ln Na_i at -70 mV, Na_i 10-15 mM
    for nai in (10.0, 12.5, 15.0):
        s = np.log(clamped(nai * (1 + h), -70.0) / clamped(nai * (1 - h), -70.0)) \
            / np.log((1 + h) / (1 - h))
        assert 0.0 < s <= 1.3, (nai, s)


def test_isoforms_na_affinity_in_crambert_ratios():
    # Crambert et al. 2000: alpha1 : alpha2 : alpha3 = 12 : 22 : 33 (oocytes); the model
    # carries the ratios over (nka_cycle.ISOFORM_NAI_SCALE)
    k = {iso: na_curve(iso)[1] for iso in ("a1", "a2", "a3")}
    assert k["a2"] / k["a1"] == pytest.approx(22 / 12, rel=0.03)
    assert k["a3"] / k["a1"] == pytest.approx(33 / 12, rel=0.03)


def test_k_o_affinity():
    # K0.5 for K_o at -70 mV, Na_i 50 mM, Na_o 145 mM: measured 1-2.5 mM
    jmax = clamped(50.0, -70.0, ko=200.0)
    xs = np.array([0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 15.0])
    js = np.array([clamped(50.0, -70.0, ko=x) for x in xs])
    assert 1.0 <= half_point(xs, js, jmax / 2) <= 2.5


def test_current_voltage_shape_of_nakao_and_gadsby():
    # Nakao & Gadsby 1989: with 150 mM Na_o the pump current at -100 mV is well under half
    # its 0 mV value; with 1.5 mM Na_o the I-V is nearly flat (Na_i 50 mM, K_o 5.4 mM)
    def ratio(nao):
        return clamped(50.0, -100.0, nao=nao) / clamped(50.0, 0.0, nao=nao)
    assert ratio(150.0) <= 0.5
    assert ratio(1.5) >= 0.85


def resting_density():
    """Pumps per um^2 that carry resting_neuron's net Na+ leak (4.34e8 /s over 500 um^2)
    at the pump's own turnover at the textbook state."""
    from ionmc.mechanisms import nka, nka_cycle

    p = {k: v for k, (v, *_) in nka.PARAMS.items() if v is not None and k != "isoform"}
    return 4.336e8 / 500.0 / 3.0 / nka_cycle.turnover(p, 15.0, 140.0, 145.0, 5.0, -0.07)


def spine(area_um2, duration):
    """A spine head in a bath with the textbook state's leaks, scaled to its area, and
    the pumps that hold it (density from the pump's turnover at the resting state)."""
    return (Builder("nka_spine", duration=duration, dt=duration / 5, method="ssa", seed=11)
            .species(Na=1, K=1, Cl=-1).impermeant(X=-1)
            .compartment("spine", 0.02 * area_um2 / 0.4, Na=15.0, K=140.0,
                         Cl=8.733067503619136)
            .compartment("ecs", 1000.0, Na=145.0, K=5.0, Cl=120.0, bath=True)
            .membrane("head", "spine", "ecs", area_um2, V0=-70.0)
            .leaks(("K", 6.547104040756225e-06), ("Na", 3.540812018692216e-07),
                   ("Cl", 2.9461968183403014e-06))
            .atpase(density_per_um2=resting_density()).build())


@pytest.mark.parametrize("area_um2", [0.05, 0.005])
def test_ledger_exact_under_ssa_in_a_spine(area_um2):
    # every step elementary, each charge's voltage factor on the step that moves it: the
    # balance closes to rounding, and does not grow as the membrane (C) shrinks
    df = ionmc.simulate(spine(area_um2, 0.5), 0)[0]
    resid, scale = balance(df)
    assert df["thermo.atp_work_J"].iloc[-1] > 0.1 * scale  # the pumps really cycle
    assert np.abs(resid).max() <= 1e-7 * scale, (np.abs(resid).max() / scale)


def test_bound_ions_are_conserved_and_counted_in_v():
    from ionmc.mechanisms.nka_cycle import STATE_CHARGE
    from ionmc.model import Model

    # a closed outside (no bath), so every Na+ and K+ is counted: free in the two
    # compartments, or held by a pump
    sc = spine(0.05, 0.2)
    sc.data["compartments"]["ecs"].update(bath=False, volume_um3=0.05)
    m = Model(sc)
    pump = m.mechs[-1]
    df = ionmc.simulate(sc, 0)[0]
    held = {"Na": 0.0, "K": 0.0}
    for i, s, n in pump.bound_ions(m):
        held[s] = held[s] + n * df[f"pump.{pump.state_label(pump.states.index(i))}.count"]
    for s in ("Na", "K"):
        # the pump's own column of what it holds, from its state counts
        assert np.all(df[f"pump.{s}.bound"] == held[s])
        total = ions(df, ("spine", "ecs"), s)
        assert np.all(total == total.iloc[0]), s
        assert np.any(held[s] != held[s].iloc[0])  # the pumps' share does change
    # V counts the ions held on the inside of the field: recomputed from the columns
    q = sum(df[f"spine.{s}.count"] * z for s, z in (("Na", 1), ("K", 1), ("Cl", -1), ("X", -1)))
    q = q + sum(STATE_CHARGE[k] * df[f"pump.{pump.state_label(k)}.count"] for k in range(13))
    C = 0.05e-12 * 1e-2  # 1 uF/cm^2 on 0.05 um^2, in F
    np.testing.assert_allclose(df["head.V_mV"], q * 1.602176634e-19 / C * 1e3, rtol=1e-12)
