"""Mass-action reactions (mechanisms/reaction.py): propensities, detailed balance, the
ledger, validation. Statistical checks (Poisson, CME, SBML cases) are in verification/."""
import numpy as np
import pytest

import ionmc
from ionmc.engine.kernels import all_propensities, voltages
from ionmc.errors import InputError
from ionmc.mechanisms.reaction import parse
from ionmc.model import Model
from ionmc.physics import count_of
from reactions import chemistry


def _props(sc):
    m = Model(sc)
    M = m.kernel_args()
    a = np.zeros(m.nt)
    V = np.zeros(len(m.mems))
    x = m.x0.astype(float)
    voltages(x, V, M)
    all_propensities(x, V, a, M)
    return m, a


@pytest.mark.parametrize("eq,want", [
    ("2 A -> B", lambda k, n, om: k * n["A"] * (n["A"] - 1) / om),
    ("A + B -> C", lambda k, n, om: k * n["A"] * n["B"] / om),
    ("-> A", lambda k, n, om: k * om),
    ("A ->", lambda k, n, om: k * n["A"]),
])
def test_propensities_are_the_sbml_rate_law_in_counts(eq, want):
    n = {"A": 13, "B": 5}
    sc = chemistry([("r", eq, {"k_forward": 0.7})], {s: v for s, v in n.items()
                                                     if s in eq or s == "A"})
    m, a = _props(sc)
    om = count_of(1.0, 0.001)
    assert a[0] == pytest.approx(want(0.7, n, om), rel=1e-12)
    assert a[1] == 0.0  # irreversible: no backward


def test_detailed_balance_of_each_jump():
    """a_f(x) / a_b(x') = K Omega^(-dn) n_A(n_A - 1) / (n_B + 1) for 2 A <-> B."""
    sc = chemistry([("d", "2 A <-> B", {"k_forward": 0.5, "K_eq": 5.0})], {"A": 40, "B": 3})
    m, a = _props(sc)
    om = count_of(1.0, 0.001)
    kb = 0.5 / 5.0
    assert a[1] == pytest.approx(kb * 3, rel=1e-12)
    assert a[0] / (kb * 4) == pytest.approx(5.0 / om * 40 * 39 / 4, rel=1e-12)


def test_a_reversible_pair_reaches_K_eq_under_ode():
    sc = chemistry([("iso", "A <-> B", {"k_forward": 2.0, "k_backward": 0.5})], {},
                   conc={"A": 1.0}, duration=20.0, dt=1.0, method="ode")
    last = ionmc.simulate(sc)[0].iloc[-1]
    assert last["cyto.B.mM"] / last["cyto.A.mM"] == pytest.approx(4.0, rel=1e-6)


@pytest.mark.parametrize("method,scale,tol", [("ssa", 1, 1e-9), ("tau-leap", 1000, 1e-4),
                                               ("ode", 1000, 1e-4)])
def test_ledger_closes_with_reversible_reactions(method, scale, tol):
    """Exact per trajectory under ssa. The ODE books the mean-field ln(a_f(x)/a_b(x)) at
    the mean counts, which differs from the jump's exact dG by O(1/n): 0.8% of T S_prod with
    ~50 molecules, so the continuous methods are checked where they apply, at 1000x the
    counts."""
    sc = chemistry([("d", "2 A <-> B", {"k_forward": 0.5, "k_backward": 0.1}),
                    ("c", "A + B <-> C", {"k_forward": 0.2, "K_eq": 3.0})],
                   {"A": 400 * scale, "B": 10 * scale}, volume_um3=0.001 * scale,
                   duration=5.0, dt=0.5, method=method)
    df = ionmc.simulate(sc)[0]
    ts = 310.0 * df["thermo.entropy_production_J_per_K"].iloc[-1]
    assert ts > 0
    assert df["thermo.balance_residual_J"].abs().max() <= tol * ts
    tot = df["cyto.A.count"] + 2 * df["cyto.B.count"] + 3 * df["cyto.C.count"]
    if method != "ode":  # integer counts: the A moiety exactly
        assert (tot == 420 * scale).all()


