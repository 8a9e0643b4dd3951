"""The edNEGmodel mapping (results/ednegmodel/compare.py): at edNEG's resting state the
flux-matched ionmc model must hold every ion still (each leak, pump and transporter carries
edNEG's flux there, with the signs and units of both codes), and the slope-matched leaks
must have edNEG's conductances as their GHK slope."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ionmc.thermo.closed_forms import ghk_current
from ionmc.model import Model
from ionmc.engine.meanfield import count_rhs, jac_structure
from ionmc.scenario import validate

HERE = Path(__file__).resolve().parents[2] / "results" / "ednegmodel"


@pytest.fixture(scope="module")
def cmp():
    spec = importlib.util.spec_from_file_location("edneg_compare", HERE / "compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rest_row():
    return pd.read_csv(HERE / "rest_300s.csv").iloc[-1]


def rhs(model, x):
    """The mean-field right-hand side d x/dt of a compiled model at counts x."""
    return count_rhs(x, jac_structure(model), model.kernel_args())


def test_flux_matched_rest_is_a_fixed_point(cmp, rest_row):
    L, P, dens, flux, gs, cycles, cot = cmp.derive(rest_row, "flux")
    model = Model(validate(cmp.scenario_dict(L, P, dens), "edneg-test"))
    x = model.x0.astype(float)
    dx = rhs(model, x)
    # the turnover scale: Na+ the neuronal pumps move per second (~2.3e8 ions/s)
    scale = 3 * cycles["n"]
    for c in ("neuron", "ecs", "glia"):
        for s in ("Na", "K", "Cl"):
            assert abs(dx[model.idx(c, s)]) < 1e-4 * scale, (c, s, dx[model.idx(c, s)])
    # and it is not trivially still: edNEG's resting fluxes are large
    assert cycles["n"] > 1e7 and cot["KCC2"] > 1e7


def test_a_sign_error_would_show(cmp, rest_row):
    """The same check with KCC2 running the wrong way must fail by far."""
    L, P, dens, flux, gs, cycles, cot = cmp.derive(rest_row, "flux")
    raw = cmp.scenario_dict(L, P, dict(dens, KCC2=0.0))
    model = Model(validate(raw, "edneg-test"))
    dx = rhs(model, model.x0.astype(float))
    assert abs(dx[model.idx("neuron", "Cl")]) > 0.1 * cot["KCC2"]


def test_slope_matched_leaks_have_ednegs_conductance(cmp, rest_row):
    L, P, dens, flux, gs, cycles, cot = cmp.derive(rest_row, "slope")
    T = cmp.T
    for m, vm in (("n", L["Vm_n"]), ("g", L["Vm_g"])):
        for s, z in (("Na", 1), ("K", 1), ("Cl", -1)):
            ci, co = L[f"{s}_{m}"], L[f"{s}_e"]
            v, h = vm * 1e-3, 1e-5
            slope = (ghk_current(P[m, s], 1e8, z, ci, co, v + h, T)
                     - ghk_current(P[m, s], 1e8, z, ci, co, v - h, T)) / (2 * h)
            # 1e8 um^2 = 1 cm^2: slope in S/cm^2
            assert slope * 1e3 == pytest.approx(gs[m, s], rel=1e-6), (m, s)


def _need(mech_type):
    from ionmc.mechanisms.registry import REGISTRY
    if mech_type not in REGISTRY:
        pytest.skip(f"this ionmc has no {mech_type!r} mechanism yet")


def test_kir_carries_ednegs_kir_flux(cmp, rest_row):
    """ionmc's Kir with edNEG's constants (compare.kir_spec) carries edNEG's glial K+ flux
    at edNEG's rest: same law, no matching (constants R, F differ by 1e-4)."""
    _need("kir")
    L, P, dens, flux, gs, cycles, cot = cmp.derive(rest_row, "flux")
    model = Model(validate(cmp.scenario_dict(L, P, dens, kir=True), "edneg-test"))
    from ionmc.engine import kernels
    x = model.x0.astype(float)
    V = np.zeros(len(model.mems))
    M = model.kernel_args()
    kernels.voltages(x, V, M)
    a = np.zeros(model.nt)
    kernels.all_propensities(x, V, a, M)
    kir = next(m for m in model.mechs if m.name == "Kir_g")
    f, b = kir.ref
    assert a[f] - a[b] == pytest.approx(flux["g", "K"], rel=2e-3)


def test_two_layers_rest_at_ednegs(cmp, rest_row):
    """Two layers joined by couplings with edNEG's D/lambda^2/dx: ionmc's fixed point is
    edNEG's rest per compartment within 0.02 mM and 0.01 mV. The residue is the ECS
    potential edNEG solves for (0.004 mV between its ECS layers) and ionmc sets to 0, which
    leaves the axial ECS flux to diffusion alone (~0.01 mM of Na+ and Cl- between layers)."""
    _need("coupling")
    t = cmp.two_layer_rest(rest_row, write=False)
    conc = t[~t.quantity.str.startswith("Vm")]
    volt = t[t.quantity.str.startswith("Vm")]
    assert conc["diff"].abs().max() < 0.02
    assert volt["diff"].abs().max() < 0.01
    # the intracellular compartments are much closer than the ECS
    intra = conc[~conc.quantity.str.contains("e$")]
    assert intra["diff"].abs().max() < 1e-3


