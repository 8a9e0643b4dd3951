"""A finite, physical result or a failure that says where.

The inputs that used to exit 0 with impossible numbers in the Parquet, hang the SSA, or
fail as a "simulation error" with a traceback's last line now exit 2 with one line naming
the key and its physical range, before anything is written. A rate that still overflows
(here forced past validation) stops every method with one line naming the mechanism and
the time -- never a loop."""
import numpy as np
import pytest

from ionmc.cli import main
from ionmc.engine.checks import SimulationError
from ionmc.engine.methods import REGISTRY
from ionmc.engine.paired import PairedSSA
from ionmc.model import Model
from ionmc.scenario import load_scenario


# (scenario, extra CLI arguments, the key the one line must name): the unit slips and
# magnitudes of the hostile-user report
BAD = [
    ("spine_noise", ["--set", "membranes.head.clamp_mV=-70000.0"], "membranes.head.clamp_mV"),
    ("spine_noise", ["--set", "membranes.head.clamp_mV=1e9"], "membranes.head.clamp_mV"),
    ("spine_noise", ["--set", "mechanisms.K_leak.permeability_cm_per_s=1e300"],
     "mechanisms.K_leak.permeability_cm_per_s"),
    ("resting_neuron", ["--set", "mechanisms.pump.density_per_um2=1.4e6"],
     "mechanisms.pump.density_per_um2"),
    ("firing_neuron", ["--set", "mechanisms.pump.K_Ki_mM=1e-300"], "mechanisms.pump.K_Ki_mM"),
    ("kidney_sglt", ["--set", "mechanisms.SGLT2.density_per_um2=1e300"],
     "mechanisms.SGLT2.density_per_um2"),
    ("spine_noise", ["--set", "compartments.spine.volume_um3=1e15"],
     "compartments.spine.volume_um3"),
    ("spine_noise", ["--set", "compartments.spine.concentrations_mM.Na=1e20"],
     "compartments.spine.concentrations_mM.Na"),
    ("spine_noise", ["--set", "membranes.head.capacitance_uF_per_cm2=1e30"],
     "membranes.head.capacitance_uF_per_cm2"),
    ("spine_noise", ["--set", "species.Na.charge=1000000000000000000"], "species.Na.charge"),
    ("spine_noise", ["--set", "scenario.temperature_K=1e6"], "scenario.temperature_K"),
    ("spine_noise", ["--set", "scenario.temperature_K=1e-300"], "scenario.temperature_K"),
    ("spine_noise", ["--set", "scenario.record_interval_s=1e-300"],
     "scenario.record_interval_s"),
    ("spine_noise", ["--duration", "1e300"], "--duration"),
    ("spine_noise", ["--duration", "inf"], "--duration"),
    ("spine_noise", ["--set", "scenario.seed=1 # a comment"], "scenario.seed"),
    # found by the fuzz suite: a 1 cm2 membrane around a 1000 um3 cell, and a spine under
    # ssa with 1e14 events to fire
    ("pump_block", ["--set", "membranes.soma.area_um2=1e10"], "membranes.soma.area_um2"),
    ("spine_noise", ["--method", "ssa", "--duration", "1", "--set",
                     "membranes.head.area_um2=300"],
     "scenario.method"),
]


@pytest.mark.parametrize("scenario,extra,key", BAD, ids=[b[2] + "=" + b[1][-1] for b in BAD])
def test_out_of_range_input_exits_2_naming_key_and_range_and_writes_nothing(
        tmp_path, capsys, scenario, extra, key):
    out = tmp_path / "out"
    code = main(["run", scenario, "-o", str(out), "--duration", "0.01", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and key in err[0], err
    assert not out.exists()


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a.b", "Na+"])
def test_names_must_be_identifier_like(tmp_path, name):
    from builder import Builder
    from ionmc.errors import InputError

    b = Builder("n", duration=0.01, dt=0.01).species(Na=1).compartment(name, 1.0, balance=None,
                                                                       Na=10.0)
    with pytest.raises(InputError, match="identifier-like"):
        b.build()


def _overflowing(method):
    """spine_noise with its K+ leak's rate forced to inf after validation (what a rate law
    overflowing at run time looks like to the kernels)."""
    model = Model(load_scenario("spine_noise"))
    mech = next(m for m in model.mechs if m.name == "K_leak")
    model.tr_p[mech.transitions, 0] = np.inf
    rng = np.random.default_rng(1)
    if method == "paired ssa":
        return PairedSSA(model, model.x0, rng, 7)
    return REGISTRY[method](model, model.x0, rng)


@pytest.mark.parametrize("method", ["ssa", "paired ssa", "tau-leap", "ode"])
def test_an_overflowing_rate_stops_every_method_naming_mechanism_and_time(method):
    m = _overflowing(method)
    with pytest.raises(SimulationError, match=r"K_leak.*t = ") as e:
        m.advance(np.array([0.001, 0.002]))
    assert "\n" not in str(e.value)


def test_an_option_on_a_file_without_its_table_blames_the_file_not_set(tmp_path, capsys):
    """Found by the structural fuzz: a file without [scenario] run with --method was
    refused as "--set: scenario.method: unknown table", naming an option never given."""
    import tomllib

    import tomli_w

    from ionmc.scenario import builtin_dir

    d = tomllib.loads((builtin_dir() / "spine_noise.toml").read_text())
    del d["scenario"]
    f = tmp_path / "noscenario.toml"
    f.write_text(tomli_w.dumps(d))
    out = tmp_path / "out"
    code = main(["run", str(f), "-o", str(out), "--method", "ode"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(f) in err[0] and "scenario." in err[0] and "--set" not in err[0], err
    assert not out.exists()
