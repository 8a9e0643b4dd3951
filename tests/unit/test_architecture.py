"""The registry boundary: central code reaches mechanism types only through the registry.

The central packages (scenario, model, engine, thermo, runs, analysis) import no registered
type's module and name no registered type; what differs between types lives in the
types' own modules (docs/architecture.md).
"""
import ast
from pathlib import Path

import pytest

from ionmc.mechanisms.registry import KIND_BASE, REGISTRY, TYPES, kind_name

PKG = Path(__import__("ionmc").__file__).resolve().parent
CENTRAL = ("scenario", "model", "engine", "thermo", "runs", "analysis")
TYPE_MODULES = {m.__name__ for m in TYPES}


def _central_files():
    return sorted(f for p in CENTRAL for f in (PKG / p).rglob("*.py"))


@pytest.mark.parametrize("path", _central_files(), ids=lambda p: str(p.relative_to(PKG)))
def test_central_code_imports_no_type_module(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            names = {a.name for a in node.names}
        else:
            continue
        assert not names & TYPE_MODULES, f"{path.name} imports {names & TYPE_MODULES}"


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_central_code_names_no_type(type_name):
    """No string literal in central code is a registered type's name."""
    for path in _central_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == type_name:
                raise AssertionError(f"{path.relative_to(PKG)}:{node.lineno} names "
                                     f"{type_name!r}")


def test_every_type_declares_its_interface():
    for mod in TYPES:
        for attr in ("TYPE", "PARAMS", "KINDS", "check", "MECHANISM"):
            assert hasattr(mod, attr), f"{mod.__name__} lacks {attr}"
        if mod.KINDS:
            assert hasattr(mod, "propensity"), f"{mod.__name__} has kinds but no propensity"


def test_kinds_are_numbered_contiguously_in_registry_order():
    n = 0
    for mod in TYPES:
        assert KIND_BASE[mod.TYPE] == mod.KIND0 == n
        n += len(mod.KINDS)
        assert mod.KIND1 == n
    assert kind_name(KIND_BASE["leak"] + 1) == "leak.in"
