"""Every bad input gets one clear line naming the file and key, exit 2, nothing written."""
import re

import pytest

from ionmc.cli import main
from ionmc.scenario import builtin_dir

GOOD = (builtin_dir() / "resting_neuron.toml").read_text()


def run_cli(tmp_path, text=None, args=(), name="bad.toml", capsys=None):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    out = tmp_path / "out"
    code = main(["run", str(path), "-o", str(out), "--duration", "0.01", *args])
    return code, out


CASES = [
    ("unknown key", GOOD.replace("seed = 1", "seed = 1\ncolour = 3"), "scenario.colour"),
    ("unknown species", GOOD.replace("Na = 15.0, K", "Nq = 15.0, K"), "concentrations_mM.Nq"),
    ("unknown membrane", GOOD.replace('membrane = "soma"\nspecies = "K"',
                                      'membrane = "somma"\nspecies = "K"'), "membrane"),
    ("unknown compartment", GOOD.replace('inside = "neuron"', 'inside = "neurone"'), "inside"),
    ("unknown mechanism type", GOOD.replace('type = "leak"', 'type = "leek"', 1), "type"),
    ("unknown method", GOOD.replace('method = "tau-leap"', 'method = "euler"'),
     "scenario.method"),
    ("negative volume", GOOD.replace("volume_um3 = 1000.0", "volume_um3 = -1000.0"),
     "volume_um3"),
    ("zero area", GOOD.replace("area_um2 = 500.0", "area_um2 = 0.0"), "area_um2"),
    ("species without charge", GOOD.replace("Cl = { charge = -1 }", "Cl = { permeant = true }"),
     "species.Cl.charge"),
    ("same sides", GOOD.replace('outside = "ecs"', 'outside = "neuron"'), "membranes.soma"),
    ("event past duration", GOOD + '\n[[events]]\nat_s = 100.0\nset = { "mechanisms.pump.block_fraction" = 1.0 }\n',
     "at_s"),
    ("event unknown target", GOOD + '\n[[events]]\nat_s = 1.0\nset = { "mechanisms.pmp.block_fraction" = 1.0 }\n',
     "pmp"),
    ("event sets a bad value", GOOD + '\n[[events]]\nat_s = 0.005\nset = { "mechanisms.K_leak.permeability_cm_per_s" = -1.0 }\n',
     "events[0].set.mechanisms.K_leak.permeability_cm_per_s: -1 is outside its physical "
     "range [0, 0.01]"),
    ("wrong type", GOOD.replace("Na = 15.0, K", 'Na = "fifteen", K'), "concentrations_mM.Na"),
    ("not TOML", "this is [not toml", "not valid TOML"),
    ("empty file", "", "empty"),
]