def test_ledger_closes_with_a_reservoir_under_ssa():
    """A source and a sink make A a reservoir outside G; a reversible reaction drawing on
    it books the reservoir's work in thermo.chemical_work_J, and the balance closes."""
    sc = chemistry([("birth", "-> A", {"k_forward": 0.05}), ("death", "A ->", {"k_forward": 1.0}),
                    ("bind", "A + B <-> C", {"k_forward": 1.0, "k_backward": 2.0})],
                   {"A": 30, "B": 200}, duration=10.0, dt=1.0)
    df = ionmc.simulate(sc)[0]
    assert df["thermo.chemical_work_J"].abs().max() > 0
    scale = 310.0 * df["thermo.entropy_production_J_per_K"].abs().max()
    assert df["thermo.balance_residual_J"].abs().max() <= 1e-9 * scale


def test_parse():
    assert parse("2 A + B <-> C") == ({"A": 2, "B": 1}, {"C": 1}, True)
    assert parse("-> A") == ({}, {"A": 1}, False)
    assert parse("A ->") == ({"A": 1}, {}, False)
    assert parse("X -> 2 X") == ({"X": 1}, {"X": 2}, False)


@pytest.mark.parametrize("reactions,key", [
    ([("r", "A <-> B", {"k_forward": 1.0})], "mechanisms.r.k_backward"),
    ([("r", "A -> B", {"k_forward": 1.0, "k_backward": 1.0})], "mechanisms.r.k_backward"),
    ([("r", "A -> B", {"k_forward": -2.0})], "mechanisms.r.k_forward"),
    ([("r", "A => B", {"k_forward": 1.0})], "mechanisms.r.equation"),
    ([("r", "2 <-> B", {"k_forward": 1.0, "K_eq": 1.0})], "mechanisms.r.equation"),
    ([("r1", "A <-> B", {"k_forward": 1.0, "K_eq": 2.0}),
      ("r2", "B <-> C", {"k_forward": 1.0, "K_eq": 2.0}),
      ("r3", "C <-> A", {"k_forward": 1.0, "K_eq": 2.0})], "mechanisms.r1.K_eq"),
])
def test_bad_reactions_name_their_key(reactions, key):
    with pytest.raises(InputError) as e:
        chemistry(reactions, {"A": 1})
    assert e.value.key == key


def test_a_consistent_cycle_passes_wegscheider():
    chemistry([("r1", "A <-> B", {"k_forward": 1.0, "K_eq": 2.0}),
               ("r2", "B <-> C", {"k_forward": 1.0, "K_eq": 4.0}),
               ("r3", "C <-> A", {"k_forward": 1.0, "K_eq": 1 / 8})], {"A": 1})


def test_charge_must_balance():
    from ionmc.scenario import validate

    raw = {"scenario": {"name": "c", "duration_s": 1.0, "record_interval_s": 1.0},
           "species": {"A": {"charge": 1}, "B": {"charge": 0}},
           "compartments": {"cyto": {"volume_um3": 1.0, "counts": {"A": 1}}},
           "mechanisms": [{"type": "reaction", "name": "r", "compartment": "cyto",
                           "equation": "A -> B", "k_forward": 1.0}]}
    with pytest.raises(InputError, match="charge balanced"):
        validate(raw, "t")


def test_a_reservoir_species_moved_by_another_type_is_refused():
    """An irreversible reaction's species are kept outside G; a leak moving one of them
    would change G unbooked: the model refuses it, naming the reaction's key."""
    from builder import Builder
    from ionmc.model import Model

    b = (Builder("res", duration=1.0, dt=0.5)
         .species(Na=1, Y=0, Z=0)
         .compartment("cell", 1.0, balance=None, Na=10.0, Y=1.0, Z=1.0)
         .compartment("bath", 100.0, balance=None, Na=10.0, Y=1.0, bath=True)
         .membrane("pm", "cell", "bath", 1.0, clamp=-70.0)
         .leak("Y", 1e-7)
         .mechanism("reaction", "make_y", compartment="cell", equation="-> Y",
                    k_forward=1.0))
    with pytest.raises(InputError, match="also moved by") as e:
        Model(b.build())
    assert e.value.key == "mechanisms.make_y.equation"
    # reversible, the same species joins the ledger and is accepted
    Model(b.configure("make_y", equation="Z <-> Y", k_backward=1.0).build())
