"""Nested compartments (an SR inside the cytosol): validation, and the potentials as
DESIGN defines them -- V_m is the charge enclosed by membrane m (its inside and what is
nested in it) over C_m, and a compartment's potential is the sum of the V_m enclosing it."""
import numpy as np
import pytest

from cells import sr_cell
from ionmc.constants import E_CHARGE
from ionmc.errors import InputError
from ionmc.model import Model


def test_each_membrane_encloses_its_inside_and_what_is_nested_in_it():
    m = Model(sr_cell().build())
    x = m.x0
    cyto, sr = (slice(m.comps.index(c) * m.ns, (m.comps.index(c) + 1) * m.ns)
                for c in ("cyto", "sr"))
    q_sr = x[sr] @ m.charge
    q_cell = x[cyto] @ m.charge + q_sr
    V = m.voltages(x)
    pm, srm = m.mems.index("pm"), m.mems.index("srm")
    assert V[pm] == pytest.approx(E_CHARGE * q_cell / m.mem_C[pm], abs=1e-15)
    assert V[srm] == pytest.approx(E_CHARGE * q_sr / m.mem_C[srm], abs=1e-15)
    # both initial potentials met by the balancing species, the SR's first: within the
    # potential of one balancing ion
    for mi, target in ((pm, -70e-3), (srm, 5e-3)):
        assert abs(V[mi] - target) <= E_CHARGE / m.mem_C[mi]
    # a Ca2+ crossing the SR membrane charges it and leaves the cell's charge as it is
    j = next(j for j in range(m.nt) if m.tr_mem[j] == srm)
    assert m.tr_qm[j, pm] == 0.0 and abs(m.tr_qm[j, srm]) == 2.0


def test_a_pump_on_an_inner_membrane_holds_its_charge_inside_the_outer_one_too():
    m = Model(sr_cell().atpase(membrane="srm", density_per_um2=100.0).build())
    pm, srm = m.mems.index("pm"), m.mems.index("srm")
    qx = m.mem_qx.toarray()
    held = qx[srm, m.nion:]
    assert held.any() and np.array_equal(qx[pm, m.nion:], held)


def _fails(builder, key, words):
    with pytest.raises(InputError) as e:
        builder.build()
    msg = str(e.value)
    assert key in msg and all(w in msg for w in words), msg
    assert "\n" not in msg


def test_membranes_that_enclose_one_another_in_a_ring_are_refused():
    b = sr_cell()
    b._d["membranes"]["pm"]["outside"] = "sr"  # cyto in sr in cyto
    b._d["membranes"]["srm"]["outside"] = "cyto"
    _fails(b, "membranes.", ["ring"])


def test_a_nested_compartment_can_be_neither_bath_nor_clamp_species():
    b = sr_cell()
    b._d["compartments"]["sr"]["clamped_species"] = ["Ca"]
    _fails(b, "compartments.sr.clamped_species", ["nested"])
    b = sr_cell()
    b._d["compartments"]["sr"]["bath"] = True
    _fails(b, "compartments.sr.bath", ["nested"])


def test_a_coupling_or_injection_reads_the_membranes_between_its_sides():
    """Their potential difference sums the V of the membranes enclosing one side and not
    the other (base.potential_path): cytosol -> SR crosses the SR membrane only; an SR
    reached from the electrode sums both membranes."""
    from ionmc.mechanisms.base import MAX_PATH
    from ionmc.mechanisms.coupling import I_PDST, I_PSRC
    from ionmc.mechanisms.injection import I_PA, I_PB

    m = Model(sr_cell().mechanism("coupling", "diff", compartments=["cyto", "sr"],
                                  species=["K"], area_um2=1.0, permeability_cm_per_s=1e-6)
              .mechanism("injection", "inj", compartment="sr", species="K",
                         ions_per_s=100.0, **{"from": "electrode"}).build())
    pm, srm = m.mems.index("pm"), m.mems.index("srm")

    def path(j, first):
        return [int(k) for k in m.tr_ii[j, first:first + MAX_PATH] if k >= 0]
    diff, inj = (next(x for x in m.mechs if x.name == n) for n in ("diff", "inj"))
    j = diff.transitions[0]  # cyto -> sr
    assert (path(j, I_PSRC), path(j, I_PDST)) == ([], [srm])
    j = inj.transitions[0]  # electrode -> sr
    assert (path(j, I_PB), path(j, I_PA)) == ([srm, pm], [])


