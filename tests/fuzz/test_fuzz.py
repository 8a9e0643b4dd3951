"""Fuzzing the CLI as a hostile user would (hypothesis, seeded): mutate built-in scenarios'
values and structure through `--set`, run each case under one method for a short
duration with a timeout, and hold every outcome to one of three:

- exit 0 with finite, non-negative output whose V is the counted charge's, and whose
  total charge is conserved where no bath, clamp or injection exchanges ions;
- exit 2 with one line naming a key, and nothing written;
- exit 1 with one line naming a mechanism and the time (a numerical failure);

never a traceback, a hang or a half-written OUTDIR. Of the mutations that stay inside the
declared physical ranges, at least 90% must run (exit 0). A tally of the outcomes goes to
results/fuzz/outcomes-N.json (N the number of cases).

Structure is broken too, as a hand-edited file breaks (a table or key removed, a key
misspelt, a reference to nothing, a duplicate, a table of the wrong kind, an unknown key):
half as many cases, tallied as "structure (...)".

`pytest tests/fuzz` runs IONMC_FUZZ_EXAMPLES cases (default 30, CI); `make fuzz` 300.
"""
import json
import os
import signal
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ionmc.constants import E_CHARGE
from ionmc.mechanisms.registry import REGISTRY
from ionmc.ranges import entry
from ionmc.scenario import builtin_dir, load_scenario
from ionmc.scenario.validate import MEMBRANE_KEYS

CLI = [sys.executable, "-m", "ionmc.cli"]
EXAMPLES = int(os.environ.get("IONMC_FUZZ_EXAMPLES", "30"))
ROOT = Path(__file__).resolve().parents[2]
#: built-ins that run in about a second at a short duration under every method
SCENARIOS = ("spine_noise", "donnan", "pump_block", "resting_neuron", "spine_calcium",
             "kidney_sglt", "firing_neuron", "current_step")
#: the exact method on the small cells only (a whole neuron is ~1e9 events/s)
METHODS = {"spine_noise": ("ssa", "tau-leap", "ode"), "spine_calcium": ("ssa", "tau-leap", "ode")}
DURATION = {"ssa": "0.001", "tau-leap": "0.02", "ode": "0.02"}
TALLY = Counter()
SAMPLES = {}


def _targets(name):
    """(dotted key, range, the built-in's value) of every numeric value with a range."""
    d = load_scenario(name).data
    raw = tomllib.loads((builtin_dir() / f"{name}.toml").read_text())["mechanisms"]
    out = []
    for m, spec in d["membranes"].items():
        for k, e in MEMBRANE_KEYS.items():
            if len(e) > 2 and spec.get(k) is not None and k != "clamp_mV":
                out.append((f"membranes.{m}.{k}", e[2], float(spec[k])))
    for mech, written in zip(d["mechanisms"], raw):
        mod = REGISTRY[mech["type"]]
        for k, e in mod.PARAMS.items():
            rng = entry(e)[2]
            # a required key the file leaves out was filled by its type (a preset's, or
            # the other conduction's 0): not the user's to vary
            filled = k not in written and entry(e)[0] is None
            if rng is not None and isinstance(mech.get(k), float) and not filled:
                out.append((f"mechanisms.{mech['name']}.{k}", rng, mech[k]))
    return out


@st.composite
def cases(draw):
    """A built-in, a method, and 1-3 distinct keys set to: a value inside the key's range
    (the built-in's value times 10^U(-2, 2), clipped into the range: what a modeller
    exploring might try), a value outside it, or text of the wrong kind."""
    name = draw(st.sampled_from(SCENARIOS))
    method = draw(st.sampled_from(METHODS.get(name, ("tau-leap", "ode"))))
    targets = _targets(name)
    chosen = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3,
                           unique_by=lambda t: t[0]))
    sets, inside = [], True
    for key, rng, base in chosen:
        kind = draw(st.sampled_from(["in", "in", "in", "in", "out", "junk"]))
        if kind == "in":
            v = (base if base != 0 else rng.hi * 1e-3) * 10 ** draw(st.floats(-2.0, 2.0))
            v = min(max(v, rng.lo), rng.hi)
            if not rng.admits(v):
                v = base if rng.admits(base) else rng.hi
            text = repr(float(v))
        elif kind == "out":
            inside = False
            text = repr(draw(st.sampled_from([rng.hi * 10 + 1, -abs(rng.hi) - 1, 1e300,
                                              -1e300])))
        else:
            inside = False
            text = draw(st.sampled_from(['"ten"', "[1, 2]", "nan", "inf", "true",
                                         "{ a = 1 }", "1 2", "1e", '""']))
        sets.append(f"{key}={text}")
    return name, method, sets, inside


