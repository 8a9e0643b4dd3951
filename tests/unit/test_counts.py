"""Initial amounts as counts, and scenarios with no membrane at all (pure chemistry)."""
import pytest

import ionmc
from ionmc.errors import InputError
from ionmc.scenario import validate


def _raw(**comp):
    return {"scenario": {"name": "chem", "duration_s": 0.1, "record_interval_s": 0.05,
                         "method": "ssa"},
            "species": {"A": {"charge": 0}, "B": {"charge": 0}},
            "compartments": {"cyto": {"volume_um3": 0.5, **comp}}}


def test_counts_are_the_initial_state_without_membranes():
    sc = validate(_raw(counts={"A": 7}, concentrations_mM={"B": 1.0}), "test")
    for method in ("ssa", "tau-leap", "ode"):
        df = ionmc.simulate(sc.with_overrides([("scenario.method", method)]))[0]
        assert df["cyto.A.count"].tolist() == [7, 7, 7]
        assert df["cyto.B.count"].iloc[0] == round(1.0 * 0.5 * 602214.076)  # ions per mM um^3


def test_unused_counts_leave_the_resolved_scenario_and_its_hash_alone():
    a, b = validate(_raw(), "t"), validate(_raw(counts={}), "t")
    assert "counts" not in a.data["compartments"]["cyto"]
    assert a.hash() == b.hash()


@pytest.mark.parametrize("comp,key", [
    (dict(counts={"A": 3}, concentrations_mM={"A": 1.0}), "compartments.cyto.counts.A"),
    (dict(counts={"A": -1}), "compartments.cyto.counts.A"),
    (dict(counts={"A": 1.5}), "compartments.cyto.counts.A"),
    (dict(counts={"C": 1}), "compartments.cyto.counts.C"),
])
def test_bad_counts_name_their_key(comp, key):
    with pytest.raises(InputError) as e:
        validate(_raw(**comp), "test")
    assert e.value.key == key
