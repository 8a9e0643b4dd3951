"""Golden hashes: every built-in scenario's compiled model and its first SSA, tau-leap and
ode rows at a fixed seed, as digests recorded in tests/integration/golden.json.

A change of the code that should not change any number (a restructuring, a rename, a
faster kernel) keeps these bit-identical. A change that means to move numbers re-baselines
them on purpose, in a commit of its own that says why:

    python tests/integration/test_golden.py --rebaseline            # every scenario
    python tests/integration/test_golden.py --rebaseline pump_block # one

The model digest covers every array the methods read. Kind numbers enter only as a
partition (which transitions share a rate law, in order of first appearance), so kinds may
be renumbered without a re-baseline; the trajectories then check that each still dispatches
to the same rate law.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ionmc
from ionmc.scenario import builtins, load_scenario

GOLDEN = Path(__file__).with_name("golden.json")
#: how many SSA events the short exact run aims at (its duration is fixed in golden.json)
SSA_EVENTS = 3000
#: tau-leap and ode: this much of each run (or all of it), in 5 record intervals
SHORT_S = 0.05
#: whole runs (events, spike trains, pump blocks) under tau-leap and ode are kept where one
#: took less than this (s) when the baseline was made
FULL_BUDGET_S = 2.0


def _canonical_kinds(kinds):
    first = {}
    return np.array([first.setdefault(int(k), len(first)) for k in kinds], np.int64)


def _trim(a, empty):
    """Drop trailing columns that hold only `empty` (so widening the parameter table for a
    new mechanism type changes no digest)."""
    a = np.asarray(a)
    keep = a.shape[1]
    while keep > 0 and np.all(a[:, keep - 1] == empty):
        keep -= 1
    return a[:, :keep]


def _digest(parts):
    h = hashlib.sha256()
    for name, value in parts:
        h.update(name.encode())
        a = np.ascontiguousarray(value)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _law_numbered(model):
    """tr_ii with each user-written law's address (valid in this process only:
    expressions/native.py) replaced by the law's number in its mechanism."""
    ii = model.tr_ii.copy()
    for mech in model.mechs:
        addr = list(getattr(getattr(mech, "laws", None), "addr", []))
        for j in mech.transitions:
            if ii[j, 0] in addr:
                ii[j, 0] = addr.index(ii[j, 0])
    return ii


def model_digest(model):
    """Digest of the compiled model: layout, transitions, parameters, dependency graph."""
    return _digest([
        ("kinds", _canonical_kinds(model.tr_kind)),
        ("src", model.tr_src), ("mem", model.tr_mem), ("q", model.tr_q),
        ("qm", model.tr_qm.toarray()), ("hdv", model.tr_half_dv), ("rev", model.tr_rev),
        ("ledger_kind", model.tr_ledger),
        ("p", _trim(model.tr_p, 0.0)), ("ii", _trim(_law_numbered(model), -1)),
        ("st_ptr", model.st_ptr), ("st_idx", model.st_idx), ("st_del", model.st_del),
        ("stoich", model.stoich_full.toarray()),
        ("dep_ptr", model.dep_ptr), ("dep_idx", model.dep_idx),
        ("inv_nvol", model.inv_nvol), ("charge", model.charge), ("z", model.z),
        ("clamped", model.clamped),
        ("mem_start", model.mem_start), ("mem_C", model.mem_C),
        ("mem_clamped", model.mem_clamped), ("mem_vclamp", model.mem_vclamp),
        ("x0", model.x0),
    ])


def frame_digest(df):
    """Digest of a run's table: every column by name, values as stored."""
    parts = []
    for c in sorted(df.columns):
        v = df[c].to_numpy()
        if v.dtype == object:
            v = np.array([str(e) for e in v])
        parts.append((c, v))
    return _digest(parts)


def _short(name, method, duration):
    base = load_scenario(name)
    d = min(duration, base.data["scenario"]["duration_s"])
    return base.with_overrides([("scenario.method", method), ("scenario.seed", 7),
                                ("scenario.record_interval_s", d / 5)], duration=d)


def compute(name, ssa_duration, short_s=SHORT_S):
    from ionmc.model import Model

    out = {"model": model_digest(Model(load_scenario(name)))}
    df, info = ionmc.simulate(_short(name, "ssa", ssa_duration))
    out["ssa"] = frame_digest(df)
    out["ssa_events"] = int(info["method_events"])
    for method in ("tau-leap", "ode"):
        out[method] = frame_digest(ionmc.simulate(_short(name, method, short_s))[0])
    return out


