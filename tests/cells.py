"""The scenarios the tests and the verification suite share, built with builder.Builder,
and the closed-form readers that go with them. Most return a Builder (`.build()` validates
it); those with `build=True` return the validated scenario."""
import copy
import math

import numpy as np

from ionmc.constants import F, R
from ionmc.mechanisms import buffer
from ionmc.mechanisms.cotransporter import PRESETS, equilibrium_ratio
from ionmc.scenario import load_scenario, validate
from ionmc.thermo.closed_forms import donnan_potential, donnan_ratio, ghk_voltage

from builder import Builder
from conftest import make, run_df

T = 310.0


def water_cell(method="ode", duration=1.0, dt=0.1, seed=1, replicates=1, vol=0.05,
               vol_out=10.0, area=0.25, y=0.0, bath=True, pf=100.0,
               leaks=(("K", 5e-6), ("Na", 1e-6), ("Cl", 2e-6)), cl=9.0, block_at=None,
               clamped=None):
    """A cell with leaks behind a water-permeable membrane (V/A = 0.2 um), in a bath or a
    finite outside; Y: a neutral impermeant osmolyte outside. Pumpless, or with
    pump_block's pumps blocked at `block_at` s (a Builder)."""
    b = (Builder("water_cell", duration, dt, method, seed, replicates=replicates)
         .species(Na=1, K=1, Cl=-1).impermeant(X=-1, Y=0)
         .compartment("cell", vol, clamped=clamped, Na=15.0, K=140.0, Cl=cl)
         .compartment("out", vol_out, bath=bath, Na=145.0, K=5.0, Cl=120.0, Y=y)
         .membrane("pm", "cell", "out", area, V0=-70.0, water_permeability_um_per_s=pf)
         .leaks(*leaks))
    if block_at is not None:
        b.pump(density_per_um2=140237.92977811332, dG_ATP_kJ_per_mol=-57.0) \
            .event(block_at, **{"mechanisms.pump.block_fraction": 1.0})
    return b


def small_cell(method="ssa", duration=0.4, seed=4, dt=0.01, clamped=None, bath=True,
               clamp=None, leaks=(("K", 5e-6), ("Na", 1e-6), ("Cl", 2e-6))):
    """A 0.01 um^3 cell behind a 0.05 um^2 membrane in a 10 um^3 outside (a bath unless
    bath=False) with leaks: the ledger tests' small system (a Builder: add to it)."""
    return (Builder("small_cell", duration, dt, method, seed)
            .species(Na=1, K=1, Cl=-1).impermeant(X=-1)
            .compartment("cell", 0.01, Na=15.0, K=140.0, Cl=9.0, clamped=clamped)
            .compartment("bath", 10.0, Na=145.0, K=5.0, Cl=120.0, bath=bath)
            .membrane("pm", "cell", "bath", 0.05, V0=-70.0, clamp=clamp)
            .leaks(*leaks))


def pump_cell(method="ssa", nai=15.0, ki=140.0, nao=145.0, ko=5.0, V_mV=-70.0, dg=-57.0,
              density=1000.0, duration=2.0, dt=0.1, seed=1):
    """Pumps alone on a 1 um^2 voltage-clamped membrane, Na+ and K+ fixed on both sides
    (clamped inside, a bath outside): the pump tests' system (a Builder: add to it)."""
    return (Builder("pump_clamp", duration, dt, method, seed)
            .species(Na=1, K=1).impermeant(X=-1)
            .compartment("cell", 1.0, Na=nai, K=ki, clamped=["Na", "K"])
            .compartment("bath", 100.0, Na=nao, K=ko, bath=True)
            .membrane("pm", "cell", "bath", 1.0, clamp=V_mV)
            .pump(density_per_um2=density, dG_ATP_kJ_per_mol=dg))


T_HH = 279.45  # Hodgkin & Huxley's 6.3 C


def hh_clamp(method="ssa", V=-40.0, dur=12.0, dt=0.03, dna=10.0, dk=10.0, p=0.0, seed=1,
             vol=200.0, events=(), agents=None, dwell=None):
    """Na+ and K+ channels of HH 1952 at 6.3 C (densities dna, dk per um^2, single-channel
    permeability p um^3/s) on 100 um^2 clamped at V mV, a bath outside (a Builder);
    `agents`, `dwell`: both populations' agents mode and dwell-time recording."""
    b = (Builder("clamp", dur, dt, method, seed, temperature_K=T_HH)
         .species(Na=1, K=1).impermeant(X=-1)
         .compartment("cell", vol, Na=50.0, K=400.0)
         .compartment("bath", 1000.0, Na=440.0, K=20.0, bath=True)
         .membrane("m", "cell", "bath", 100.0, clamp=V)
         .mechanism("hh_channel", "na", membrane="m", gates="hh_na", density_per_um2=dna,
                    single_channel_permeability_um3_per_s=p)
         .mechanism("hh_channel", "k", membrane="m", gates="hh_k", density_per_um2=dk,
                    single_channel_permeability_um3_per_s=p)
         .events(*events))
    for name in ("na", "k"):
        if agents is not None:
            b.configure(name, agents=agents)
        if dwell is not None:
            b.configure(name, record_dwell_times=dwell)
    return b


