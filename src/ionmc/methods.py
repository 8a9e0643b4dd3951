"""Methods chosen by name from one registry, all fed by the same compiled model."""
from .ode import ODE
from .ssa import SSA
from .tauleap import TauLeap

REGISTRY = {m.name: m for m in (SSA, TauLeap, ODE)}