def _check_output(out, method):
    ts = out / "timeseries"
    df = pd.read_parquet(ts)
    assert len(df) > 0
    for c in df.columns:
        v = df[c].to_numpy()
        if v.dtype.kind == "f":
            bad = ~np.isfinite(v)
            if c.endswith("current_pA"):
                bad &= df["time_s"].to_numpy() != 0.0
            assert not bad.any(), f"{c} not finite"
        if c.endswith(".count"):
            assert (v >= 0).all(), f"{c} negative"
    sc = load_scenario(out / "scenario.toml")
    d = sc.data
    # charge is conserved where nothing exchanges ions with a reservoir (a bath, clamped
    # species) or injects them: the free ions' charge plus what the pumps hold
    open_system = any(c["bath"] or c["clamped_species"] for c in d["compartments"].values()) \
        or any(m["type"] == "injection" for m in d["mechanisms"])
    if not open_system:
        z = {s: d["species"][s]["charge"] for s in d["species"]}
        Q = sum(z[s] * df[f"{c}.{s}.count"].to_numpy(float)
                for c in d["compartments"] for s in z)
        for col in df.columns:
            if col.endswith(".bound"):
                Q = Q + z[col.split(".")[-2]] * df[col].to_numpy(float)
        # ode: each count is rounded to an integer in the output
        tol = 0.0 if method != "ode" else 0.5 * len(d["compartments"]) * sum(
            abs(v) for v in z.values())
        assert np.abs(Q - Q[0]).max() <= tol, "charge not conserved"
    if method == "ode":  # counts are rounded there: V is the float state's
        return
    # V is the counted charge's on every free membrane (charge bookkeeping intact)
    for m, spec in d["membranes"].items():
        if spec["clamp_mV"] is not None or d["compartments"][spec["inside"]]["bath"]:
            continue
        q = sum(d["species"][s]["charge"] * df[f"{spec['inside']}.{s}.count"].to_numpy()
                for s in d["species"])
        # and the ions a pump on this membrane holds: all counted on the inside of the field
        # (nka_cycle.STATE_CHARGE is the bound Na+ plus the bound K+ of each state)
        for mech in d["mechanisms"]:
            if mech.get("membrane") == m:
                for s in d["species"]:
                    col = f"{mech['name']}.{s}.bound"
                    if col in df.columns:
                        q = q + d["species"][s]["charge"] * df[col].to_numpy()
        C = spec["capacitance_uF_per_cm2"] * 1e-2 * spec["area_um2"] * 1e-12
        np.testing.assert_allclose(df[f"{m}.V_mV"].to_numpy(), q * E_CHARGE / C * 1e3,
                                   rtol=1e-6, atol=1e-6)


def _outcome(args, out, method, cat):
    """Run the CLI with `args` (90 s timeout) and hold its outcome to one of three; tally
    it under `cat` (plus the exit code)."""
    # exact runs capped at ~2 s of events (more is refused with exit 2, as a whole cell
    # under ssa is by default at 2e9)
    env = dict(os.environ, IONMC_MAX_SSA_EVENTS="2e7")
    p = subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        _, stderr = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the run and any worker it started
        p.communicate()
        TALLY["hang"] += 1
        pytest.fail(f"hang: {args}")
    res = subprocess.CompletedProcess(args, p.returncode, "", stderr)
    err = res.stderr.strip().splitlines()
    # warnings, and what a run in a pipe says about its progress, are not its outcome
    err = [e for e in err if not e.startswith(("ionmc: warning:", "ionmc: compiling",
                                               "ionmc: running", "ionmc: finished"))]
    assert "Traceback" not in res.stderr, (args, res.stderr)
    cat = f"{cat} exit {res.returncode}"
    TALLY[cat] += 1
    if len(SAMPLES.setdefault(cat, [])) < 8:  # what each outcome looked like
        # paths relative to the case's temporary directory, so that the committed record
        # does not change from one run to the next
        tmp = f"{out.parent}{os.sep}"
        SAMPLES[cat].append({"case": " ".join(args[1:]).replace(tmp, ""),
                             "stderr": (err[0] if err else "").replace(tmp, "")})
    if res.returncode == 0:
        _check_output(out, method)
    elif res.returncode == 2:
        assert len(err) == 1 and err[0].startswith("ionmc: error: "), (args, res.stderr)
        assert not out.exists(), args
    elif res.returncode == 1:
        assert len(err) == 1 and "mechanism" in err[0] and "t = " in err[0], \
            (args, res.stderr)
    else:
        pytest.fail(f"exit {res.returncode}: {args}: {res.stderr}")