def hh_agents(V=-40.0, dur=1.0, dt=0.25, dna=0.5, dk=0.5, p=0.0, seed=1, agents="individual",
              dwell=False, events=()):
    """hh_clamp with both channel populations in `agents` mode (individual by default),
    dwell times recorded or not."""
    return hh_clamp(V=V, dur=dur, dt=dt, dna=dna, dk=dk, p=p, seed=seed, events=events,
                    agents=agents, dwell=dwell)


def state_columns(sc, name):
    """The count columns of mechanism `name`'s states, in state order."""
    from ionmc.model import Model

    mech = next(m for m in Model(sc).mechs if m.name == name)
    return [f"{name}.{mech.state_label(k)}.count" for k in range(len(mech.states))]


def BUFFER(k_on, K_d, name="calbindin", compartment="spine"):
    return dict(type="buffer", name=name, compartment=compartment, k_on_per_M_per_s=k_on,
                K_d_uM=K_d)


def CA_LEAK(P):
    return dict(type="leak", name="Ca_leak", membrane="pm", species="Ca",
                permeability_cm_per_s=P)


def PMCA(density, dG):
    return dict(type="cotransporter", name="pmca", membrane="pm", preset="PMCA",
                density_per_um2=density, dG_ATP_kJ_per_mol=dG)


def NCX(density):
    return dict(type="cotransporter", name="ncx", membrane="pm", preset="NCX",
                K_m_out_mM={"Ca": 1.3}, density_per_um2=density)


CA_POOL = dict(type="metabolism", name="mito", membrane="pm", oxphos_Vmax_mM_per_s=0.0,
            O2_supply_mM=0.0)


def calcium_cell(mechs, method="ssa", duration=1.0, dt=0.01, seed=1, vol=0.1, area=1.0,
                 ca=1e-4, b=0.04, cab=0.0, ca_o=1.2, vol_out=10.0, bath=True, clamp=None,
                 clamped=("Na",), pool=None, ecs=None, events=(), build=True):
    """A spine-like compartment (Na clamped by default) behind one membrane, with the given
    mechanism tables; `pool`: (ATP, ADP, Pi) mM for a metabolic pool without supply; `ecs`:
    more concentrations (mM) outside."""
    bld = Builder("ca_test", duration, dt, method, seed).species(Na=1, Ca=2) \
        .impermeant(B=0, CaB=2, X=-1)
    spine = dict(Na=15.0, Ca=ca, B=b, CaB=cab)
    if pool is not None:
        bld.impermeant(ATP=0, ADP=0, Pi=0, O2=0)
        spine.update(ATP=pool[0], ADP=pool[1], Pi=pool[2], O2=0.0)
        mechs = list(mechs) + [CA_POOL]
    bld.compartment("spine", vol, clamped=clamped, **spine) \
        .compartment("ecs", vol_out, bath=bath, Na=145.0, Ca=ca_o, **(ecs or {})) \
        .membrane("pm", "spine", "ecs", area, V0=-70.0, clamp=clamp).events(*events)
    for m in mechs:
        bld.mechanism(**m)
    return bld.build() if build else bld


def decay_cell(method, load_uM, vol=0.1, k_on=8e7, gamma=100.0, **kw):
    """A linear Ca extrusion of rate constant gamma (a leak to a bath at the resting
    Ca, at 0 mV) and a 50 uM buffer with K_d 0.4 uM; resting Ca 0.1 uM, buffer at
    equilibrium with it; a load of `load_uM` free Ca added at t = 0 with kappa_B times it
    bound (on the buffer's equilibrium line)."""
    rest, K_d, b_tot = 0.1, 0.4, 50.0
    kappa = buffer.buffering_capacity(b_tot, K_d, rest)
    cab = b_tot * rest / (K_d + rest) + kappa * load_uM
    area = 10.0 * vol
    P = gamma * vol * 1e-18 / (area * 1e-12) * 100.0  # cm/s: gamma = P A / vol at 0 mV
    mechs = [BUFFER(k_on=k_on, K_d=K_d), CA_LEAK(P=P)]
    sc = calcium_cell(mechs, method=method, vol=vol, area=area, ca=(rest + load_uM) * 1e-3,
              b=(b_tot - cab) * 1e-3, cab=cab * 1e-3, ca_o=rest * 1e-3, vol_out=1e4 * vol,
              clamp=0.0, **kw)
    return sc, (1.0 + kappa) / gamma, rest


