"""Couplings (electrodiffusion between compartments, coupling.py) and Kir channels (kir.py):
closed forms (equal concentrations, Boltzmann ratio, Nernst, the Kir laws' net fluxes),
exact conservation, the ledger, and astrocyte K+ buffering (astrocyte_buffering)."""
import math
import tomllib

import numpy as np
import pytest

import ionmc
from ionmc.mechanisms import kir
from ionmc.constants import E_CHARGE, F, IONS_PER_MM_UM3, R
from ionmc.errors import InputError
from ionmc.model import Model
from ionmc.scenario import load_scenario, validate

from builder import Builder
from cells import astro, clamped_boxes, two_boxes
from conftest import balance

T = 310.0


def run(sc, replicate=0):
    return ionmc.simulate(sc, replicate)[0]


def ion_totals(df, model, species):
    return sum(df[f"{c}.{species}.count"] for c in model.comps
               if not model.clamped[model.idx(c, species)])


def test_coupling_between_non_membrane_compartments_equalises():
    """No membrane at all: the coupling takes both boxes to the same concentration (the
    mean-field fixed point exactly) and conserves K exactly under ssa. (The replicates'
    binomial law: verification, coupled_boxes_share_ions_binomially.)"""
    boxes = two_boxes()
    ode = run(boxes.copy().scenario(method="ode").build())
    p = boxes.build()
    ca, cb = ode["a.K.mM"].iloc[-1], ode["b.K.mM"].iloc[-1]
    n0 = ode["a.K.count"].iloc[0] + ode["b.K.count"].iloc[0]  # 602 + 120 ions
    assert ca == pytest.approx(cb, rel=1e-6)
    assert ca == pytest.approx(n0 / (IONS_PER_MM_UM3 * 3e-4), rel=1e-6)
    for r in range(5):
        df = run(p, replicate=r)
        tot = df["a.K.count"] + df["b.K.count"]
        assert (tot == tot.iloc[0]).all() and tot.iloc[0] == 722
        assert df["gap.forward"].iloc[-1] > 0


@pytest.mark.parametrize("va_mV,vb_mV", [(0.0, -20.0), (-30.0, 10.0)])
def test_coupling_reaches_boltzmann_ratio_between_clamped_potentials(va_mV, vb_mV):
    """Between two compartments at fixed potentials the coupling's equilibrium is
    c_b/c_a = exp(-zF(V_b - V_a)/RT): the ode to 1e-6; the ledger balances to rounding
    under ssa (clamp work on two membranes). (The ssa's replicates against the Boltzmann
    share: verification, coupled_boxes_share_ions_binomially.)"""
    ratio = math.exp(-F * (vb_mV - va_mV) * 1e-3 / (R * T))
    boxes = clamped_boxes("ssa", va_mV, vb_mV, duration=0.1)
    ode = run(boxes.copy().scenario(method="ode").build())
    p = boxes.build()
    assert ode["b.K.mM"].iloc[-1] / ode["a.K.mM"].iloc[-1] == pytest.approx(ratio, rel=1e-6)
    for r in range(5):
        df = run(p, replicate=r)
        n = df["a.K.count"] + df["b.K.count"]
        assert (n == n.iloc[0]).all()
        resid, scale = balance(df)
        assert np.abs(resid).max() < 1e-9 * scale
        assert np.abs(df["thermo.clamp_work_J"]).max() > 1e-3 * scale