def _short_s(name):
    """SHORT_S, or less for a built-in whose tau-leap run of SHORT_S would take more than
    ~2 s (a whole myocyte of ~1e12 ions: 1 ms is ~1e11 events); found once, then kept."""
    import time

    probe = 1e-4
    ionmc.simulate(_short(name, "tau-leap", probe))  # compiled and warm
    t0 = time.perf_counter()
    ionmc.simulate(_short(name, "tau-leap", probe))
    took = time.perf_counter() - t0
    if took * SHORT_S / probe <= 2.0:
        return SHORT_S
    return float(f"{max(probe * 2.0 / took, 1e-5):.1g}")


def _ssa_duration(name):
    """A duration that gives about SSA_EVENTS events (found once, then kept)."""
    d = 1e-7
    for _ in range(12):
        _, info = ionmc.simulate(_short(name, "ssa", d))
        n = info["method_events"]
        if SSA_EVENTS <= n <= 10 * SSA_EVENTS:
            break
        # up by 10 from few events; to the aim from many (a myocyte's 1e12 ions fire
        # ~1e14 events a second)
        d *= 10 if n < SSA_EVENTS / 10 else SSA_EVENTS / max(n, 1) * 1.2
        if d < 5e-9:  # its 5 records at the shortest record interval, 1 ns
            d = 5e-9
            break
    return float(f"{d:.3g}")


def full_digests(name, methods=("tau-leap", "ode")):
    """Whole runs, as the scenario gives them, under `methods`: digest and seconds."""
    import time

    out = {}
    for method in methods:
        sc = load_scenario(name).with_overrides([("scenario.method", method),
                                                 ("scenario.seed", 7),
                                                 ("scenario.replicates", 1)])
        t0 = time.perf_counter()
        df = ionmc.simulate(sc)[0]
        out[method] = (frame_digest(df), time.perf_counter() - t0)
    return out


def _golden():
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(builtins()))
def test_golden(name):
    want = _golden()[name]
    got = compute(name, want["ssa_duration_s"], want.get("short_s", SHORT_S))
    for key in ("model", "ssa_events", "ssa", "tau-leap", "ode"):
        assert got[key] == want[key], (
            f"{name}: {key} changed ({want[key]} -> {got[key]}); if the change is meant, "
            "re-baseline in a commit of its own (see this module's docstring)")


FULL = sorted((n, m) for n, v in (_golden() if GOLDEN.exists() else {}).items()
              for m in v.get("full", {}))


@pytest.mark.parametrize("name,method", FULL)
def test_golden_whole_run(name, method):
    got = full_digests(name, (method,))[method][0]
    want = _golden()[name]["full"][method]
    assert got == want, (f"{name} under {method}: whole run changed ({want} -> {got}); "
                         "re-baseline on purpose only (see this module's docstring)")


def test_every_builtin_has_a_baseline():
    assert sorted(_golden()) == sorted(builtins())


if __name__ == "__main__":
    if sys.argv[1:2] != ["--rebaseline"]:
        sys.exit(__doc__)
    names = sys.argv[2:] or sorted(builtins())
    table = _golden() if GOLDEN.exists() else {}
    for name in names:
        kept = table.get(name, {}).get("full")  # None for a new scenario
        d = table.get(name, {}).get("ssa_duration_s") or _ssa_duration(name)
        short = table[name].get("short_s", SHORT_S) if name in table else _short_s(name)
        table[name] = {"ssa_duration_s": d, **({"short_s": short} if short != SHORT_S else {}),
                       **compute(name, d, short)}
        # which whole runs are kept was found once (by their time then), and is kept: a
        # re-baseline on a busy machine must not drop some
        if kept is not None:
            table[name]["full"] = {m: h for m, (h, _) in full_digests(name, tuple(kept)).items()}
        else:
            # a scenario too slow for SHORT_S of tau-leap is far too slow for all of it
            methods = ("tau-leap", "ode") if short == SHORT_S else ("ode",)
            table[name]["full"] = {m: h for m, (h, sec) in full_digests(name, methods).items()
                                   if sec < FULL_BUDGET_S}
        print(name, table[name], flush=True)
    GOLDEN.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
