"""Counts stay counts under ode (engine/bdf.py `undershoot`, engine/meanfield.py): a nearly
empty gating state of a fast gate, whose outflow is stiff, undershoots 0 between the
solver's steps by about its absolute tolerance and no more, the rate laws read it as 0,
and the run ends with every state at its exact value (to the output's rounding). A count
the model itself drains while empty is not the solver's to hide: it goes on to the
output's check (checks.check_table), which stops the run with one line."""
import numpy as np
import pytest
from scipy.linalg import expm

import ionmc
from ionmc.engine.bdf import undershoot
from ionmc.model import Model

from builder import Builder

# edNEGmodel's Na+ gates (Pinsky-Rinzel), m `speed` times faster: per ms at V mV
_M = {"alpha": "s * 1.28 / exprel(-(V + 46.9) / 4)", "beta": "s * 1.4 / exprel((V + 19.9) / 5)"}
_H = {"alpha": "0.128 * exp((-43 - V) / 18)", "beta": "4 / (1 + exp(-(V + 20) / 5))"}


def _exprel(x):
    return np.expm1(x) / x


def _rates(V, speed):
    """(alpha_m, beta_m, alpha_h, beta_h) per second at V mV."""
    return (1e3 * speed * 1.28 / _exprel(-(V + 46.9) / 4),
            1e3 * speed * 1.4 / _exprel((V + 19.9) / 5),
            1e3 * 0.128 * np.exp((-43 - V) / 18), 1e3 * 4 / (1 + np.exp(-(V + 20) / 5)))


def _fast_na(speed, density, V, duration):
    """100 um^2 clamped at V mV with density/um^2 m^2 h channels, m `speed` times edNEG's."""
    return (Builder("fast_na", duration, 0.001, "ode", 1)
            .species(Na=1, K=1).impermeant(X=-1)
            .compartment("cell", 1000.0, Na=15.0, K=140.0)
            .compartment("bath", 1e5, Na=145.0, K=5.0, bath=True)
            .membrane("m", "cell", "bath", 100.0, clamp=V)
            .mechanism("channel", "nav", membrane="m", species="Na", density_per_um2=density,
                       conduction="ohmic", single_channel_conductance_pS=15.0,
                       parameters={"s": speed},
                       gates={"m": {"power": 2, **_M},
                              "h": {"power": 1, **_H}})
            .build())


@pytest.mark.parametrize("density,V", [(100.0, -70.0), (1000.0, -90.0)])
def test_a_nearly_empty_fast_gated_state_stays_at_its_exact_count(density, V):
    """m 100x edNEG's: at -70 mV m2h0 holds 1e-5 channels of 1e4 (its outflow ~3e6/s), at
    -90 mV m1h0 and m2h0 below 1e-3 of 1e5. The solver's undershoot of them used to run
    on to -1 (the run stopped at 0.035 s and 0.101 s naming the count); now each state's
    count is the linear scheme's exact solution (expm of its generator) to the rounding,
    none below 0."""
    sc = _fast_na(100.0, density, V, 0.2)
    model = Model(sc)
    mech = next(m for m in model.mechs if m.name == "nav")
    labels = [mech.state_label(k) for k in range(len(mech.states))]
    x0 = model.x0[mech.states].astype(float)
    am, bm, ah, bh = _rates(V, 100.0)
    Q = np.zeros((len(labels), len(labels)))  # generator, Q[i, j]: rate i -> j
    index = {lab: i for i, lab in enumerate(labels)}
    for lab, i in index.items():
        km, kh = int(lab[1]), int(lab[3])
        for (dm, dh), r in (((1, 0), (2 - km) * am), ((-1, 0), km * bm),
                            ((0, 1), (1 - kh) * ah), ((0, -1), kh * bh)):
            to = f"m{km + dm}h{kh + dh}"
            if r > 0 and to in index:
                Q[i, index[to]] = r
    Q -= np.diag(Q.sum(axis=1))
    df = ionmc.simulate(sc, 0)[0]  # before: SimulationError, a count of -1
    t = df["time_s"].to_numpy()
    exact = np.array([x0 @ expm(Q * s) for s in t])
    got = df[[f"nav.{lab}.count" for lab in labels]].to_numpy(float)
    assert got.min() >= 0
    assert np.abs(got - exact).max() <= 0.5 + 1e-6 * x0.sum()
    assert exact[:, index["m2h0"]].max() < 1e-2  # the nearly empty state of the report


def test_only_the_solvers_undershoot_beyond_its_weight_fails_a_step():
    """`undershoot`, in error weights: a count below 0 by its weight or less passes; one
    further below fails the step when the model feeds it (f >= 0: the solver's error),
    and not when the model drains it while empty (f < 0: the model's, for the output's
    check); a count already below 0 need only not fall further."""
    y_old = np.array([5.0, 0.0, 0.0, -0.5])
    scale = np.full(4, 1e-3)
    fed, drained = np.array([0.0, 2.0, 0.0, 1.0]), np.array([0.0, -2.0, -3.0, -1.0])
    within = np.array([5.0, -1e-3, 0.0, -0.5])
    assert undershoot(within, y_old, scale, fed) == 0.0
    beyond = np.array([5.0, -0.5, 0.0, -0.5])
    assert undershoot(beyond, y_old, scale, fed) == pytest.approx(500.0)
    assert undershoot(beyond, y_old, scale, drained) == 0.0
    further = np.array([5.0, 0.0, 0.0, -0.6])
    assert undershoot(further, y_old, scale, fed) == pytest.approx(600.0)
