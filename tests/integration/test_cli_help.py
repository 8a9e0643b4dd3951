"""A command line that helps: help text for every option, `ionmc list` and `ionmc show`,
`--set`'s values, and errors that point at what the user typed (an option, a directory, a
near-miss name, the keys an OUTDIR's run differs in). Nothing here simulates more than a
spine for 0.01 s."""
import argparse
import json
import re
import tomllib

import pytest

from ionmc.cli import METHODS, _parser, main
from ionmc.errors import InputError
from ionmc.scenario.load import builtin_summaries, builtins, parse_set
from ionmc.scenario.validate import METHODS as VALID_METHODS


def _subparsers():
    p = _parser()
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def test_every_option_of_every_subcommand_has_help():
    subs = _subparsers()
    assert set(subs) == {"run", "energetics", "report", "list", "show", "export"}
    for name, sp in subs.items():
        for action in sp._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 15, (name, action.dest)


def test_run_help_gives_units_and_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "{ssa,tau-leap,ode}" in text
    assert "--duration SECONDS" in text and "in seconds" in text
    assert "built-in scenario" in text and "ionmc show NAME" in text
    assert "root random seed" in text and "independent replicates" in text
    assert "-o OUTDIR" in text and "ionmc report OUTDIR" in text
    # the choices are the methods the validator knows, spelled the same
    assert METHODS == VALID_METHODS


def test_a_method_that_is_not_one_is_refused_by_its_choices(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["run", "spine_noise", "-o", str(tmp_path / "o"), "--method", "gillespie"])
    assert exc.value.code == 2
    assert "invalid choice: 'gillespie'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_list_shows_method_duration_and_description_from_each_file(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "method", "duration", "description"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == set(builtins())
    for name, info in builtin_summaries().items():
        sc = tomllib.loads(info["path"].read_text())["scenario"]
        m = re.match(r"(\S+)\s+(\S+)(?: x(\d+))?\s+(\S+) s  (.*)\Z", rows[name])
        assert m, rows[name]
        assert m[2] == sc.get("method", "tau-leap")
        assert int(m[3] or 1) == sc.get("replicates", 1)
        assert m[4] == f"{sc['duration_s']:g}"
        assert m[5] == sc["description"]  # whole, in a pipe
    assert "ssa x20" in rows["spine_noise"]  # an ensemble says how many


def test_show_prints_a_builtin_to_start_from(capsys, tmp_path):
    assert main(["show", "resting_neuron"]) == 0
    text = capsys.readouterr().out
    assert text == builtins()["resting_neuron"][0].read_text()  # comments included
    mine = tmp_path / "mine.toml"
    mine.write_text(text.replace("initial_potential_mV = -70.0", "initial_potential_mV = -65.0"))
    assert main(["energetics", str(mine), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["membranes"]["soma"]["V_mV"] == \
        pytest.approx(-65.0, abs=0.01)


def test_show_and_run_suggest_the_nearest_builtin(capsys, tmp_path):
    assert main(["show", "pump_blok"]) == 2
    assert main(["run", "pump_blok", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("did you mean 'pump_block'?" in e for e in err), err
    assert "resting_neuron" not in err[1]  # the near one, not all of them
    # nothing near: the list of all
    assert main(["run", "zzzzzz", "-o", str(tmp_path / "o")]) == 2
    assert "resting_neuron" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_directory_as_the_scenario_is_called_one(capsys, tmp_path):
    d = tmp_path / "scen"
    d.mkdir()
    assert main(["run", str(d), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a directory" in err[0] and str(d) in err[0]
    assert not (tmp_path / "o").exists()


def test_a_directory_named_like_a_builtin_does_not_hide_it(tmp_path, monkeypatch):
    from ionmc.scenario.load import resolve_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "spine_noise").mkdir()  # e.g. `ionmc run spine_noise -o spine_noise`
    assert resolve_path("spine_noise") == builtins()["spine_noise"][0]


@pytest.mark.parametrize("args,origin", [
    (["--set", "mechanisms.pump.block_fraction=2"], "--set mechanisms.pump.block_fraction=2"),
    (["--set", "compartments.neuron.concentrations_mM={Na = -1.0}"],
     "--set compartments.neuron.concentrations_mM={Na = -1.0}"),
    (["--seed", "-1"], "--seed -1"),
    (["--replicates", "0"], "--replicates 0"),
])
def test_errors_about_what_an_option_set_name_the_option(capsys, tmp_path, args, origin):
    out = tmp_path / "o"
    assert main(["run", "resting_neuron", "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ionmc: error: {origin}: "), err
    assert "/scenarios/" not in err[0]  # not the built-in's file: it never said so
    assert not out.exists()


def test_an_error_the_file_itself_has_still_names_the_file(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(builtins()["resting_neuron"][0].read_text().replace(
        "block_fraction = 0.0", "block_fraction = 2.0"))
    assert main(["energetics", str(bad), "--set", "scenario.temperature_K=300"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ionmc: error: {bad}: mechanisms.pump.block_fraction")


def test_set_takes_a_bare_word_as_text_and_nothing_after_a_value():
    assert parse_set("scenario.method=ode") == ("scenario.method", "ode")
    assert parse_set("scenario.method='ode'") == ("scenario.method", "ode")
    assert parse_set("x.y=1e-7") == ("x.y", 1e-7)
    assert parse_set("x.y=true") == ("x.y", True)
    assert parse_set("x.y=[1, 2]") == ("x.y", [1, 2])
    for bad in ("x.y=1 2", "x.y=ode tau", "x.y=1 # why", "x.y=__import__('os')",
                "x.y=[1] 2"):
        with pytest.raises(InputError):
            parse_set(bad)


def test_an_outdir_conflict_names_the_scenario_and_the_keys(capsys, tmp_path):
    out = tmp_path / "o"
    small = ["--duration", "0.01", "--replicates", "1"]
    assert main(["run", "spine_noise", "-o", str(out), *small]) == 0
    capsys.readouterr()
    assert main(["run", "spine_noise", "-o", str(out), *small, "--set",
                 "mechanisms.pump.block_fraction=0.5", "--set",
                 "scenario.temperature_K=300"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "OUTDIR holds a run of 'spine_noise'" in err[0]
    assert "mechanisms.pump.block_fraction 0.0 there, 0.5 here" in err[0]
    assert "scenario.temperature_K 310.0 there, 300.0 here" in err[0]
    assert "scenario_hash" not in err[0]
    assert main(["run", "resting_neuron", "-o", str(out), *small]) == 2
    err = capsys.readouterr().err
    assert "a run of 'spine_noise'" in err and "not 'resting_neuron'" in err


def test_a_membrane_without_initial_potential_is_warned_about(capsys, tmp_path):
    f = tmp_path / "no_v0.toml"
    f.write_text(builtins()["resting_neuron"][0].read_text().replace(
        "initial_potential_mV = -70.0", ""))
    assert main(["energetics", str(f)]) == 0  # and at 0 mV, no division by V
    cap = capsys.readouterr()
    warn = [line for line in cap.err.splitlines() if "initial_potential_mV" in line]
    assert len(warn) == 1 and "membranes.soma.initial_potential_mV not given" in warn[0]
    assert "starts at 0 mV" in warn[0]
    assert "membrane potential" in cap.out and " 0.00 mV" in cap.out
    # a file that gives it, or a clamped membrane, gets no such warning
    assert main(["energetics", "resting_neuron"]) == 0
    assert "initial_potential_mV" not in capsys.readouterr().err