def _run_args(scenario, out, method):
    return ["run", str(scenario), "-o", str(out), "--method", method, "--duration",
            DURATION[method], "--replicates", "1"]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_every_case_ends_in_one_of_three_ways(tmp_path_factory, case):
    name, method, sets, inside = case
    out = tmp_path_factory.mktemp("fuzz") / "out"
    args = _run_args(name, out, method)
    for s in sets:
        args += ["--set", s]
    _outcome(args, out, method, "inside" if inside else "outside")


def _tables(d):
    """Every table of a scenario's TOML as a path of keys (lists' items by index)."""
    paths = []
    for top, v in d.items():
        if isinstance(v, dict):
            paths.append((top,))
            paths += [(top, k) for k, w in v.items() if isinstance(w, dict)]
        elif isinstance(v, list):
            paths += [(top, i) for i, w in enumerate(v) if isinstance(w, dict)]
    return paths


def _at(d, path):
    for k in path:
        d = d[k]
    return d


@st.composite
def structures(draw):
    """A built-in's TOML with its structure broken as a hand-edited file breaks: a table or
    key removed, a key misspelt, a reference to nothing, a mechanism duplicated, a table of
    the wrong kind, an unknown key."""
    name = draw(st.sampled_from(SCENARIOS))
    method = draw(st.sampled_from(METHODS.get(name, ("tau-leap", "ode"))))
    d = tomllib.loads((builtin_dir() / f"{name}.toml").read_text())
    path = draw(st.sampled_from(_tables(d)))
    table = _at(d, path)
    parent = _at(d, path[:-1])
    keys = sorted(table)
    how = draw(st.sampled_from(["drop table", "drop key", "misspell key", "dangling",
                                "duplicate", "wrong kind", "unknown key"]))
    if how == "drop table" or (how != "unknown key" and not keys):
        del parent[path[-1]]
        how = "drop table"
    elif how == "drop key":
        del table[draw(st.sampled_from(keys))]
    elif how == "misspell key":
        k = draw(st.sampled_from(keys))
        table[k[:-1] + ("x" if k[-1] != "x" else "y")] = table.pop(k)
    elif how == "dangling":
        refs = [k for k in ("membrane", "inside", "outside", "species", "compartment",
                            "balance_charge_with") if k in table]
        if refs:
            table[draw(st.sampled_from(refs))] = "nowhere"
        else:
            table["membrane"] = "nowhere"
    elif how == "duplicate":
        if isinstance(parent, list):
            parent.append(dict(table))
        else:
            parent[f"{path[-1]}_copy"] = dict(table)
    elif how == "wrong kind":
        parent[path[-1]] = draw(st.sampled_from([1, "text", [1, 2], True]))
    else:
        table["colour"] = 3
    return name, method, how, path, d


@settings(max_examples=max(EXAMPLES // 2, 1), deadline=None, derandomize=True,
          database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=structures())
def test_every_broken_structure_ends_in_one_of_three_ways(tmp_path_factory, case):
    import tomli_w

    name, method, how, path, d = case
    where = tmp_path_factory.mktemp("fuzz")
    scenario = where / f"{name}.toml"
    scenario.write_text(tomli_w.dumps(d))
    out = where / "out"
    _outcome(_run_args(scenario, out, method), out, method, f"structure ({how})")


def test_most_cases_inside_the_ranges_run():
    """Runs after the fuzz test (file order): of the in-range cases, >= 90% exit 0."""
    inside = {k: n for k, n in TALLY.items() if k.startswith("inside")}
    total = sum(inside.values())
    dest = ROOT / "results" / "fuzz"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"outcomes-{EXAMPLES}.json").write_text(json.dumps(
        {"examples": EXAMPLES, "outcomes": TALLY, "samples": SAMPLES}, indent=2) + "\n")
    if total < 5:
        pytest.skip("too few in-range cases drawn to judge")
    assert inside.get("inside exit 0", 0) >= 0.9 * total, TALLY