def test_transcribed_formulas_reproduce_ednegs_output(cmp):
    """compare.py's transcription of edNEG's transport and channel formulas gives the fluxes
    edNEG's own code wrote, at rest and through the stimulus (spikes included)."""
    ref = pd.read_csv(HERE / "stimulus_36pA.csv")
    rows = ref.iloc[::25]
    for L in ("s", "d"):
        for _, r in rows.iterrows():
            j = cmp.ednegs_transport(r, L)
            for k, col in (("pump_n", f"j_pump_{L}n"), ("pump_g", f"j_pump_{L}g"),
                           ("kcc2", f"j_kcc2_{L}n"), ("nkcc1", f"j_nkcc1_{L}n")):
                assert j[k] == pytest.approx(r[col], rel=2e-5, abs=1e-15), (k, L, r.t_s)
    # the soma's K+ delayed rectifier, as passive_fluxes has it, against edNEG's split; on
    # the rest run (the CSVs interpolate each column on a grid, and a product of
    # interpolated columns differs from the interpolated product during a spike)
    for _, r in pd.read_csv(HERE / "rest_300s.csv").iloc[::30].iterrows():
        e_k = cmp.nernst_e(1, r["cK_sn_mM"], r["cK_se_mM"])
        j = cmp.G["DR"] * r["gate_n"] * (r["phi_msn_mV"] - e_k) / cmp.F_E
        assert j == pytest.approx(r["jK_gDR_sn"], rel=2e-5, abs=1e-15)


def test_rest_with_channels_and_injection_off_is_a_fixed_point(cmp, rest_row):
    """With the Pinsky-Rinzel Na+ and K-DR channel agents, the neuron's leaks lowered by
    the channels' window permeability keep edNEG's rest a fixed point; the same scenario
    without that correction is not (the window currents are 0.8% / 4.4% of the leaks)."""
    _need("hh_channel")
    _need("injection")
    L, P, dens, flux, gs, cycles, cot = cmp.derive(rest_row, "flux")
    specs, P_ch, window = cmp.with_channels(L, P)
    inj, ev = cmp.injection_spec()
    scale = 3 * cycles["n"]

    def worst(Pn):
        raw = cmp.scenario_dict(L, Pn, dens, duration=30.0, extra=specs + [inj], events=ev)
        model = Model(validate(raw, "edneg-test"))
        x = model.x0.astype(float)
        # the ode's fixed point has the channels at their (non-integer) stationary
        # occupancies; x0 rounds them to whole channels (~3 K-DR channels open at rest)
        V = model.voltages(x)
        for mech in model.mechs:
            if mech.type == "hh_channel":
                mi = model.mems.index(mech.spec["membrane"])
                x[mech.states] = mech.n_agents * mech.occupancies(model, V[mi])
        dx = rhs(model, x)
        return max(abs(dx[model.idx(c, s)]) for c in ("neuron", "ecs", "glia")
                   for s in ("Na", "K", "Cl"))
    assert worst(P_ch) < 1e-4 * scale
    assert worst(P) > 1e-2 * scale
    # channel counts are edNEG's total conductance on its 616 um^2 soma (30, 15 mS/cm^2)
    n = {s["gates"]: s["density_per_um2"] * 2 * cmp.A_M_UM2 for s in specs}
    assert n == pytest.approx({"pr_na": 12320.0, "pr_kdr": 9240.0})


def test_injection_moves_ednegs_stimulus(cmp, rest_row):
    """edNEG's 36 pA stimulus as an injection moves I/e K+ per second from the ECS into
    the neuron (edNEG: dKdt_sn += I/F, dKdt_se -= I/F)."""
    _need("injection")
    L, P, dens, *_ = cmp.derive(rest_row, "flux")
    inj, _ = cmp.injection_spec()

    def dk(current):
        raw = cmp.scenario_dict(L, P, dens, extra=[dict(inj, current_pA=current)])
        model = Model(validate(raw, "edneg-test"))
        dx = rhs(model, model.x0.astype(float))
        return dx[model.idx("neuron", "K")], dx[model.idx("ecs", "K")]
    (n1, e1), (n0, e0) = dk(cmp.STIM_PA), dk(0.0)
    ions = cmp.STIM_PA * 1e-12 / 1.602176634e-19
    assert n1 - n0 == pytest.approx(ions, rel=1e-9)
    assert e1 - e0 == pytest.approx(-ions, rel=1e-9)