def pmca_stall(V_mV, dG_kJ):
    """Ca_o/Ca_i at which PMCA stalls: exp((-dG_ATP + 2 F V)/RT)."""
    return math.exp((-dG_kJ * 1e3 + 2 * F * V_mV * 1e-3) / (R * T))


def ghk_mV(df, sc, cell, comp_out):
    P = {m["species"]: (m["permeability_cm_per_s"], sc["species"][m["species"]]["charge"])
         for m in sc["mechanisms"] if m["type"] == "leak"}
    out = []
    for _, r in df.iterrows():
        cin = {s: r[f"{cell}.{s}.mM"] for s in P}
        cout = {s: r[f"{comp_out}.{s}.mM"] for s in P}
        out.append(ghk_voltage(P, cin, cout, T) * 1e3)
    return np.array(out)


def donnan_check(df, window, tol_ratio=0.02, tol_mV=1.0):
    tail = df[df["time_s"] >= window]
    A = tail["cell.X.mM"].mean()
    r = donnan_ratio(A, 150.0, 150.0)
    assert math.isclose(tail["cell.Na.mM"].mean() / 145.0, r, rel_tol=tol_ratio)
    assert math.isclose(tail["cell.K.mM"].mean() / 5.0, r, rel_tol=tol_ratio)
    assert math.isclose(150.0 / tail["cell.Cl.mM"].mean(), r, rel_tol=tol_ratio)
    assert abs(tail["pm.V_mV"].mean() - donnan_potential(r, T) * 1e3) < tol_mV
    return r


def ussing(method, V):
    """Na+ leaking between fixed concentrations (15 mM clamped inside, a bath of 145 mM)
    across a membrane clamped at V mV."""
    return (Builder("ussing", 2.0, 0.5, method, seed=5)
            .species(Na=1).impermeant(X=-1)
            .compartment("cell", 1.0, Na=15.0, clamped=["Na"])
            .compartment("bath", 100.0, Na=145.0, bath=True)
            .membrane("pm", "cell", "bath", 1.0, clamp=V)
            .leak("Na", 1e-6).build())


def pulsed(stim, method="ode", factor=1.0, seed=None):
    """action_potential with its 0.5 ms Na+ pulse at permeability `stim` (cm/s)."""
    sc = make("action_potential", factor=factor, method=method,
              events=[(0.002, {"mechanisms.stimulus.permeability_cm_per_s": stim}),
                      (0.0025, {"mechanisms.stimulus.permeability_cm_per_s": 0.0})],
              seed=seed)
    return sc


NA = (15.0, 145.0)  # mM inside, outside


CL = (10.0, 110.0)


CHARGES = {"Na": 1, "K": 1, "Cl": -1, "Ca": 2, "GABA": 0, "glucose": 0}


COTRANSPORTER_CASES = {"GAT1": ("GABA", 1e-4, 1e5), "SGLT1": ("glucose", 1e-4, 1e5),
         "SGLT2": ("glucose", 1e-2, 1e5)}


def cotransporter_limit(preset, V_mV):
    st = PRESETS[preset]["stoichiometry"]
    cargo = COTRANSPORTER_CASES[preset][0]
    return equilibrium_ratio(st, cargo, {"Na": NA[0], "Cl": CL[0]}, {"Na": NA[1], "Cl": CL[1]},
                             CHARGES, V_mV * 1e-3, T)


def cotransporter_clamped(preset, V=-70.0, method="ode", c_in=0.0, duration=1000.0, dt=50.0,
                          volume=0.1, seed=1, density=None):
    """A cell with Na+ and Cl- clamped, clamped at V mV, in a bath holding the preset's
    cargo, the transporter alone on its 1 um^2 membrane."""
    cargo, c_out, dens = COTRANSPORTER_CASES[preset]
    sc = (Builder("cotransporter_clamp", duration, dt, method, seed)
          .species(Na=1, K=1, Cl=-1, GABA=0, glucose=0).impermeant(X=-1)
          .compartment("cell", volume, clamped=["Na", "Cl"],
                       **{"Na": 15.0, "K": 140.0, "Cl": 10.0, cargo: c_in})
          .compartment("bath", 10.0, bath=True,
                       **{"Na": 145.0, "K": 5.0, "Cl": 110.0, cargo: c_out})
          .membrane("pm", "cell", "bath", 1.0, V0=V, clamp=V)
          .mechanism("cotransporter", "tr", preset=preset, membrane="pm",
                     density_per_um2=density or dens).build())
    df = run_df(sc)
    # the bath holds a whole number of molecules: divide by its actual concentration
    return df, df[f"cell.{cargo}.mM"] / df[f"bath.{cargo}.mM"], cargo


