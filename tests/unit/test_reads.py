"""Every propensity reads only what its mechanism declares (`Mechanism.reads`).

The SSA's dependency graph recomputes, after a firing, the propensities that read what the
firing changed; tau-leap's implicit step differences each fast unknown's column through the
propensities that read it, and keeps the others (engine/implicit.py). A read a type does not
declare would leave a stale propensity in the first and a wrong derivative in the second,
silently. Checked here for every built-in (and the reduced pump, and an excitable tissue
with astrocytes), at the starting state and at a scattered one (every count 1 or more, so that
no propensity is zero for an empty source and hides a read): each count and each free
membrane's potential is moved on its own, and every propensity that changes must be one
that declares reading it.
"""
import numpy as np
import pytest

from ionmc.engine.kernels import all_propensities, voltages
from ionmc.mechanisms.tissue import tissue_scenario
from ionmc.model.compiled import Model
from ionmc.scenario import load_scenario, validate
from ionmc.scenario.load import builtins

from pumps import REDUCED, with_pump


def _tissue(_name):
    return validate(tissue_scenario(3, layout="chain", astrocyte=True, excitable=True,
                                    duration_s=1.0, record_interval_s=0.5, block_at_s=0.5),
                    "tissue")


CASES = [(name, load_scenario) for name in builtins()] + [
    ("resting_neuron", lambda n: with_pump(load_scenario(n), REDUCED)),
    ("anoxia", lambda n: with_pump(load_scenario(n), REDUCED)),
    ("tissue", _tissue)]


@pytest.mark.parametrize("state", ["start", "scattered"])
@pytest.mark.parametrize("name, make", CASES,
                         ids=[f"{n}-{k}" for k, (n, _) in enumerate(CASES)])
def test_a_propensity_changes_only_with_what_its_mechanism_declares_reading(name, make, state):
    model = Model(make(name))
    M = model.kernel_args()
    x = model.x0.astype(float)
    V = np.zeros(len(model.mems))
    voltages(model.x0.astype(np.int64), V, M)
    if state == "scattered":
        rng = np.random.default_rng(7)
        x = np.round(x * rng.uniform(0.5, 1.5, x.shape)) + 1.0
        V = V + np.where(model.mem_clamped, 0.0, rng.normal(0.0, 5e-3, V.shape))
    a0, a = np.zeros(model.nt), np.zeros(model.nt)
    all_propensities(x, V, a0, M)
    readers = {}
    for j in range(model.nt):
        for key in model.mechs[model.tr_mech[j]].reads(model, j):
            readers.setdefault((key[0], int(key[1])), set()).add(j)
    moves = [("x", i) for i in range(model.nx)] + \
        [("V", m) for m in range(len(model.mems)) if not model.mem_clamped[m]]
    for what, k in moves:
        xs, Vs = x.copy(), V.copy()
        if what == "x":
            xs[k] += max(1.0, 1e-3 * xs[k])
        else:
            Vs[k] += 1e-4
        all_propensities(xs, Vs, a, M)
        changed = set(np.nonzero(a != a0)[0].tolist())
        undeclared = changed - readers.get((what, k), set())
        assert not undeclared, (
            f"{name}: moving {what} {k} changed transitions "
            + ", ".join(f"{j} ({model.mechs[model.tr_mech[j]].name}, "
                        f"{model.mechs[model.tr_mech[j]].type})" for j in sorted(undeclared)[:5])
            + " that do not declare reading it")
