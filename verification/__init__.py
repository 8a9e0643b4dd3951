"""ionmc's verification suite (run `python -m verification`, or `make verify`)."""
import importlib
import pkgutil


def load_checks():
    """Import every checks_* module (each registers its checks with core.check)."""
    for m in sorted(pkgutil.iter_modules(__path__)):
        if m.name.startswith("checks_"):
            importlib.import_module(f"{__name__}.{m.name}")