def two_boxes(method="ssa", duration=0.05, dt=0.01, va=1e-4, vb=2e-4, area=1e-5):
    """Two boxes of K+ (10 and 1 mM) joined by a coupling, no membrane (a Builder)."""
    return (Builder("two_boxes", duration, dt, method, seed=3)
            .species(K=1).impermeant(A=-1)
            .compartment("a", va, balance="A", K=10.0)
            .compartment("b", vb, balance="A", K=1.0)
            .mechanism("coupling", "gap", compartments=["a", "b"], species="K",
                       area_um2=area, length_um=1.0))


def clamped_boxes(method, va_mV, vb_mV, **kw):
    """The two boxes as two cells at fixed (clamped) potentials in one bath, joined only by
    the coupling."""
    return (two_boxes(method=method, **kw)
            .compartment("bath", 10.0, balance="A", bath=True, K=5.0)
            .membrane("ma", "a", "bath", 0.01, clamp=va_mV)
            .membrane("mb", "b", "bath", 0.01, clamp=vb_mV))


def astro(method, duration, dt):
    return load_scenario("astrocyte_buffering", [("scenario.method", method),
                                                 ("scenario.record_interval_s", dt)],
                         duration=duration)


C_ISO = 1e-2 * 500e-12  # F


def isolated(method="ssa", I=1e-3, frm="electrode", species="K", duration=0.2, dt=0.001,
             seed=3, bath=False, extra=None, events=(), build=True):
    """An isolated cell: no leak, nothing but the injection; C = 1 uF/cm^2 x 500 um^2 =
    5 pF."""
    b = (Builder("isolated", duration, dt, method, seed)
         .species(K=1, Cl=-1).impermeant(X=-1)
         .compartment("cell", 1000.0, K=140.0, Cl=10.0)
         .compartment("ecs", 250.0, bath=bath, K=10.0, Cl=5.0)
         .membrane("pm", "cell", "ecs", 500.0, V0=-70.0)
         .mechanism("injection", "stim", species=species, compartment="cell",
                    **{"from": frm}, current_pA=I, **(extra or {}))
         .events(*events))
    return b.build() if build else b


def pump_agents(cell, agents="individual", dwell=False):
    """pump_cell with the pump's agents mode."""
    return cell.configure("pump", agents=agents, record_dwell_times=dwell)


def free_pump_cell(agents, seed):
    """20 pumps on a 0.05 um^2 membrane with weak leaks, V free: the pumps interact through
    V (0.32 mV per charge) and the cell's Na+."""
    return small_cell(duration=1.0, dt=0.5, seed=seed,
                      leaks=(("K", 5e-7), ("Na", 1e-7), ("Cl", 2e-7))) \
        .pump(density_per_um2=400.0, agents=agents).build()


def injected_neuron(method, I, factor, block=0.0, duration=1.0):
    """resting_neuron shrunk by `factor` (volumes and areas): I pA x factor of K+ from the
    ECS into the neuron (edNEG's stimulus is ECS -> soma); `block` the pump's
    block_fraction."""
    sc = make("resting_neuron", factor=factor, method=method, duration=duration, dt=0.05,
              sets=[("mechanisms.pump.block_fraction", block)])
    data = copy.deepcopy(sc.data)
    data["mechanisms"].append({"type": "injection", "name": "stim", "species": "K",
                               "compartment": "neuron", "from": "ecs",
                               "current_pA": I * factor})
    return validate(data, sc.source)


#: the built-in gate families (mechanisms/channels.py) written as scenario expressions: rates
#: in 1/ms at V in mV, x/(1 - exp(-x/k)) as k/exprel(-x/k); (power, alpha, beta) per gate
FAMILY_EXPRESSIONS = {
    "hh_na": {"m": (3, "1 / exprel(-(V + 40) / 10)", "4 * exp(-(V + 65) / 18)"),
              "h": (1, "0.07 * exp(-(V + 65) / 20)", "1 / (1 + exp(-(V + 35) / 10))")},
    "hh_k": {"n": (4, "0.1 / exprel(-(V + 55) / 10)", "0.125 * exp(-(V + 65) / 80)")},
    "pr_na": {"m": (2, "1.28 / exprel(-(V + 46.9) / 4)", "1.4 / exprel((V + 19.9) / 5)"),
              "h": (1, "0.128 * exp((-43 - V) / 18)", "4 / (1 + exp(-(V + 20) / 5))")},
    "pr_kdr": {"n": (1, "0.08 / exprel(-(V + 24.9) / 5)", "0.25 * exp(-(V + 40) / 40)")},
}