def network(method, duration=0.05, dt=0.005, scale=1.0):
    """Two tiny astrocytes (0.01 um^3, 0.02 um^2: one ion moves V by 0.8 mV) in their
    ECSs, every volume and area times `scale` (a Builder)."""
    return (Builder("network", duration, dt, method, seed=5)
            .species(Na=1, K=1, Cl=-1).impermeant(X=-1)
            .compartment("ecs", 0.004 * scale, Na=145.0, K=12.0, Cl=120.0)
            .compartment("ecs_far", 0.008 * scale, Na=145.0, K=3.0, Cl=120.0)
            .compartment("astro", 0.01 * scale, Na=15.0, K=130.0, Cl=6.0)
            .compartment("astro_far", 0.01 * scale, Na=20.0, K=120.0, Cl=5.0)
            .membrane("am", "astro", "ecs", 0.02 * scale, V0=-80.0)
            .membrane("fm", "astro_far", "ecs_far", 0.02 * scale, V0=-90.0)
            .mechanism("kir", "kir_lin", membrane="am", conductance_mS_per_cm2=1.7,
                       K_o_ref_mM=5.0)
            .mechanism("kir", "kir_ghk", membrane="fm", permeability_cm_per_s=2e-5,
                       K_o_ref_mM=5.0)
            .leak("Na", 2e-7, membrane="am", name="na_leak")
            .leak("Cl", 1e-6, membrane="fm", name="cl_leak")
            .mechanism("coupling", "gap", compartments=["astro", "astro_far"],
                       species=["Na", "K", "Cl"], area_um2=2e-5 * scale, length_um=1.0,
                       tortuosity=3.2)
            .mechanism("coupling", "ecs_diffusion", compartments=["ecs", "ecs_far"],
                       species=["K", "Cl"], area_um2=1e-3 * scale,
                       permeability_cm_per_s=1e-3))


@pytest.mark.parametrize("method", ["ssa", "tau-leap"])
def test_couplings_and_kir_conserve_ions_exactly(method):
    """Two astrocytes (Kir of both laws, leaks) joined by gap junctions, their ECSs by
    diffusion, started away from equilibrium: every species' total count is constant on
    every row, and the couplings' net efflux columns are what moved."""
    sc = network(method).build()
    model = Model(sc)
    df = run(sc)
    for s in ("Na", "K", "Cl", "X"):
        tot = ion_totals(df, model, s)
        assert (tot == tot.iloc[0]).all(), s
    moved = df["gap.K.net_efflux"].iloc[-1]
    assert moved != 0
    assert df["astro.K.count"].iloc[0] - df["astro.K.count"].iloc[-1] == \
        moved + df["kir_lin.K.net_efflux"].iloc[-1]


def test_ledger_balances_to_rounding_under_ssa_with_couplings_and_kir():
    """Couplings that charge two membranes, the Kir's state-dependent factors at the
    jump's midpoint: G(t) - G(0) = W - T S_prod to rounding on the ssa trajectory."""
    df = run(network("ssa").build())
    resid, scale = balance(df)
    assert df["thermo.entropy_production_J_per_K"].iloc[-1] > 0
    assert np.abs(resid).max() < 1e-9 * scale
    # a wrong midpoint would show: the gap junction moved thousands of ions
    assert df["gap.forward"].iloc[-1] > 1000


@pytest.mark.parametrize("method", ["tau-leap", "ode"])
def test_ledger_balances_within_one_percent_under_tau_leap_and_ode(method):
    df = run(network(method).build())
    resid, scale = balance(df)
    assert np.abs(resid).max() < 1e-2 * scale


def _props(model, x):
    from ionmc.engine.kernels import all_propensities, voltages

    M = model.kernel_args()
    V = np.zeros(len(model.mems))
    voltages(x, V, M)
    a = np.zeros(model.nt)
    all_propensities(x, V, a, M)
    return a, V


