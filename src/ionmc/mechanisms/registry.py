"""Registry of mechanism types: name -> module declaring PARAMS (defaults and units)."""
from ionmc.mechanisms import activity
from ionmc.mechanisms import buffer
from ionmc.mechanisms import channels
from ionmc.mechanisms import cotransporter
from ionmc.mechanisms import coupling
from ionmc.mechanisms import injection
from ionmc.mechanisms import kir
from ionmc.mechanisms import leak
from ionmc.mechanisms import metabolism
from ionmc.mechanisms import pump

REGISTRY = {m.TYPE: m for m in (leak, pump, metabolism, cotransporter, activity, buffer,
                                coupling, kir, channels, injection)}
