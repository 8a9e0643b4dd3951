"""The compiled model: a validated scenario as the flat arrays every method reads."""
from ionmc.model.compiled import Model

__all__ = ["Model"]
