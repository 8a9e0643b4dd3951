"""Methods chosen by name from one registry, all fed by the same compiled model."""
from ionmc.engine.ode import ODE
from ionmc.engine.ssa import SSA
from ionmc.engine.tauleap import TauLeap

REGISTRY = {m.name: m for m in (SSA, TauLeap, ODE)}