def test_kir_net_flux_is_its_closed_form():
    """Mean-field net outward K+ of each Kir law at a state away from rest: the linear law
    gives g A f (V - E_K)/e (Halnes 2013, edNEGmodel), the GHK law f times the GHK flux;
    f from kir.factor at that state (large counts: the midpoint's half ion is 1e-8)."""
    scale = 1e6  # one ion's dV/2 and half-count are below 1e-6 of V and the counts
    model = Model(network("ode", scale=scale).build())
    x = model.x0.copy()
    a, V = _props(model, x)
    spec = model.scenario.mechanism("kir_lin")
    ci = x[model.idx("astro", "K")] * model.inv_nvol[model.idx("astro", "K")]
    co = x[model.idx("ecs", "K")] * model.inv_nvol[model.idx("ecs", "K")]
    e_k = R * T / F * math.log(co / ci)
    v = V[model.mems.index("am")]
    f = kir.factor(co, v, e_k, spec)
    j0, j1 = next(m for m in model.mechs if m.name == "kir_lin").transitions
    g = 1.7e-3 * 0.02e-8 * scale  # S/cm^2 x cm^2
    assert a[j0] - a[j1] == pytest.approx(g * f * (v - e_k) / E_CHARGE, rel=1e-5)
    # the GHK law on the other membrane
    from ionmc.thermo.closed_forms import ghk_fluxes

    spec = model.scenario.mechanism("kir_ghk")
    ci = x[model.idx("astro_far", "K")] * model.inv_nvol[model.idx("astro_far", "K")]
    co = x[model.idx("ecs_far", "K")] * model.inv_nvol[model.idx("ecs_far", "K")]
    v = V[model.mems.index("fm")]
    f = kir.factor(co, v, R * T / F * math.log(co / ci), spec)
    out, inn = ghk_fluxes(2e-5, 0.02 * scale, 1, ci, co, v, T)
    j0, j1 = next(m for m in model.mechs if m.name == "kir_ghk").transitions
    assert a[j0] == pytest.approx(f * out, rel=1e-5)
    assert a[j1] == pytest.approx(f * inn, rel=1e-5)


def kir_cell(law, method="ode", duration=100.0, dt=50.0, vol=1.0, area=10.0, clamp=-60.0,
             V0=None):
    """A Kir alone (its flux law `law`: conductance or permeability) between a cell and a
    bath of K+, the membrane clamped at `clamp` mV (a Builder)."""
    return (Builder("kir_cell", duration, dt, method)
            .species(K=1).impermeant(A=-1)
            .compartment("cell", vol, balance="A", K=100.0)
            .compartment("bath", 10.0, balance="A", bath=True, K=5.0)
            .membrane("pm", "cell", "bath", area, V0=V0, clamp=clamp)
            .mechanism("kir", "kir", membrane="pm", **law))


LAWS = {"conductance": {"conductance_mS_per_cm2": 2.0},
        "permeability": {"permeability_cm_per_s": 1e-5}}


@pytest.mark.parametrize("law", list(LAWS))
def test_kir_takes_k_to_nernst_whatever_its_rectification(law):
    """Both directions carry the same factor f, so a Kir alone on a clamped membrane takes
    K_i to the Nernst value K_o exp(-FV/RT) (from 100 mM to 47.25 mM at -60 mV)."""
    df = run(kir_cell(LAWS[law]).build())
    assert df["cell.K.mM"].iloc[-1] == pytest.approx(5.0 * math.exp(0.06 * F / (R * T)),
                                                      rel=1e-5)


def test_astrocyte_buffering_starts_at_a_fixed_point():
    """Before the firing starts (10 s) nothing moves: the design (design.kir_cell_state)
    makes rest a fixed point of the neuron, both astrocytes and the couplings."""
    sc = astro("ode", 8.0, 4.0)
    df = ionmc.simulate(sc.at_point(sc.points()[0]), 0)[0]
    for m in ("soma", "astro_mem", "astro_far_mem"):
        assert abs(df[f"{m}.V_mV"].iloc[-1] - df[f"{m}.V_mV"].iloc[0]) < 0.01
    for c in ("ecs", "astro", "ecs_far"):
        assert abs(df[f"{c}.K.mM"].iloc[-1] - df[f"{c}.K.mM"].iloc[0]) < 1e-4


BAD = [
    ('compartments = ["a", "a"]', "compartments", "same"),
    ('compartments = ["a", "zz"]', "compartments", "unknown compartment"),
    ('species = "Q"', "species", "unknown species"),
    ('permeability_cm_per_s = 1e-3', "permeability_cm_per_s", "not both"),
    ('length_um = -1.0', "length_um", "missing"),
    ('tortuosity = 0.5', "tortuosity", "physical range [1, 10]"),
    ('D_um2_per_s = { Na = 1.0 }', "D_um2_per_s.Na", "not in species"),
]


