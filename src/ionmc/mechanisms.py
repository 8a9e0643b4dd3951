"""Registry of mechanism types: name -> module declaring PARAMS (defaults and units)."""
from . import activity, buffer, channels, cotransporter, coupling, injection, kir, leak, \
    metabolism, pump

REGISTRY = {m.TYPE: m for m in (leak, pump, metabolism, cotransporter, activity, buffer,
                                coupling, kir, channels, injection)}