@pytest.mark.parametrize("label,text,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_scenario_exit_2_one_line_nothing_written(tmp_path, capsys, label, text, needle):
    code, out = run_cli(tmp_path, text)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert "bad.toml" in err and needle in err, err
    assert not out.exists()


def test_missing_file(tmp_path, capsys):
    code, out = run_cli(tmp_path, None, name="nope.toml")
    err = capsys.readouterr().err.strip()
    assert code == 2 and "nope.toml" in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("item,needle", [
    ("scenario.seed", "KEY=VALUE"),
    ("scenario.seed=__import__('os')", "not a TOML literal"),
    ("mechanisms.nothere.block_fraction=1", "no mechanism named"),
    ("mechanisms.pump.block_fraction=2.0", "physical range [0, 1]"),
    ("scenario.duration_s='long'", "not a number"),
])
def test_bad_set(tmp_path, capsys, item, needle):
    code, out = run_cli(tmp_path, GOOD, ["--set", item], name="good.toml")
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_set_overrides_and_drops_late_events(tmp_path, capsys):
    text = GOOD + '\n[[events]]\nat_s = 5.0\nset = { "mechanisms.pump.block_fraction" = 1.0 }\n'
    path = tmp_path / "s.toml"
    path.write_text(text)
    out = tmp_path / "out"
    code = main(["run", str(path), "-o", str(out), "--duration", "0.05", "--method", "ode",
                 "--set", "mechanisms.pump.fxyd_phosphorylated=0.5"])
    assert code == 0
    import json
    import tomllib

    man = json.loads((out / "manifest.json").read_text())
    assert man["events_dropped"] and any(re.search("dropped", w) for w in man["warnings"])
    resolved = tomllib.loads((out / "scenario.toml").read_text())
    pump = [m for m in resolved["mechanisms"] if m["name"] == "pump"][0]
    assert pump["fxyd_phosphorylated"] == 0.5
    assert resolved["scenario"]["method"] == "ode"
    assert "dropped" in capsys.readouterr().err


def test_resolved_scenario_round_trips(tmp_path):
    from ionmc.scenario import load_scenario

    for name in ("resting_neuron", "pump_block", "spine_noise", "donnan"):
        sc = load_scenario(name)
        p = tmp_path / f"{name}.toml"
        p.write_text(sc.to_toml())
        assert load_scenario(p).data == sc.data


def test_mechanism_without_type_is_missing(tmp_path, capsys):
    """A [[mechanisms]] table without `type`: "missing (required)", as any required key,
    not "unknown mechanism type None"."""
    code, out = run_cli(tmp_path, GOOD.replace('type = "leak"\n', "", 1))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "mechanisms.K_leak.type: missing (required" in err and "None" not in err, err
    assert not out.exists()


@pytest.mark.parametrize("text,needle", [
    (GOOD.replace("density_per_um2", "densty_per_um2"), "did you mean 'density_per_um2'?"),
    (GOOD.replace("seed = 1", "sed = 1"), "did you mean 'seed'?"),
    (GOOD.replace('type = "leak"', 'type = "leek"', 1), "did you mean 'leak'?"),
    (GOOD.replace("[species]", "[specie]"), "did you mean 'species'?"),
])
def test_misspelt_key_did_you_mean(tmp_path, capsys, text, needle):
    """An unknown key offers its nearest known one, on the same one line as the list."""
    code, _ = run_cli(tmp_path, text)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and needle in err, err


def test_python_overrides_are_not_called_set():
    """From Python no --set was used: an error names the override as "override KEY"; the
    command line passes its own label."""
    from ionmc import InputError, load_scenario

    for ov in (["mechanisms.pump.densty_per_um2=1"], [("scenario.seed", -1)]):
        with pytest.raises(InputError) as e:
            load_scenario("resting_neuron", ov)
        assert str(e.value).startswith("override "), str(e.value)
        assert "--set" not in str(e.value)


def test_cli_overrides_are_called_set(tmp_path, capsys):
    code, _ = run_cli(tmp_path, GOOD, ["--set", "mechanisms.pump.densty_per_um2=1"],
                      name="good.toml")
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--set mechanisms.pump.densty_per_um2=1" in err, err
    assert "did you mean 'density_per_um2'?" in err


def test_species_left_out_but_moved_is_a_warning(tmp_path, capsys):
    """Cl left out of the ecs (0 mM: legitimate, a Cl-free solution) while Cl_leak moves
    Cl across the soma: the run goes on, with one warning line saying so; the manifest
    keeps it. A species no mechanism moves across (X) is not mentioned."""
    text = GOOD.replace("Na = 145.0, K = 5.0, Cl = 120.0", "Na = 145.0, K = 5.0")
    assert text != GOOD
    code, out = run_cli(tmp_path, text, ["--method", "ode"], name="nocl.toml")
    err = capsys.readouterr().err
    assert code == 0, err
    want = "compartments.ecs: no Cl given (0 mM), yet Cl_leak moves Cl across soma"
    lines = [x for x in err.splitlines() if "given (0 mM)" in x]
    assert lines == [f"ionmc: warning: {want}"], err
    import json

    assert want in json.loads((out / "manifest.json").read_text())["warnings"]
    from ionmc.scenario import load_scenario

    assert not [w for w in load_scenario("resting_neuron").warnings if "given" in w]