def test_a_path_longer_than_an_index_row_is_refused():
    from ionmc.mechanisms.base import MAX_PATH

    b = sr_cell()
    outer = "sr"
    for k in range(MAX_PATH):  # MAX_PATH more membranes, each inside the last
        b.compartment(f"v{k}", 0.001, K=140.0, Cl=10.0).membrane(f"vm{k}", f"v{k}", outer, 0.01,
                                                                  V0=0.0)
        outer = f"v{k}"
    b.mechanism("coupling", "far", compartments=[outer, "ecs"], species=["K"], area_um2=1.0,
                permeability_cm_per_s=1e-6)
    _fails(b, "mechanisms.far.compartments", ["more than", "membranes"])


def test_a_membrane_to_ground_is_a_capacitance_and_nothing_else():
    from builder import Builder

    def cell():
        return (Builder("g", 0.01, 0.01).species(K=1, Cl=-1).impermeant(X=-1)
                .compartment("ecs", 1.0, K=125.0, Cl=120.0)
                .compartment("cell", 1.0, K=140.0, Cl=10.0)
                .membrane("pm", "cell", "ecs", 2.0, V0=-70.0)
                .membrane("field", "ecs", "ground", 0.1, V0=0.0))
    m = Model(cell().build())
    V = m.voltages(m.x0)
    # its charge is the layer's: the extracellular space's and the cell's in it
    f = m.mems.index("field")
    assert abs(V[f]) <= E_CHARGE / m.mem_C[f] and set(m.mem_comps[f]) == {0, 1}
    _fails(cell().leak("K", 1e-6, membrane="field"), "mechanisms.K_leak.membrane",
           ["capacitance to 'ground'", "no mechanisms"])
    b = cell()
    b._d["membranes"]["field"]["water_permeability_um_per_s"] = 1.0
    _fails(b, "membranes.field.water_permeability_um_per_s", ["ground"])
    b = cell()
    b._d["membranes"]["pm"]["outside"] = "earth"
    _fails(b, "membranes.pm.outside", ["unknown compartment 'earth'", "'ground'"])
    b = cell().compartment("ground", 1.0, K=5.0, Cl=5.0)
    _fails(b, "compartments.ground", ["potential reference"])
    b = cell()
    b._d["compartments"]["ecs"]["clamped_species"] = ["K"]
    _fails(b, "compartments.ecs.clamped_species", ["capacitance to ground", "bath"])


def test_energetics_puts_an_injection_on_the_membranes_it_crosses():
    """edNEG's stimulus moves K+ from an extracellular space into its cell: a current into
    the cell's membrane, none across the extracellular space's capacitance to ground, which
    encloses both sides."""
    from cells import two_layers
    from ionmc.thermo.energetics import energetics

    e = energetics(two_layers(stim_pA=20.0).build())["membranes"]
    assert e["pm_a"]["injected_current_pA"] == pytest.approx(20.0)
    assert "injected_current_pA" not in e["ground_a"]
    assert "injected_current_pA" not in e["pm_b"]


def test_the_budget_of_a_membrane_with_an_empty_side_leaves_out_the_pump_cycle():
    """An SR holds no Na+: the pump cycle's dG across its membrane is undefined, as a
    Nernst potential with a side empty is (`ionmc report` of the myocyte divided by 0)."""
    from ionmc.thermo.energetics import membrane_budget

    m = Model(sr_cell().build())
    b = membrane_budget(m, m.mems.index("srm"), m.x0.astype(float))
    assert "pump_cycle_dG_kJ_per_mol" not in b and "Na" not in b["nernst_mV"]
    assert "pump_cycle_dG_kJ_per_mol" in membrane_budget(m, m.mems.index("pm"),
                                                         m.x0.astype(float))
