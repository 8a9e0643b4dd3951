"""`ionmc export --sbml` (ionmc.export.sbml, docs/sbml.md): the SBML file, integrated by
libroadrunner, follows ionmc's own `ode` trajectory -- V within 0.01 mV, every count
within 1e-6 relative -- for resting_neuron (from a perturbed start) and pump_block (its
ouabain event translated as an SBML event); a type without a translation is refused in
one line, exit 2."""
import re
import sys

import libsbml
import numpy as np
import pytest
import roadrunner

import ionmc
from ionmc.cli import main
from ionmc.export.sbml import Names, to_sbml
from ionmc.model import Model

V_TOL_MV = 0.01
REL_TOL = 1e-6


def _roadrunner(text):
    r = roadrunner.RoadRunner(text)
    r.integrator.relative_tolerance = 1e-10
    # libroadrunner scales its absolute tolerance by the species' magnitudes: 1e-6 left
    # neuron K+ (8e10 ions) 4e3 ions from the converged solution; 1e-10 is converged
    r.integrator.absolute_tolerance = 1e-10
    r.integrator.maximum_num_steps = 100000
    return r


def _compare(name, overrides, duration):
    """(max |dV| in mV, max relative error of the ion counts, of the agent counts) of
    libroadrunner on the exported file against ionmc.simulate under ode, on its record
    times (rows at an event's time left out: ionmc records the state just before it,
    libroadrunner just after)."""
    sc = ionmc.load_scenario(name, ["scenario.method=ode", *overrides], duration=duration)
    text = to_sbml(sc)
    df, _ = ionmc.simulate(sc)
    model = Model(sc)
    names = Names(model)
    r = _roadrunner(text)
    t = df["time_s"].to_numpy()
    r.timeCourseSelections = ["time"] + [names.potential(m) for m in range(len(model.mems))] \
        + [names(i) for i in range(model.nx)]
    res = np.array(r.simulate(float(t[0]), float(t[-1]), len(t)))
    np.testing.assert_allclose(res[:, 0], t, rtol=0, atol=1e-9)
    keep = ~np.isin(t, [e["at_s"] for e in sc.data["events"]])
    nm = len(model.mems)
    dv = max(np.max(np.abs(res[keep, 1 + m] * 1e3 - df[f"{mem}.V_mV"].to_numpy()[keep]))
             for m, mem in enumerate(model.mems))
    X = res[keep, 1 + nm:]
    ion_err = 0.0
    for c in model.comps:  # the .mM columns keep full precision
        for s in model.species:
            i = model.idx(c, s)
            want = df[f"{c}.{s}.mM"].to_numpy()[keep] / model.inv_nvol[i]
            ion_err = max(ion_err, np.max(np.abs(X[:, i] - want) / np.abs(want)))
    agent_err = 0.0
    for mech in model.mechs:  # ode's count columns are rounded to whole ions: +- 0.5
        cols = [(i, f"{mech.name}.{mech.state_label(k)}.count")
                for k, i in enumerate(mech.states)]
        if mech.blocked is not None:
            cols.append((mech.blocked, f"{mech.name}.blocked.count"))
        for i, col in cols:
            want = df[col].to_numpy()[keep]
            excess = np.abs(X[:, i] - want) - 0.5
            agent_err = max(agent_err, np.max(excess / np.maximum(np.abs(want), 1.0)))
    return dv, ion_err, agent_err, res, df, keep


def test_resting_neuron_from_a_perturbed_start():
    # Na_i +20 %: the pump speeds up, V hyperpolarises and relaxes over seconds
    dv, ion_err, agent_err, res, df, _ = _compare(
        "resting_neuron", ["compartments.neuron.concentrations_mM.Na=18.0"], 30.0)
    assert np.ptp(df["soma.V_mV"]) > 0.5  # something moves
    assert dv < V_TOL_MV
    assert ion_err < REL_TOL
    assert agent_err < REL_TOL


def test_ohmic_leaks():
    ohmic = [f"mechanisms.{m}.{k}" for m in ("K_leak", "Cl_leak") for k in
             ("conduction=ohmic", "permeability_cm_per_s=0")]
    dv, ion_err, agent_err, *_ = _compare(
        "resting_neuron", ohmic + ["mechanisms.K_leak.conductance_mS_per_cm2=0.1",
                                   "mechanisms.Cl_leak.conductance_mS_per_cm2=0.05"], 5.0)
    assert dv < V_TOL_MV
    assert ion_err < REL_TOL
    assert agent_err < REL_TOL


def test_pump_block_with_its_ouabain_event():
    dv, ion_err, agent_err, res, df, keep = _compare("pump_block", [], 40.0)
    t = df["time_s"].to_numpy()[keep]
    assert np.all(df["pump.blocked.count"].to_numpy()[keep][t > 10.0] > 4e6)  # it fired
    assert dv < V_TOL_MV
    assert ion_err < REL_TOL
    assert agent_err < REL_TOL


def test_the_document_is_valid_sbml_l3v2():
    sc = ionmc.load_scenario("pump_block")
    doc = libsbml.readSBMLFromString(to_sbml(sc))
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    errors = [doc.getError(k).getMessage() for k in range(doc.getNumErrors())
              if doc.getError(k).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert not errors
    m = doc.getModel()
    assert m.getRuleByVariable("V_soma") is not None
    assert m.getNumReactions() == Model(sc).nt and m.getNumEvents() == 1
    assert all(m.getSpecies(k).getHasOnlySubstanceUnits() for k in range(m.getNumSpecies()))


def test_cli_writes_the_file(tmp_path, capsys):
    out = tmp_path / "rest.xml"
    assert main(["export", "resting_neuron", "--sbml", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert libsbml.readSBMLFromFile(str(out)).getModel().getNumSpecies() == 22


@pytest.mark.parametrize("name, mech, type_", [("squid_axon", "NaV", "hh_channel"),
                                               ("anoxia", "metab", "metabolism")])
def test_a_type_without_translation_is_refused_in_one_line(tmp_path, capsys, name, mech,
                                                           type_):
    out = tmp_path / "x.xml"
    assert main(["export", name, "--sbml", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert re.search(rf"{name}\.toml: mechanism '{mech}' \(type {type_}\) has no SBML "
                     "translation$", err[0]), err[0]
    assert not out.exists()


def test_an_event_it_cannot_express_is_refused(tmp_path, capsys):
    # unblocking returns pumps in the cycle's steady state at the event: no SBML form
    src = tmp_path / "unblock.toml"
    text = ionmc.load_scenario("pump_block").source
    src.write_text(open(text).read() + '\n[[events]]\nat_s = 20.0\n'
                   'set = { "mechanisms.pump.block_fraction" = 0.0 }\n')
    assert main(["export", str(src), "--sbml", str(tmp_path / "x.xml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "event at 20 s sets mechanisms.pump.block_fraction" in err[0]


def test_without_libsbml_one_line_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "libsbml", None)  # import libsbml -> ImportError
    assert main(["export", "resting_neuron", "--sbml", str(tmp_path / "x.xml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'ionmc[sbml]'" in err[0]