@pytest.mark.parametrize("line,key,msg", BAD)
def test_bad_coupling_tables_name_file_and_key(tmp_path, line, key, msg):
    (field, value), = tomllib.loads(line).items()
    p = two_boxes().drop("gap", field).configure("gap", **{field: value}) \
        .write(tmp_path / "s.toml")
    with pytest.raises(InputError) as e:
        load_scenario(p)
    assert e.value.key == f"mechanisms.gap.{key}" and msg in e.value.message
    assert str(p) in str(e.value)


def test_coupling_may_not_draw_on_a_clamped_species_at_a_free_potential():
    raw = network("ssa").raw()
    raw["compartments"]["astro"]["clamped_species"] = ["K"]
    with pytest.raises(InputError) as e:
        validate(raw, "network")
    assert e.value.key == "mechanisms.gap.species" and "not voltage-clamped" in e.value.message


def test_kir_needs_one_flux_law():
    with pytest.raises(InputError) as e:
        kir_cell({}).build()
    assert e.value.key == "mechanisms.kir.permeability_cm_per_s"
    with pytest.raises(InputError):
        kir_cell({"permeability_cm_per_s": 1e-5, "conductance_mS_per_cm2": 1.0}).build()


def test_coupling_from_diffusion_coefficient():
    """P = D / (tortuosity^2 length), D of a species not named: Hille's free-solution value
    taken from 25 to 37 C by q10."""
    from ionmc.mechanisms import coupling

    t = {"permeability_cm_per_s": -1.0, "length_um": 50.0, "D_um2_per_s": {"Na": 1000.0},
         "tortuosity": 2.0, "q10": 1.3, "area_um2": 1.0}
    assert coupling.permeability_m_per_s(t, "Na", 310.0) == pytest.approx(1000e-12 / 4 / 50e-6)
    assert coupling.permeability_m_per_s(t, "K", 310.0) == pytest.approx(
        1960e-12 * 1.3 ** 1.185 / 4 / 50e-6)


def test_energetics_counts_kir_as_the_astrocytes_k_conductance():
    """`ionmc energetics` on astrocyte_buffering: the astrocyte's Kir is its K+ conductance,
    so at the designed fixed point the channels' net current is the pump's, opposite."""
    from ionmc.thermo.energetics import energetics

    res = energetics(load_scenario("astrocyte_buffering"))
    b = res["membranes"]["astro_mem"]
    assert b["leak_current_pA"] == pytest.approx(-b["pump_current_pA"], rel=1e-3)
    assert b["pump_cycles_per_s"] == pytest.approx(b["pump_model_cycles_per_s"], rel=1e-3)
    assert b["input_resistance_MOhm"] < 100.0  # Kir: ~30 MOhm, leaks alone ~500


def test_an_event_closes_a_coupling():
    """`area_um2 = 0` at an event: no ion crosses after it (the first box keeps its count)."""
    df = run(two_boxes().event(0.02, **{"mechanisms.gap.area_um2": 0.0}).build())
    after = df[df["time_s"] >= 0.02]
    assert df["gap.forward"].iloc[2] > 0
    assert (after["gap.forward"] == after["gap.forward"].iloc[0]).all()
    assert (after["a.K.count"] == after["a.K.count"].iloc[0]).all()


@pytest.mark.parametrize("law", list(LAWS))
def test_kir_against_a_bath_balances_the_ledger_to_rounding(law):
    """A tiny cell (0.001 um^3, 0.01 um^2: one ion moves V by 1.6 mV) whose Kir exchanges
    K+ with a bath (clamped counts: no half step on that side): the ledger closes under ssa
    to rounding."""
    df = run(kir_cell(LAWS[law], "ssa", 0.5, 0.05, vol=0.001, area=0.01, clamp=None,
                      V0=-60.0).build())
    assert df["kir.forward"].iloc[-1] > 1000
    resid, scale = balance(df)
    # the bath is the reference of K+ (docs/physics.md): W_bath = 0, and G falls by
    # what is dissipated
    assert df["thermo.entropy_production_J_per_K"].iloc[-1] * T > 0.1 * scale
    assert np.abs(resid).max() < 1e-9 * scale
