"""The test scenario builder (tests/builder.py): what it builds is what its TOML says."""
import pytest

from ionmc.errors import InputError
from ionmc.scenario import load_scenario

from cells import BUFFER, calcium_cell, pump_cell, small_cell, two_boxes


@pytest.mark.parametrize("build", [
    lambda: small_cell(clamp=-60.0).event(0.1, **{"membranes.pm.clamp_mV": -30.0}),
    lambda: pump_cell(dg=-40.0).sweep(**{"mechanisms.pump.fxyd_phosphorylated": [0.0, 1.0]}),
    lambda: two_boxes(),  # no membrane at all
    lambda: calcium_cell([BUFFER(8e7, 0.4)], pool=(3.0, 0.05, 2.0), build=False),
], ids=["events", "sweep", "no membranes", "pool"])
def test_written_toml_reads_back_to_the_same_scenario(tmp_path, build):
    b = build()
    sc = b.build()
    again = load_scenario(b.write(tmp_path / "s.toml"))
    assert again.data == sc.data
    assert list(again.data["species"]) == list(sc.data["species"])
    assert [m["name"] for m in again.data["mechanisms"]] == \
        [m["name"] for m in sc.data["mechanisms"]]


def test_copies_are_independent_and_errors_name_the_source():
    a = small_cell()
    b = a.copy().scenario(method="ode").configure("K_leak", permeability_cm_per_s=1e-7)
    assert a.build().data["scenario"]["method"] == "ssa"
    assert b.build().mechanism("K_leak")["permeability_cm_per_s"] == 1e-7
    assert a.build().mechanism("K_leak")["permeability_cm_per_s"] == 5e-6
    with pytest.raises(InputError) as e:
        a.copy().drop("K_leak", "species").build("my-source")
    assert "my-source" in str(e.value) and "K_leak" in str(e.value)
