"""The compiled model: a validated scenario as the flat arrays every method reads."""
from ionmc.model.compiled import Model, stoichiometric_basis

__all__ = ["Model", "stoichiometric_basis"]