def as_user_channels(sc):
    """The scenario with every `hh_channel` written as a user `channel` with its family's
    expressions, temperature factor and conduction: the same model."""
    from ionmc.mechanisms import channels

    data = copy.deepcopy(sc.data)
    for m in data["mechanisms"]:
        if m["type"] != "hh_channel":
            continue
        fam = FAMILY_EXPRESSIONS[m["gates"]]
        keep = {k: v for k, v in m.items() if k not in ("type", "gates", "q10_gating")}
        gates = {g: {"power": p, "alpha": a, "beta": b} for g, (p, a, b) in fam.items()}
        ref_C = channels.FAMILIES[m["gates"]][1] - 273.15
        q10g = m["q10_gating"]
        m.clear()
        m.update(type="channel", gates=gates, q10_gating=q10g, gating_reference_C=ref_C, **keep)
    return validate(data, f"{sc.source} with user channels")


def sr_cell(method="ssa", duration=0.02, dt=0.005, V_sr=5.0, seed=1):
    """A small cell with an SR: K+ and Ca2+ leaks on the SR membrane only."""
    return (Builder("sr_cell", duration, dt, method=method, seed=seed)
            .species(Na=1, K=1, Cl=-1, Ca=2).impermeant(X=-1)
            .compartment("ecs", 0.5, Na=145.0, K=5.0, Cl=120.0, Ca=2.0)
            .compartment("cyto", 0.05, Na=15.0, K=140.0, Cl=10.0, Ca=1e-4)
            .compartment("sr", 0.005, K=140.0, Cl=10.0, Ca=1.0)
            .membrane("pm", "cyto", "ecs", 1.0, V0=-70.0)
            .membrane("srm", "sr", "cyto", 0.5, V0=V_sr)
            .leak("Ca", 1e-6, membrane="srm")
            .leak("K", 1e-6, membrane="srm"))


def two_layers(method="ode", duration=0.02, dt=0.0005, seed=1, vol=1.0, c_ground_pF=1e-3,
               stim_pA=20.0, ecs_area_fraction=0.1):
    """Two layers, each an extracellular space with a cell in it, joined by axial couplings
    inside the cells and through the extracellular spaces; each extracellular space has a
    capacitance to ground (a membrane to "ground"), so it has a potential of its own. K+ is
    moved from the first layer's extracellular space into its cell (edNEG's stimulus),
    which drives current along the cells and back through the extracellular spaces.
    `vol` scales every volume (um^3 of a cell) and area; the extracellular coupling's
    cross-section is `ecs_area_fraction` of the cells'."""
    area = 2.0 * vol ** (2.0 / 3.0)
    ground = c_ground_pF * 100.0  # um^2 at 1 uF/cm^2 (1e-14 F/um^2)
    b = (Builder("two_layers", duration, dt, method=method, seed=seed)
         .species(Na=1, K=1, Cl=-1).impermeant(X=-1))
    for L in "ab":
        (b.compartment(f"ecs_{L}", 0.5 * vol, Na=145.0, K=4.0, Cl=130.0)
          .compartment(f"cell_{L}", vol, Na=12.0, K=140.0, Cl=8.0)
          .membrane(f"ground_{L}", f"ecs_{L}", "ground", ground, V0=0.0,
                    capacitance_uF_per_cm2=1.0)
          .membrane(f"pm_{L}", f"cell_{L}", f"ecs_{L}", area, V0=-70.0)
          .leak("K", 2e-6, membrane=f"pm_{L}", name=f"K_leak_{L}")
          .leak("Na", 1e-7, membrane=f"pm_{L}", name=f"Na_leak_{L}"))
    for where, frac in (("cell", 1.0), ("ecs", ecs_area_fraction)):
        b.mechanism("coupling", f"axial_{where}", compartments=[f"{where}_a", f"{where}_b"],
                    species=["Na", "K", "Cl"], area_um2=frac * area, length_um=20.0,
                    q10=1.0)
    return b.mechanism("injection", "stim", species="K", compartment="cell_a",
                       current_pA=stim_pA, **{"from": "ecs_a"})
