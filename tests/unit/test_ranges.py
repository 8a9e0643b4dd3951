"""Physical ranges (ionmc/ranges.py): every numeric key has one, the reference page is
current, and the sentinels and open ends mean what they say."""
import math
from pathlib import Path

import pytest

import ionmc.ranges as ranges
from ionmc.mechanisms.registry import REGISTRY
from ionmc.ranges import Range
from ionmc.scenario import builtins, load_scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "ranges.md"


def test_every_numeric_parameter_of_every_type_has_a_range():
    missing = []
    for t, mod in REGISTRY.items():
        types = getattr(mod, "PARAM_TYPES", {})
        for k, e in mod.PARAMS.items():
            numeric = k not in ("membrane", "species") and k not in types
            if numeric and e[0] != "" and ranges.entry(e)[2] is None:
                missing.append(f"{t}.{k}")
    assert not missing


def test_every_built_in_lies_inside_the_ranges():
    for name in builtins():
        load_scenario(name)  # raises InputError otherwise


def test_the_reference_page_is_current():
    assert DOC.read_text() == ranges.reference() + "\n", \
        "regenerate docs/ranges.md: python -c 'import ionmc.ranges as r; print(r.reference())'"


@pytest.mark.parametrize("rng,inside,outside", [
    (Range(0.0, 1.0), [0.0, 0.5, 1.0], [-1e-12, 1.0000001, math.nan, math.inf]),
    (Range(0.0, 1.0, open_lo=True), [1e-300, 1.0], [0.0, -1.0]),
    (Range(0.0, 10.0, unset=-1.0), [-1.0, 0.0, 10.0], [-0.5, -2.0, 11.0]),
])
def test_range_semantics(rng, inside, outside):
    assert all(rng.admits(v) for v in inside)
    assert not any(rng.admits(v) for v in outside)
